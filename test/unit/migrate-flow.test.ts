// mreg storage migrate's run over the in-memory host (issue 14): the dry run's `plan`, and a run's steps in
// that order, handed on to up's step log; the scratch folder's step line the last before the copy. The
// blobs are a real folder and the bucket fake-s3.ts (rootful: read in place); up is its own suite's.
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CommandContext } from '../../src/cli.js';
import type { UpHooks } from '../../src/commands/up.js';
import { parseRecord } from '../../src/install-spec/record.js';
import { createOutput } from '../../src/ui/output.js';
import { createFakeHost, fakeContext, recordFile, writeRecordBeforeLock } from '../support/fake-host.js';
import { startFakeS3 } from '../support/fake-s3.js';
import { probe as rootless, ROOT, runningInstall, UNITS } from '../support/running-install.js';

const probe = { ...rootless, scope: 'rootful' as const };
const RECORD = `${ROOT}/mreg-install.json`;
const UP_SAMPLE = ['write:/etc/containers/systemd/quay-app.container', 'health', 'record'];

async function setUp(t: Test, hostOpts: { failAtCall?: number } = {}) {
  const dir = t.testdir({ blobs: {} });
  const blobs = join(dir, 'blobs');
  mkdirSync(join(blobs, 'sha256/2c'), { recursive: true });
  writeFileSync(join(blobs, 'sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'), 'hello');
  const creds = join(dir, 's3.ini');
  writeFileSync(creds, '[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n');
  chmodSync(creds, 0o600);
  const s3 = await startFakeS3('AK', ['quay-blobs']);
  t.teardown(() => s3.close());
  const state = runningInstall({ quayStorage: { kind: 'path', path: blobs } });
  const record = parseRecord(state.files[RECORD]!.content, RECORD);
  state.files[RECORD] = recordFile({ ...record, spec: { ...record.spec, scope: 'rootful' } });
  let host = createFakeHost({ probe, state, ...hostOpts });
  const stderr: string[] = [];
  const stdout: string[] = [];
  /** storage migrate --verbose with `flags`, with --json or not: what it printed. */
  const run = async (flags: Record<string, unknown>, json = true) => {
    const c = fakeContext(host, { quayRoot: ROOT, to: 's3://quay-blobs/mirror', s3Endpoint: s3.endpoint, s3CredentialsFile: creds, ...flags }, { json });
    const sink = (to: string[]) => new Writable({ write(chunk, _e, cb) { to.push(String(chunk)); cb(); } });
    await (await loadStorage(t))({ ...c.ctx, args: ['migrate'], out: createOutput({ json, verbose: true, color: false, env: {}, stderr: sink(stderr), stdout: sink(stdout) }) });
    return { stderr: stderr.join(''), stdout: stdout.join('') };
  };
  /** The same host's state under a fake host without the injected failure: the next run after a kill. */
  const restart = () => { host = createFakeHost({ probe, state: host.state }); return host; };
  return { get host() { return host; }, s3, run, creds, restart };
}

/** storage.ts with up standing in: it continues migrate's log with three of its steps and reports it, as up's --json does. */
async function loadStorage(t: Test) {
  const mod = await t.mockImport<typeof import('../../src/commands/storage.js')>('../../src/commands/storage.js', {
    '../../src/commands/up.js': {
      up: async (ctx: CommandContext, hooks: UpHooks) => { hooks.log!.did(...UP_SAMPLE); ctx.out.resultJson({ steps: hooks.log!.ran }); },
    },
  });
  return mod.storage;
}

interface Result { steps?: string[]; plan?: { id: string; text: string }[]; toCopy?: number }

t.test('--dry-run --json: the plan ({id, text}) of migrateSteps, and nothing copied', async t => {
  const { host, s3, run } = await setUp(t);
  const result = JSON.parse((await run({ dryRun: true })).stdout) as Result;
  t.same(result.plan?.map(s => s.id), ['object-storage', 'compare-bucket', 'migrate-scratch', 'copy-blobs', 'stop-unit:quay-app.service', 'copy-changed', 'record-bucket', 'up']);
  t.match(result.plan?.[3]?.text, /^copy those files into s3:\/\/quay-blobs\/mirror/);
  t.equal(result.toCopy, 1, 'the one blob to copy');
  t.same(s3.log.filter(l => !/^(HEAD|GET) /.test(l)), [], 'only reads of the bucket: no blob, no test object');
  t.same(host.calls, [], 'no change on the host');
});

t.test('--dry-run with --s3CreateBucket and no bucket: says the run creates it, and does not', async t => {
  const { host, s3, run } = await setUp(t);
  const { stderr, stdout } = await run({ dryRun: true, to: 's3://new-blobs/mirror', s3CreateBucket: true }, false);
  t.match(stderr, '    bucket new-blobs does not exist; the migrate creates it (--s3CreateBucket)\n');
  t.match(stdout, /^mreg storage migrate --dry-run: .*; nothing changed\n$/);
  t.notOk(s3.buckets.has('new-blobs'), 'no bucket made');
  t.same(s3.log.filter(l => !/^(HEAD|GET) /.test(l)), [], 'only reads');
  t.same(host.calls, [], 'no change on the host');
});

t.test('a run: the plan\'s steps in its order, then up\'s in the same log', async t => {
  const plan = (JSON.parse((await (await setUp(t)).run({ dryRun: true })).stdout) as Result).plan!.map(s => s.id);
  const { host, s3, run } = await setUp(t);
  const result = JSON.parse((await run({})).stdout) as Result;
  t.same(result.steps, [...plan.slice(0, -1), ...UP_SAMPLE], 'migrate\'s steps as the dry run listed them, then up\'s in place of `up`');
  t.ok(s3.objects.get('quay-blobs/mirror/sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'), 'the blob is in the bucket');
  t.match(parseRecord(host.state.files[RECORD]!.content, RECORD).spec.quayStorage, { kind: 's3', bucket: 'quay-blobs' }, 'the record names the bucket');
  const scratch = `${ROOT}/migrate-scratch`;
  t.same(host.calls, [`write ${RECORD}`, `removeTree ${scratch}`, `makeDir ${scratch}`, `stopUnit ${UNITS[0]}`, `write ${RECORD}`, `removeTree ${scratch}`],
    'the record names the target, the scratch reset, quay-app stopped for the last pass, the record switched, the scratch gone; quay-app\'s start is up\'s');
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('without --json: "step migrate-scratch" is the last line before the copy begins', async t => {
  const { run } = await setUp(t);
  const { stderr } = await run({}, false);
  t.match(stderr, 'step migrate-scratch\n==> copy the blobs (the registry keeps serving)\n', 'the kill point, then the copy\'s label');
});

t.test('a record another mreg wrote between migrate\'s read and its lock: refused, nothing copied or changed', async t => {
  const { host, s3, run } = await setUp(t);
  writeRecordBeforeLock(host, RECORD, '2026-12-05T23:59:00.000Z');
  await t.rejects(run({}), { message: /the install record in .* changed while this mreg was reading it/, hint: /^run mreg storage migrate again/ });
  t.same([...s3.objects.keys()].filter(k => !k.includes('mreg-check')), [], 'no blob copied');
  t.same(host.calls, [], 'no change on the host');
  t.match(parseRecord(host.state.files[RECORD]!.content, RECORD), { updatedAt: '2026-12-05T23:59:00.000Z', spec: { quayStorage: { kind: 'path' } } }, 'the other mreg\'s record kept');
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('killed after the record switched to the bucket: the same command finishes with up, copies nothing', async t => {
  const { host, s3, run } = await setUp(t);
  const record = parseRecord(host.state.files[RECORD]!.content, RECORD);
  const endpoint = new URL(s3.endpoint).origin;
  host.state.files[RECORD] = recordFile({ ...record, migratedFrom: record.spec.quayStorage as never,
    spec: { ...record.spec, quayStorage: { kind: 's3', bucket: 'quay-blobs', prefix: 'mirror', endpoint, credentialsFile: '/root/s3.ini' } } });
  const { stderr } = await run({}, false);
  t.match(stderr, /the blobs are in s3:\/\/quay-blobs\/mirror at .* already \(an earlier run switched the install to it\); finishing with mreg up/);
  t.same(s3.log.filter(l => /^PUT /.test(l)), [], 'nothing copied');
  t.ok(host.calls.includes(`removeTree ${ROOT}/migrate-scratch`), 'the scratch folder goes');
  t.match(stderr, /step health\n/, 'up ran');
  const other = await run({ to: 's3://quay-blobs/other' }).then(() => undefined, (e: unknown) => e);
  t.match(other, { name: 'UsageError', message: /keeps its blobs in s3:\/\/quay-blobs\/mirror/, hint: /if Quay is not running on it, run mreg up/ }, 'another bucket: refused, naming up');
});

t.test('--cleanup: a local blob missing from the bucket that no image uses any more (Quay deleted it) does not block; one still used does', async t => {
  const { host, s3, run, creds } = await setUp(t);
  const record = parseRecord(host.state.files[RECORD]!.content, RECORD);
  const endpoint = new URL(s3.endpoint).origin;
  const digest = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
  const switched = recordFile({ ...record, migratedFrom: record.spec.quayStorage as never,
    spec: { ...record.spec, quayStorage: { kind: 's3', bucket: 'quay-blobs', prefix: 'mirror', endpoint, credentialsFile: creds } } });
  // The fake host's look at the folder (the blobs themselves are a real folder planCopy reads).
  host.state.dirs[(record.spec.quayStorage as { path: string }).path] = { mode: 0o755, uid: 0, gid: 0 };
  const podman = host.podman.bind(host);
  const asked: string[] = [];
  const answer = { stdout: '' };
  host.podman = () => ({ ...podman(), exec: async (_c: string, _argv: string[], o?: { input?: string }) => { asked.push(o?.input ?? ''); return { stdout: answer.stdout, stderr: '' }; } });

  answer.stdout = `${digest}\n`;
  host.state.files[RECORD] = switched;
  const used = await run({ cleanup: true, to: undefined, s3Endpoint: undefined, s3CredentialsFile: undefined }, false).then(() => undefined, (e: unknown) => e);
  t.match(used, { name: 'HostError', message: /^1 blobs of .* that Quay's database still names are not in s3:\/\/quay-blobs\/mirror .*; nothing was deleted$/ });
  t.match(asked[0], new RegExp(`content_checksum IN \\('${digest}'\\)`), 'the database was asked about the missing blob');
  t.equal(host.state.files[RECORD], switched, 'the record is unchanged');

  answer.stdout = '';
  const { stdout, stderr } = await run({ cleanup: true, to: undefined, s3Endpoint: undefined, s3CredentialsFile: undefined }, false);
  t.match(stderr, /1 blobs of the local copy are not in the bucket and no image uses them any more/);
  t.match(stdout, /stays as it is \(mreg did not create it\)/, 'a folder mreg did not make is kept, and the line says so (not "deleted")');
  t.notOk(parseRecord(host.state.files[RECORD]!.content, RECORD).migratedFrom, 'the record no longer names a local copy');
});

t.test('a blob above the multipart threshold (MREG_TEST_MULTIPART_BYTES) goes in parts, where one PUT is refused', async t => {
  const { host, s3, run } = await setUp(t);
  const before = process.env['MREG_TEST_MULTIPART_BYTES'];
  process.env['MREG_TEST_MULTIPART_BYTES'] = String(1024 ** 2);
  t.teardown(() => { if (before === undefined) delete process.env['MREG_TEST_MULTIPART_BYTES']; else process.env['MREG_TEST_MULTIPART_BYTES'] = before; });
  s3.maxPut = 1024 ** 2; // RGW with rgw_max_put_size lowered
  const blobs = (parseRecord(host.state.files[RECORD]!.content, RECORD).spec.quayStorage as { path: string }).path;
  const big = randomBytes(3 * 1024 ** 2);
  const digest = createHash('sha256').update(big).digest('hex');
  mkdirSync(join(blobs, 'sha256', digest.slice(0, 2)), { recursive: true });
  writeFileSync(join(blobs, 'sha256', digest.slice(0, 2), digest), big);
  t.equal((JSON.parse((await run({ dryRun: true })).stdout) as Result).toCopy, 2, 'the dry run counts it, as any blob');
  await run({});
  t.same(s3.objects.get(`quay-blobs/mirror/sha256/${digest.slice(0, 2)}/${digest}`), big, 'it arrived whole');
  t.equal(s3.log.filter(l => l.includes(digest) && /[?&]partNumber=/.test(l)).length, 3, 'in three parts');
  t.equal(s3.uploads.size, 0, 'no upload left in progress');
});

t.test('killed at each of its changes, then run again: the blobs in the bucket, the record on it, up run, no scratch left', async t => {
  const whole = await setUp(t);
  await whole.run({});
  const changes = whole.host.calls.length;
  let killedRuns = 0;
  for (let n = 1; n <= changes; n++) {
    const m = await setUp(t, { failAtCall: n });
    const err = await m.run({}).then(() => undefined, (e: unknown) => e);
    const at = err instanceof Error ? /injected failure at (.*)$/m.exec(err.message)?.[1] : undefined;
    if (at === undefined) { t.fail(`killed at change ${n}: migrate should stop there`, { err }); continue; }
    killedRuns++;
    const again = m.restart();
    const rerun = await m.run({}).then(r => r, (e: unknown) => e);
    if (rerun instanceof Error) { t.fail(`killed at change ${n} (${at}): the same migrate again should finish`, { err: rerun }); continue; }
    t.ok(m.s3.objects.get('quay-blobs/mirror/sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'), `killed at change ${n} (${at}): the blob is in the bucket`);
    t.match(parseRecord(again.state.files[RECORD]!.content, RECORD).spec.quayStorage, { kind: 's3', bucket: 'quay-blobs', prefix: 'mirror' }, `killed at change ${n}: the record names the bucket`);
    t.match((rerun as { stdout: string }).stdout, '"health"', `killed at change ${n}: up ran`);
    t.notOk(Object.keys(again.state.files).some(p => p.startsWith(`${ROOT}/migrate-scratch/`)) || again.state.dirs[`${ROOT}/migrate-scratch`], `killed at change ${n}: no scratch left`);
    t.notOk(again.isLocked(), `killed at change ${n}: the lock is given back`);
  }
  t.equal(killedRuns, changes, `killed at each of its ${changes} changes`);
});
