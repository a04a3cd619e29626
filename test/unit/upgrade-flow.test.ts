// mreg upgrade's run over the in-memory host (issue 14): the switch to a new Quay image, the re-run,
// the rollback and the resume of an interrupted run, as mreg's own control flow. Whether podman, Quadlet
// and Quay really behave so is the VM suite's; these prove in milliseconds which calls mreg makes, in what order.
import t, { type Test } from 'tap';
import { HostError, UnitFailedError } from '../../src/errors.js';
import { parseRecord, type InstallRecord } from '../../src/install-spec/record.js';
import { resolveSecrets } from '../../src/apply/secrets-step.js';
import { plan as makePlan } from '../../src/plan/plan.js';
import { upgradeSpec } from '../../src/upgrade/spec.js';
import { DUMP_BOUND_SQL } from '../../src/apply/db-snapshot.js';
import { createFakeHost, fakeContext, recordFile, type FakeHost, type FakeHostOptions, type FakeHostState } from '../support/fake-host.js';
import { fakeFsMocks } from '../support/fake-fs.js';
import { HOME, probe, QD, ROOT, runningInstall, SECRETS } from '../support/running-install.js';

const V1 = { quay: 'localhost/mreg-test/quay:v1', postgres: 'localhost/mreg-test/postgres:15', redis: 'localhost/mreg-test/redis:7' };
const V2 = 'localhost/mreg-test/quay:v2';
const R2 = 'localhost/mreg-test/redis:8';
const RECORD = `${ROOT}/mreg-install.json`;
const APP = `${QD}/quay-app.container`;
const REDIS = `${QD}/quay-redis.container`;
const SNAP = `${ROOT}/db-snapshot`;
const DUMP = `${SNAP}/quay.dump`;
const SECRET_VALUES = Object.fromEntries(SECRETS.map(n => [n, `value-of-${n}`]));

/** runningInstall() on v1, with every planned file as mreg up renders it, so only a new image changes one. */
function installed(): FakeHostState {
  const state = runningInstall();
  const record = parseRecord(state.files[RECORD]!.content, RECORD);
  const onV1: InstallRecord = { ...record, spec: { ...record.spec, images: V1 } };
  state.files[RECORD] = recordFile(onV1);
  const { secrets } = resolveSecrets(new Map(Object.entries(SECRET_VALUES)), '');
  for (const f of makePlan(upgradeSpec(onV1, {}, HOME), probe, secrets).files) state.files[f.path] = { content: f.content, mode: f.mode };
  return state;
}

function fakeHost(state: FakeHostState, opts: Partial<FakeHostOptions> = {}): FakeHost {
  return createFakeHost({ probe, state, images: [...Object.values(V1), V2, R2], secretValues: SECRET_VALUES,
    quadletDryRun: { ok: true, output: '', units: {} }, ...opts });
}

/**
 * upgrade with every module of its run that reads or writes the disk itself (config.yaml, credentials, the
 * CA, the dump, the record) on the fake host's files. Each is mocked by name: tap's mocks do not reach
 * past a mocked module's own imports here, as @tapjs/mock cannot resolve a '.js' specifier of a '.ts' file.
 */
async function loadUpgrade(t: Test, host: FakeHost): Promise<typeof import('../../src/commands/upgrade.js').upgrade> {
  const fs = fakeFsMocks(host, HOME);
  const on = (module: string, more: Record<string, object> = {}) => t.mockImport<object>(module, { ...fs, ...more });
  const dbSnapshot = await on('../../src/apply/db-snapshot.js');
  const mod = await t.mockImport<typeof import('../../src/commands/upgrade.js')>('../../src/commands/upgrade.js', {
    ...fs,
    '../../src/apply/kept-config.js': await on('../../src/apply/kept-config.js'),
    '../../src/apply/health-ca.js': await on('../../src/apply/health-ca.js'),
    '../../src/apply/units-step.js': await on('../../src/apply/units-step.js'),
    '../../src/apply/existing-secrets.js': await on('../../src/apply/existing-secrets.js', { '../../src/apply/credentials.js': await on('../../src/apply/credentials.js') }),
    '../../src/apply/db-snapshot.js': dbSnapshot,
    '../../src/upgrade/switch.js': await on('../../src/upgrade/switch.js', { '../../src/apply/db-snapshot.js': dbSnapshot }),
  });
  return mod.upgrade;
}

const recordedQuay = (host: FakeHost) => parseRecord(host.state.files[RECORD]!.content, RECORD).spec.images.quay;

/** The dump of the database while v1 still serves: upgrade/switch.ts takes it before any file is written. */
const TAKE_DUMP = [
  `exec quay-postgres psql --no-psqlrc -tA --dbname=quay -c ${DUMP_BOUND_SQL}`,
  `makeDir ${SNAP}`,
  `remove ${DUMP}.json`,
  `remove ${DUMP}.partial`,
  `execToFile quay-postgres pg_dump --format=custom --dbname=quay > ${DUMP}.partial`,
  `write ${DUMP}.json`,
];
const WRITE_APP = [`makeDir ${QD}`, `write ${APP}`];
/** A healthy upgrade's calls, in order. */
const UPGRADED = ['probe', ...TAKE_DUMP, ...WRITE_APP, 'reload', 'restartUnit quay-app.service', `write ${RECORD}`];
/** The rollback with the database: quay-app stopped before the dump goes back, so it cannot migrate again meanwhile. */
const ROLLED_BACK = [
  'probe', ...TAKE_DUMP, ...WRITE_APP, 'reload', 'restartUnit quay-app.service',
  // The executor's stop: the job, then the unit's failed state cleared (a crash-looped v2 may have left it).
  ...WRITE_APP, 'reload', 'stopUnit quay-app.service', 'resetFailed quay-app.service',
  'exec quay-postgres psql --no-psqlrc --set ON_ERROR_STOP=1 --dbname=postgres',
  `execFromFile quay-postgres pg_restore --exit-on-error --dbname=quay_restoring < ${DUMP}`,
  'exec quay-postgres psql --no-psqlrc --set ON_ERROR_STOP=1 --dbname=postgres',
  // The database is the dump's again: its description goes, so no later upgrade takes it for its own.
  `remove ${DUMP}.json`,
  'restartUnit quay-app.service',
];
const TIMED_OUT = 'https://registry.example.com:8443/health/instance did not answer 200 within 600 s (last: HTTP 502)';

/** Every file but the dump's, which a rollback keeps for the user. */
const withoutDump = (files: FakeHostState['files']) => Object.fromEntries(Object.entries(files).filter(([p]) => !p.startsWith(`${SNAP}/`)));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => { throw new Error('upgrade resolved; it should have failed'); }, (e: unknown) => e);
}

t.test('a new Quay image: the dump, quay-app.container, one reload, quay-app alone restarted, then the record; --json steps are the dry run\'s plan', async t => {
  const state = installed();
  const host = fakeHost(state);
  const upgrade = await loadUpgrade(t, host);
  const dry = fakeContext(host, { quayImage: V2, dryRun: true }, { json: true });
  await upgrade(dry.ctx);
  const plan = (JSON.parse(dry.stdout()) as { plan: { id: string }[] }).plan.map(s => s.id);
  t.same(host.calls, ['probe'], 'the dry run changes nothing');
  host.calls.length = 0;

  const run = fakeContext(host, { quayImage: V2 }, { json: true });
  await upgrade(run.ctx);
  const result = JSON.parse(run.stdout()) as { steps: string[]; restarted: string[]; changed: string[]; rolledBack: boolean; dbSnapshot: string };
  t.same(result.steps, plan, 'the steps taken are the steps the dry run listed, in its order');
  t.match(result, { changed: [APP], restarted: ['quay-app.service'], rolledBack: false, dbSnapshot: DUMP }, 'one file changed, one unit restarted');
  t.same(host.calls, UPGRADED, 'the dump before any file, then write → reload → restart quay-app only → record; postgres, redis and the pod untouched');
  t.match(host.state.files[APP]!.content, `Image=${V2}\n`, 'quay-app.container names v2');
  t.equal(recordedQuay(host), V2, 'the record names v2');
  t.same(withoutDump(host.state.files), { ...state.files, [APP]: host.state.files[APP], [RECORD]: host.state.files[RECORD] }, 'no other file changed');
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('new Quay and Redis images: one restart job, for quay-redis; quay-app restarts with it and is asked to start, never to restart again', async t => {
  const R2 = 'localhost/mreg-test/redis:8';
  const host = fakeHost(installed(), { images: [...Object.values(V1), V2, R2] });
  const upgrade = await loadUpgrade(t, host);
  const dry = fakeContext(host, { quayImage: V2, redisImage: R2, dryRun: true }, { json: true });
  await upgrade(dry.ctx);
  const plan = (JSON.parse(dry.stdout()) as { plan: { id: string }[]; restart: string[] });
  host.calls.length = 0;
  const run = fakeContext(host, { quayImage: V2, redisImage: R2 }, { json: true });
  await upgrade(run.ctx);
  const result = JSON.parse(run.stdout()) as { steps: string[]; restarted: string[] };
  t.same(result.steps, plan.plan.map(s => s.id), 'the steps taken are the dry run\'s');
  t.same(plan.restart, ['quay-redis.service', 'quay-app.service'], 'the dry run says quay-app restarts too');
  t.same(result.restarted, ['quay-redis.service', 'quay-app.service'], 'and so does the result');
  const jobs = host.calls.filter(c => /^(restart|start|stop)Unit /.test(c));
  t.same(jobs, ['restartUnit quay-redis.service', 'startUnit quay-app.service'],
    'a restart of quay-app beside its Requires= dependency\'s would re-run its job while it starts (Quay started twice, mid-migration)');
});

t.test('a write that fails midway (a full disk): the files already written go back, nothing is reloaded or restarted', async t => {
  const R2 = 'localhost/mreg-test/redis:8';
  const state = installed();
  const host = fakeHost(state, { images: [...Object.values(V1), V2, R2] });
  const before = structuredClone(state.files);
  const write = host.files.write.bind(host.files);
  const wroteNew: string[] = [];
  host.files.write = async (path, content, mode) => {
    const isNew = path.endsWith('.container') && typeof content === 'string' && (content.includes(V2) || content.includes(R2));
    // The second changed unit file does not fit.
    if (isNew && wroteNew.length === 1) throw new HostError(`cannot write ${path}: ENOSPC: no space left on device`);
    await write(path, content, mode);
    if (isNew) wroteNew.push(path);
  };
  const err = await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: V2, redisImage: R2 }).ctx));
  t.match(err, { name: 'HostError', message: /ENOSPC/ });
  t.equal(wroteNew.length, 1, 'one new unit file had been written when the disk was full');
  t.same(withoutDump(host.state.files), withoutDump(before), 'every unit file as it was before the run');
  t.same(host.calls.filter(c => /reload|restartUnit|startUnit/.test(c)), [], 'no reload, no restart');
});

/** quay-postgres answering the dump's bound with `tables` bytes, and pg_database_size with `database`. */
function sized(host: FakeHost, sizes: { tables: number; database: number }): void {
  const podman = host.podman.bind(host);
  host.podman = () => ({ ...podman(), exec: async (c: string, argv: string[]) => {
    host.calls.push(`exec ${c} ${argv.join(' ')}`);
    const sql = argv[argv.length - 1]!;
    return { stdout: `${sql === DUMP_BOUND_SQL ? sizes.tables : sql.includes('pg_database_size') ? sizes.database : ''}\n`, stderr: '' };
  } });
}

t.test('tables larger than the room left in quayRoot: refused before the dump, nothing written or restarted', async t => {
  const host = fakeHost(installed(), { space: { freeBytes: 2e9, totalBytes: 100e9 } });
  sized(host, { tables: 5e9, database: 8e9 });
  const err = await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: V2 }).ctx));
  t.match(err, { name: 'HostError', message: new RegExp(`^${ROOT} has 1\\.9 GiB free; the dump of Quay's database \\(its tables hold 4\\.7 GiB in PostgreSQL\\) may need as much$`) });
  t.same(host.calls.filter(c => /execToFile|write |reload|restartUnit/.test(c)), [], 'no dump, no file, no restart');
});

// The dump holds the rows, and one line per index: a database whose indexes would not fit beside it was refused.
t.test('a database larger than the room only by its indexes: the dump is taken and the upgrade goes on', async t => {
  const host = fakeHost(installed(), { space: { freeBytes: 2e9, totalBytes: 100e9 } });
  sized(host, { tables: 1.5e9, database: 5e9 });
  await (await loadUpgrade(t, host))(fakeContext(host, { quayImage: V2 }).ctx);
  t.ok(host.calls.some(c => c.startsWith('execToFile quay-postgres pg_dump')), 'the dump was taken');
  t.equal(recordedQuay(host), V2, 'the upgrade finished');
});

t.test('--dry-run with a PostgreSQL image that cannot open the data: refused as the run would be, not planned', async t => {
  const PG16 = 'localhost/mreg-test/postgres:16';
  const host = fakeHost(installed(), { images: [...Object.values(V1), PG16] });
  const look = host.inspect.bind(host);
  const asked: string[] = [];
  host.inspect = who => ({ ...look(who), assertPgMajorCompatible: async (_s, image) => {
    asked.push(image);
    throw new HostError('the PostgreSQL data is version 15 and localhost/mreg-test/postgres:16 runs 16', 'keep --pgImage at a 15 image');
  } });
  const dry = fakeContext(host, { pgImage: PG16, dryRun: true });
  const err = await rejection((await loadUpgrade(t, host))(dry.ctx));
  t.match(err, { name: 'HostError', message: /data is version 15/ });
  t.same(asked, [PG16], 'the data check ran, for the new image');
  t.equal(dry.stdout(), '', 'no plan printed');
  t.same(host.calls, ['probe'], 'nothing changed');
});

t.test('a re-run after the upgrade: nothing to change, so nothing is written, reloaded or restarted', async t => {
  const first = fakeHost(installed());
  await (await loadUpgrade(t, first))(fakeContext(first, { quayImage: V2 }).ctx);
  const host = fakeHost(first.state);
  const run = fakeContext(host, { quayImage: V2 }, { json: true });
  await (await loadUpgrade(t, host))(run.ctx);
  t.match(JSON.parse(run.stdout()), { changed: [], restarted: [], rolledBack: false, steps: ['images-present', 'existing-secrets'] }, 'only the checks ran');
  t.same(host.calls, ['probe'], 'no write, reload or restart');
  t.same(host.state, first.state, 'the host is as the upgrade left it');
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('v2 never healthy: the v1 file and database back, reload, quay-app restarted on v1; UnitFailedError "rolled-back", record unchanged', async t => {
  const state = installed();
  const host = fakeHost(state, { healthWaits: ['timeout', 'ok'] });
  const c = fakeContext(host, { quayImage: V2 });
  const err = await rejection((await loadUpgrade(t, host))(c.ctx));
  if (!(err instanceof UnitFailedError)) throw err;
  // The journal is read before the rollback's restart pushes the failing lines out of its tail.
  t.match(err, { exitCode: 1, unit: 'quay-app.service', result: 'rolled-back', journalTail: [/^quay-app\.service: /] }, 'exit 1, quay-app, its journal');
  t.equal(err.message, `upgrade failed: quay-app.service: ${TIMED_OUT}; rolled back to the previous version and its database, which is healthy again`, 'what failed, and that the rollback is healthy');
  t.equal(err.hint, 'the install record is unchanged; see: mreg logs quay-app', 'where to look');
  t.same(host.calls, ROLLED_BACK, 'write new → reload → restart → (no health) → write previous → reload → stop → restore the dump → restart');
  t.match(c.stderr(), `quay-app.service: ${TIMED_OUT}; rolling back`, 'the rollback is announced with its cause');
  t.same(withoutDump(host.state.files), state.files, 'quay-app.container is v1\'s again, the record unchanged');
  t.equal(recordedQuay(host), V1.quay, 'the record still names v1');
  t.ok(host.state.files[DUMP], 'the dump is kept');
  t.same(host.state.units, state.units, 'every unit active, as before');
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('a rollback that restarts the pod waits for PostgreSQL (its own jobs, after the pod\'s) and keeps quay-app stopped before the restore', async t => {
  const state = installed();
  const pod = `${QD}/quay.pod`;
  state.files[pod] = { ...state.files[pod]!, content: `${state.files[pod]!.content}# edited by hand\n` }; // the upgrade writes it back: the pod changes too
  const host = fakeHost(state, { healthWaits: ['timeout', 'ok'] });
  await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: V2 }).ctx));
  const back = host.calls.slice(host.calls.lastIndexOf('reload') + 1);
  const restore = back.findIndex(c => c.startsWith('execFromFile'));
  t.same(back.slice(0, 6), ['stopUnit quay-app.service', 'resetFailed quay-app.service', 'restartUnit quay-pod.service',
    'stopUnit quay-app.service', 'resetFailed quay-app.service', 'startUnit quay-postgres.service'],
    'quay-app stopped, the pod restarted, quay-app stopped again (the pod wants it), PostgreSQL waited for');
  t.ok(restore > 5, 'then the database goes back');
});

t.test('the rollback never healthy either: UnitFailedError "rollback-failed" naming the dump; the v1 file back, record unchanged', async t => {
  const state = installed();
  const host = fakeHost(state, { healthWaits: ['timeout'] });
  const err = await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: V2 }).ctx));
  if (!(err instanceof UnitFailedError)) throw err;
  t.match(err, { exitCode: 1, unit: 'quay-app.service', result: 'rollback-failed' }, 'exit 1, quay-app');
  t.equal(err.message, `quay-app.service: ${TIMED_OUT}; the rollback did not become healthy either (quay-app.service: ${TIMED_OUT})`, 'both failures');
  t.equal(err.hint, `the previous unit files are back in place; the database before the upgrade is in ${DUMP} (pg_dump custom format); see: mreg status and mreg logs quay-app`, 'where the database is');
  t.same(host.calls, ROLLED_BACK, 'the same rollback');
  t.same(withoutDump(host.state.files), state.files, 'the v1 file back and the record unchanged');
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('interrupted after writing quay-app.container, before the reload: the next run resumes, reuses the dump and ends on v2', async t => {
  const state = installed();
  // failAtCall stands in for a kill: the call throws before it changes anything.
  const killed = fakeHost(state, { failAtCall: UPGRADED.indexOf('reload') + 1 });
  const err = await rejection((await loadUpgrade(t, killed))(fakeContext(killed, { quayImage: V2 }).ctx));
  t.ok(err instanceof HostError, 'HostError');
  t.equal((err as HostError).message, 'injected failure at reload', 'stopped at the reload');
  t.same(killed.calls, UPGRADED.slice(0, UPGRADED.indexOf('reload')), 'the dump and the new file, nothing after');
  t.match(killed.state.files[APP]!.content, `Image=${V2}\n`, 'the file names v2');
  t.equal(recordedQuay(killed), V1.quay, 'the record still names v1');

  const host = fakeHost(killed.state);
  const c = fakeContext(host, { quayImage: V2 });
  await (await loadUpgrade(t, host))(c.ctx);
  t.match(c.stderr(), 'mreg: resuming an upgrade that stopped after writing the unit files\n', 'the resume is said');
  t.same(host.calls, ['probe', `makeDir ${QD}`, 'reload', 'restartUnit quay-app.service', `write ${RECORD}`],
    'the same switch without a second dump (the one taken while v1 served is reused), and the file on disk already as it is written is not written again');
  t.match(host.state.files[APP]!.content, `Image=${V2}\n`, 'quay-app.container names v2');
  t.equal(recordedQuay(host), V2, 'the record names v2');
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('killed between its two writes (new Quay and new Redis): the next run resumes and restarts both, not only the unwritten one', async t => {
  const state = installed();
  const killed = fakeHost(state, { failAtCall: UPGRADED.indexOf('reload') + 2 });
  await rejection((await loadUpgrade(t, killed))(fakeContext(killed, { quayImage: V2, redisImage: R2 }).ctx));
  killed.state.files[APP] = state.files[APP]!; // the kill came before quay-app.container's write
  t.match(killed.state.files[REDIS]!.content, `Image=${R2}\n`, 'quay-redis.container was written');
  const host = fakeHost(killed.state);
  const c = fakeContext(host, { quayImage: V2, redisImage: R2 });
  await (await loadUpgrade(t, host))(c.ctx);
  t.match(c.stderr(), 'mreg: resuming an upgrade', 'the resume is said');
  t.same(host.calls.filter(c => /^(re)?startUnit /.test(c)), ['restartUnit quay-redis.service', 'startUnit quay-app.service'],
    'Redis restarts on its new file too, quay-app with it, as in the run not killed (only quay-app restarted: Redis ran its old image while the record named the new)');
  t.match(host.state.files[APP]!.content, `Image=${V2}\n`);
  t.equal(parseRecord(host.state.files[RECORD]!.content, RECORD).spec.images.redis, R2);
});

t.test('resuming, a write that fails leaves the new files: they may be what an earlier run migrated the database for', async t => {
  // Killed between its two writes: quay-redis.container is new, quay-app.container still the record's.
  const state = installed();
  const killed = fakeHost(state, { failAtCall: UPGRADED.indexOf('reload') + 2 });
  await rejection((await loadUpgrade(t, killed))(fakeContext(killed, { quayImage: V2, redisImage: R2 }).ctx));
  t.match(killed.state.files[REDIS]!.content, `Image=${R2}\n`, 'the first file was written');
  killed.state.files[APP] = state.files[APP]!;
  const host = fakeHost(killed.state);
  const write = host.files.write.bind(host.files);
  host.files.write = async (path, content, mode) => {
    if (path === APP && content.includes(V2)) throw new HostError(`cannot write ${path}: ENOSPC: no space left on device`);
    return write(path, content, mode);
  };
  const c = fakeContext(host, { quayImage: V2, redisImage: R2 });
  const err = await rejection((await loadUpgrade(t, host))(c.ctx));
  t.match(c.stderr(), 'mreg: resuming an upgrade');
  t.match(err, { name: 'HostError', message: /ENOSPC/ });
  t.match(host.state.files[REDIS]!.content, `Image=${R2}\n`, 'quay-redis.container still names the new image, not the record\'s');
  t.same(host.calls.filter(c => c.startsWith('write ')), [], 'nothing put back');
});

t.test('killed after the switch began, its dump cut short (a power cut before it was synced): refused, nothing dumped over it', async t => {
  const state = installed();
  const killed = fakeHost(state, { failAtCall: UPGRADED.indexOf('reload') + 1 });
  await rejection((await loadUpgrade(t, killed))(fakeContext(killed, { quayImage: V2 }).ctx));
  const meta = JSON.parse(killed.state.files[`${DUMP}.json`]!.content) as { bytes: number };
  killed.state.files[DUMP] = { content: 'x'.repeat(Math.max(meta.bytes - 1, 0)), mode: 0o600 };
  const host = fakeHost(killed.state);
  const err = await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: V2 }).ctx));
  t.match(err, { name: 'HostError', message: new RegExp(`^${DUMP}, the database as it was before this upgrade, holds ${meta.bytes - 1} of its ${meta.bytes} bytes`) });
  t.same(host.calls.filter(c => /execToFile|restartUnit|reload/.test(c)), [], 'no new dump, no reload, no restart');
});

t.test('a rollback that put the dump back forgets it: the same upgrade tried again dumps the database as it is then', async t => {
  const first = fakeHost(installed(), { healthWaits: ['timeout', 'ok'] });
  t.match(await rejection((await loadUpgrade(t, first))(fakeContext(first, { quayImage: V2 }).ctx)), { result: 'rolled-back' });
  t.ok(first.state.files[DUMP], 'the dump stays for the user');
  t.notOk(first.state.files[`${DUMP}.json`], 'its description is gone: it is no upgrade\'s way back any more');
  // Weeks of pushes later, the same upgrade again: its rollback must bring back that database, not Monday's.
  const host = fakeHost(first.state, { healthWaits: ['timeout', 'ok'] });
  await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: V2 }).ctx));
  t.ok(host.calls.some(c => c.startsWith('execToFile quay-postgres pg_dump')), 'a new dump');
});

t.test('killed after the switch began, then another image: refused with the way to finish; nothing changed', async t => {
  const killed = fakeHost(installed(), { failAtCall: UPGRADED.indexOf('reload') + 1 });
  await rejection((await loadUpgrade(t, killed))(fakeContext(killed, { quayImage: V2 }).ctx));
  const dump = killed.state.files[`${DUMP}.json`]!.content;
  const host = fakeHost(killed.state, { images: [...Object.values(V1), V2, 'localhost/mreg-test/quay:v3'] });
  const before = structuredClone(host.state);
  const err = await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: 'localhost/mreg-test/quay:v3' }).ctx));
  t.type(err, HostError);
  t.match(err, { message: `an upgrade of Quay from ${V1.quay} to ${V2} did not finish (killed, or its rollback was): the database may already be ${V2}'s, and ${V1.quay} cannot start on it`,
    hint: `run the interrupted mreg upgrade again with the same flags (it took Quay to ${V2}): it finishes the upgrade, or puts ${V1.quay} and its database back by itself; nothing was changed` });
  t.same(host.state, before, 'no file, unit or dump changed');
  t.equal(host.state.files[`${DUMP}.json`]!.content, dump, 'the dump taken while v1 served is still the way back');
  t.notOk(host.calls.some(c => c.startsWith('execToFile')), 'no new dump over it');
});

t.test('killed after the switch began, then another image from an archive: refused before the archive is loaded', async t => {
  const killed = fakeHost(installed(), { failAtCall: UPGRADED.indexOf('reload') + 1 });
  await rejection((await loadUpgrade(t, killed))(fakeContext(killed, { quayImage: V2 }).ctx));
  const archive = `${HOME}/quay-v3.tar`;
  killed.state.files[archive] = { content: 'not read', mode: 0o644 };
  const host = fakeHost(killed.state);
  const err = await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: 'localhost/mreg-test/quay:v3', imageArchive: archive }).ctx));
  t.match(err, { message: /^an upgrade of Quay from \S+ to \S+quay:v2 did not finish/ }, 'the refusal, not a load (minutes for a release\'s images)');
  t.same(host.calls, ['probe'], 'nothing loaded or changed');
});

t.test('killed after the switch began, then mreg up: refused too (it would start v1 on the database v2 may have migrated)', async t => {
  const killed = fakeHost(installed(), { failAtCall: UPGRADED.indexOf('reload') + 1 });
  await rejection((await loadUpgrade(t, killed))(fakeContext(killed, { quayImage: V2 }).ctx));
  const { checkUp } = await import('../../src/up/checks.js');
  const { rawUpFlags } = await import('../../src/up/flags.js');
  const host = fakeHost(killed.state);
  const err = await rejection(checkUp({ host, look: host.inspect(probe) }, rawUpFlags({}), probe, async () => 'registry.example.com'));
  t.match(err, { message: /^an upgrade of Quay from \S+ to \S+quay:v2 did not finish/, hint: /^run the interrupted mreg upgrade again with the same flags \(it took Quay to \S+quay:v2\)/ });
  t.same(host.calls, [], 'nothing changed');
});

// RHEL 9.4 → 9.6 under an install made with podman 4.9: its plain pod unit and 4.x container files, then podman 5.
const PLAIN_POD = `${HOME}/.config/systemd/user/quay-pod.service`;
const POD_FILE = `${QD}/quay.pod`;
const probe49: typeof probe = { ...probe, podmanVersion: [4, 9, 4] };

/** installed() as mreg up leaves it under podman 4.9.4: the plain pod unit instead of quay.pod, in the files and the record. */
function installedOn49(): FakeHostState {
  const state = installed();
  const record = parseRecord(state.files[RECORD]!.content, RECORD);
  delete state.files[POD_FILE];
  const { secrets } = resolveSecrets(new Map(Object.entries(SECRET_VALUES)), '');
  for (const f of makePlan(upgradeSpec(record, {}, HOME), probe49, secrets).files) state.files[f.path] = { content: f.content, mode: f.mode };
  state.files[RECORD] = recordFile({ ...record, files: [...record.files.filter(f => f !== POD_FILE), PLAIN_POD] });
  return state;
}
const recordedFiles = (host: FakeHost) => parseRecord(host.state.files[RECORD]!.content, RECORD).files;

t.test('podman 4.9 → 5 under an upgrade killed after its write: the same upgrade resumes and moves the install to quay.pod (before, up and upgrade each named the other)', async t => {
  const killed = fakeHost(installedOn49(), { probe: probe49, failAtCall: UPGRADED.indexOf('reload') + 1 });
  await rejection((await loadUpgrade(t, killed))(fakeContext(killed, { quayImage: V2 }).ctx));
  t.match(killed.state.files[APP]!.content, `Image=${V2}\n`, 'killed under 4.9 with quay-app.container on v2');
  t.match(killed.state.files[APP]!.content, 'PodmanArgs=--pod quay-pod', 'in the podman 4 layout');

  const host = fakeHost(killed.state); // podman 5.4.2 now
  const upgrade = await loadUpgrade(t, host);
  const dry = fakeContext(host, { quayImage: V2, dryRun: true }, { json: true });
  await upgrade(dry.ctx);
  const plan = JSON.parse(dry.stdout()) as { plan: { id: string }[]; changed: string[]; restart: string[]; diff: string };
  t.ok(plan.changed.includes(POD_FILE) && plan.changed.includes(PLAIN_POD), 'the dry run names quay.pod and the plain unit', { changed: plan.changed });
  t.match(plan.diff, `--- ${PLAIN_POD}\n+++ /dev/null`, 'the plain unit\'s removal is in its diff');
  t.same(plan.restart, ['quay-pod.service', 'quay-postgres.service', 'quay-redis.service', 'quay-app.service'], 'the pod restarts, and its containers with it');
  const said = fakeContext(host, { quayImage: V2, dryRun: true });
  await upgrade(said.ctx);
  t.match(said.stderr(), 'it would be resumed', 'the dry run says the upgrade is resumed');
  t.match(said.stderr(), 'moves from the podman 4 pod unit to quay.pod', 'and moved');
  host.calls.length = 0;

  const c = fakeContext(host, { quayImage: V2 }, { json: true });
  await upgrade(c.ctx);
  const result = JSON.parse(c.stdout()) as { steps: string[] };
  t.same(result.steps, plan.plan.map(s => s.id), 'the steps taken are the dry run\'s');
  t.notOk(host.calls.some(c => c.includes('pg_dump')), 'the dump the killed run took while v1 served is reused');
  t.ok(host.calls.indexOf(`write ${RECORD}`) < host.calls.indexOf(`write ${POD_FILE}`), 'quay.pod is recorded before it is written');
  t.ok(host.calls.includes(`remove ${PLAIN_POD}`), 'the plain unit is removed: it would shadow the one Quadlet generates from quay.pod');
  t.same(host.calls.filter(c => /^(restart|start|stop)Unit /.test(c)), ['restartUnit quay-pod.service', 'startUnit quay-app.service'], 'one restart job, the pod\'s (quay-app\'s start merges into it)');
  t.notOk(host.state.files[PLAIN_POD], 'no plain unit');
  t.match(host.state.files[POD_FILE]!.content, 'PodName=quay-pod', 'quay.pod written');
  t.notMatch(host.state.files[APP]!.content, 'PodmanArgs=--pod', 'quay-app.container in the podman 5 layout');
  t.equal(recordedQuay(host), V2, 'the record names v2');
  t.ok(recordedFiles(host).includes(POD_FILE) && !recordedFiles(host).includes(PLAIN_POD), 'and lists quay.pod, not the plain unit');
});

t.test('the move to quay.pod in an upgrade never healthy: the podman 4 files (a hand edit too) and database back; the record lists both pod files, so down removes either', async t => {
  const state = installedOn49();
  const redis = `${QD}/quay-redis.container`;
  state.files[redis] = { ...state.files[redis]!, content: `${state.files[redis]!.content}# the admin's own line\n` };
  const host = fakeHost(state, { healthWaits: ['timeout', 'ok'] });
  const err = await rejection((await loadUpgrade(t, host))(fakeContext(host, { quayImage: V2 }).ctx));
  t.ok(err instanceof UnitFailedError && err.result === 'rolled-back', 'rolled back', { err });
  const files = (s: FakeHostState) => Object.fromEntries(Object.entries(withoutDump(s.files)).filter(([p]) => p !== RECORD));
  t.same(files(host.state), files(state), 'the plain unit and the 4.x container files back, no quay.pod');
  t.equal(recordedQuay(host), V1.quay, 'the record still names v1');
  t.ok(recordedFiles(host).includes(POD_FILE) && recordedFiles(host).includes(PLAIN_POD), 'and lists both pod files');
});

t.test('the move to quay.pod alone (no new image) killed after its writes, before the reload: the same upgrade resumes it, restarting the pod', async t => {
  const moving = fakeHost(installedOn49());
  const upgrade = await loadUpgrade(t, moving);
  await upgrade(fakeContext(moving, {}).ctx);
  const reloadAt = moving.calls.indexOf('reload');
  t.ok(reloadAt > 0 && moving.calls.includes(`remove ${PLAIN_POD}`), 'a whole move writes quay.pod, removes the plain unit, then reloads', { calls: moving.calls });

  const killed = fakeHost(installedOn49(), { failAtCall: reloadAt + 1 });
  await rejection((await loadUpgrade(t, killed))(fakeContext(killed, {}).ctx));
  t.match(killed.state.files[POD_FILE]!.content, 'PodName=quay-pod', 'killed with quay.pod written');
  t.notOk(killed.state.files[PLAIN_POD], 'and the plain unit gone: the disk is the new layout, the units still run the old one');

  const host = fakeHost(killed.state);
  const c = fakeContext(host, {});
  await (await loadUpgrade(t, host))(c.ctx);
  t.match(c.stderr(), 'mreg: resuming an upgrade that stopped after writing the unit files\n', 'the resume is said');
  t.same(host.calls.filter(c => /^(reload|(restart|start|stop)Unit )/.test(c)), ['reload', 'restartUnit quay-pod.service', 'startUnit quay-app.service'],
    'reloaded, and the pod restarted with its containers on the new files (before: "nothing to change", the old units ran on)');
  t.ok(!recordedFiles(host).includes(PLAIN_POD) && recordedFiles(host).includes(POD_FILE), 'the record lists quay.pod, not the plain unit');
});

t.test('new Quay and Redis images, killed at every change: the next upgrade ends where the whole one does, every service on its files', async t => {
  const base = { ...installed(), clock: { now: 0, mtimes: {}, activeSince: {} } };
  const flags = { quayImage: V2, redisImage: R2 };
  const run = async (host: FakeHost) => (await loadUpgrade(t, host))(fakeContext(host, flags).ctx);
  const whole = fakeHost(structuredClone(base));
  await run(whole);
  // The dump's files are the snapshot's own business (kept or forgotten); the rest is the install.
  // The record's updatedAt is the run's own clock.
  const content = (p: string, c: string) => (p === RECORD ? { ...parseRecord(c, RECORD), updatedAt: undefined } : c);
  const shape = (s: FakeHostState) => ({
    files: Object.fromEntries(Object.entries(s.files).filter(([p]) => !p.startsWith(`${SNAP}/`)).map(([p, f]) => [p, [f.mode.toString(8), content(p, f.content)]])),
    units: s.units,
  });
  const older = (s: FakeHostState) => Object.keys(s.files).flatMap(p => {
    const unit = p.startsWith(`${QD}/`) ? /\/(quay-[a-z]+)\.container$/.exec(p)?.[1] : undefined;
    return unit && (s.clock!.mtimes[p] ?? 0) > (s.clock!.activeSince[`${unit}.service`] ?? 0) ? [unit] : [];
  });
  t.same(older(whole.state), [], 'the whole upgrade leaves no service on an older file');
  t.same(parseRecord(whole.state.files[RECORD]!.content, RECORD).spec.images, { ...V1, quay: V2, redis: R2 });
  const expected = shape(whole.state);
  let killedRuns = 0;
  for (let n = 2; n <= whole.calls.length; n++) {
    const killed = fakeHost(structuredClone(base), { failAtCall: n });
    const err = await run(killed).then(() => undefined, (e: unknown) => e);
    const at = err instanceof Error ? /injected failure at (.*)$/m.exec(err.message)?.[1] : undefined;
    if (at === undefined) { t.fail(`killed at change ${n}: upgrade should stop there`, { err }); continue; }
    killedRuns++;
    const again = fakeHost(killed.state);
    const rerun = await run(again).then(() => undefined, (e: unknown) => e);
    if (rerun !== undefined) { t.fail(`killed at change ${n} (${at}): the same upgrade again should finish`, { err: rerun }); continue; }
    t.same(shape(again.state), expected, `killed at change ${n} (${at}): the next upgrade ends on the new images`);
    t.same(older(again.state), [], `killed at change ${n} (${at}): every service runs the file on disk`);
    t.notOk(again.isLocked(), `killed at change ${n}: the lock is given back`);
  }
  t.ok(killedRuns > 5, `killed at ${killedRuns} changes`);
});
