// mreg backup's run over the in-memory host (issue 14): its steps in backupSteps' order, reported by
// --json, and the manifest's "step" line the last one printed before the archive is written (the VM suite
// kills a backup on it). The install's files and the staging folder are on the real disk (backup copies
// and hashes them with node:fs); tar, gpg and pg_dump are faked, as they are the VM suite's.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { backup } from '../../src/commands/backup.js';
import { parseRecord } from '../../src/install-spec/record.js';
import { backupSteps } from '../../src/plan/backup-steps.js';
import { createOutput } from '../../src/ui/output.js';
import { createFakeHost, fakeContext, recordFile, type FakeHost } from '../support/fake-host.js';
import { probe, ROOT, runningInstall, SECRETS } from '../support/running-install.js';

/** The running install, its quayRoot moved to `root` on the real disk (record, config.yaml, credentials). */
function installAt(root: string) {
  const state = runningInstall();
  const record = parseRecord(state.files[`${ROOT}/mreg-install.json`]!.content, 'record');
  const files = { 'mreg-install.json': recordFile({ ...record, spec: { ...record.spec, quayRoot: root } }).content, 'quay-config/config.yaml': 'x', credentials: 'init:pw' };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
    state.files[join(root, rel)] = { content, mode: 0o600 };
  }
  return state;
}

/**
 * backup --verbose over the fake host into DIR/out/b.tar, with --json or not. `beforeWrite` is stderr as it
 * was when the archive write began.
 */
async function run(t: Test, json: boolean, flags: Record<string, unknown> = {}) {
  const dir = t.testdir({ out: {} });
  const root = join(dir, 'quay-install');
  const output = join(dir, 'out', 'b.tar');
  const stderr: string[] = [];
  const stdout: string[] = [];
  let beforeWrite = '';
  const stagedIn: string[] = [];
  const fake = createFakeHost({
    probe, state: installAt(root), secretValues: Object.fromEntries(SECRETS.map(n => [n, `value-of-${n}`])),
    archive: {
      captureStorage: async (_root, staging) => { stagedIn.push(staging); return { blobs: [], meta: [], partial: [] }; },
      removeStaging: async () => undefined,
      async create(a) { beforeWrite = stderr.join(''); writeFileSync(a.output, 'archive'); },
    },
  });
  // pg_dump runs in the container; its file lands in the real staging folder, where backup hashes it.
  const podman = fake.podman();
  const host: FakeHost = { ...fake, podman: () => ({ secretValues: podman.secretValues, execToFile: async (_c: string, _a: string[], file: string) => writeFileSync(file, 'dump') }) as never };
  const sink = (to: string[]) => new Writable({ write(chunk, _e, cb) { to.push(String(chunk)); cb(); } });
  const out = createOutput({ json, verbose: true, color: false, stderr: sink(stderr), stdout: sink(stdout), env: {} });
  await backup({ ...fakeContext(host, { quayRoot: root, verbose: true, ...flags }, { json }).ctx, out, args: [output] });
  t.notOk(host.isLocked(), 'the lock is given back');
  t.equal(readFileSync(output, 'utf8'), 'archive', 'the archive is under its name');
  const expected = backupSteps({ output, staging: join(dir, 'out', '.b.tar.mreg-staging'), quayStorage: { kind: 'volume', name: 'quay-storage' }, lastBackup: join(root, 'last-backup.json'), encrypted: false });
  return { output, root, stagedIn, expected: expected.map(s => s.id), stdout: stdout.join(''), stderr: stderr.join(''), beforeWrite };
}

t.test('--json: the steps of backupSteps in its order; --verbose prints "step manifest" last before the archive is written', async t => {
  const r = await run(t, true);
  const result = JSON.parse(r.stdout) as { steps: string[]; file: string };
  t.same(result.steps, r.expected, '--json steps: every step of backupSteps, in its order');
  t.equal(result.file, r.output);
  t.equal(r.stderr, r.expected.map(id => `step ${id}\n`).join(''), 'one "step ID" line per step, as each ends');
  t.match(r.beforeWrite, /step manifest\n$/, 'the manifest\'s line is the last before the archive write');
});

t.test('without --json: the "==> write" label follows the manifest\'s step line directly', async t => {
  const r = await run(t, false);
  t.match(r.stderr, `step free-space\nstep manifest\n==> write ${r.output}\n`, 'no line between the kill point and the write');
  t.match(r.stdout, /^backup written: /);
});

t.test('an encrypted backup stages its dump, secrets and keys in quayRoot, never in plain text beside the archive', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-pass-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pass'), 'a long passphrase\n', { mode: 0o600 });
  const plain = await run(t, true);
  t.same(plain.stagedIn, [join(plain.output, '..', '.b.tar.mreg-staging')], 'a plain one stages beside the archive');
  const sealed = await run(t, true, { passphraseFile: join(dir, 'pass') });
  t.same(sealed.stagedIn, [join(sealed.root, 'backup-staging')], 'an encrypted one in quayRoot');
});

t.test('--verify --json: one step, verify:FILE', async t => {
  const manifest = { createdAt: '2026-02-01T00:00:00.000Z', hostname: 'registry.example.com', port: 8443, scope: 'rootless', mregVersion: '0.1.0', images: {} };
  const host = createFakeHost({ probe, state: runningInstall(), archive: { source: async file => ({ file }), verify: async () => ({ manifest, files: 3, bytes: 10, damagedBlobs: [] }) as never } });
  const c = fakeContext(host, { verify: true }, { json: true });
  await backup({ ...c.ctx, args: ['/b/x.tar'] });
  t.match(JSON.parse(c.stdout()), { file: '/b/x.tar', ok: true, steps: ['verify:/b/x.tar'] });
});

t.test('--verify of an archive holding a blob that is not its digest: exit 1 naming it, never "complete"', async t => {
  const manifest = { createdAt: '2026-02-01T00:00:00.000Z', hostname: 'registry.example.com', port: 8443, scope: 'rootless', mregVersion: '0.1.0', images: {} };
  const blob = 'storage/docker/registry/v2/blobs/sha256/ab/abcd/data';
  const host = createFakeHost({ probe, state: runningInstall(), archive: { source: async file => ({ file }), verify: async () => ({ manifest, files: 3, bytes: 10, damagedBlobs: [blob] }) as never } });
  const c = fakeContext(host, { verify: true });
  await t.rejects(backup({ ...c.ctx, args: ['/b/x.tar'] }), { exitCode: 1, message: `/b/x.tar: 1 blob whose content does not match the digest in its name (${blob}): damaged in the registry when it was backed up, or in this file since; everything else in it checks`,
    hint: /^mreg restore restores it with these blobs as they are/ });
  t.equal(c.stdout(), '', 'no "complete" line');
});

t.test('--verify of an incremental backup says it needs the one it builds on (and --json says so)', async t => {
  const manifest = { createdAt: '2026-02-02T00:00:00.000Z', hostname: 'registry.example.com', port: 8443, scope: 'rootless', mregVersion: '0.1.0', images: {},
    since: { id: 'full-1', createdAt: '2026-02-01T00:00:00.000Z' }, inherited: [{ path: 'storage/a', size: 1, sha256: 'x' }, { path: 'storage/b', size: 1, sha256: 'y' }] };
  const host = createFakeHost({ probe, state: runningInstall(), archive: { source: async file => ({ file }), verify: async () => ({ manifest, files: 3, bytes: 10, damagedBlobs: [] }) as never } });
  const text = fakeContext(host, { verify: true });
  await backup({ ...text.ctx, args: ['/b/incr.tar'] });
  t.match(text.stdout(), /: complete, every checksum matches .*; incremental: a restore also needs the backup made 2026-02-01T00:00:00.000Z \(and those it builds on\) for 2 blobs\n$/);
  const json = fakeContext(host, { verify: true }, { json: true });
  await backup({ ...json.ctx, args: ['/b/incr.tar'] });
  t.match(JSON.parse(json.stdout()), { ok: true, needs: { sinceBackup: '2026-02-01T00:00:00.000Z', inheritedBlobs: 2 } });
});
