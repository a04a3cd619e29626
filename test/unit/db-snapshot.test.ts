// The database snapshot an upgrade of the Quay image takes, and how its rollback puts it back.
import t from 'tap';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DROP_QUAY_DATABASE, dbSnapshotPaths, findDbSnapshot, restoreDbSnapshot, takeDbSnapshot } from '../../src/apply/db-snapshot.js';
import { createPodman, type Podman } from '../../src/host/podman.js';
import { runChecked } from '../../src/host/exec.js';
import { HostError } from '../../src/errors.js';

const A = 'quay.io/quay:v1', B = 'quay.io/quay:v2';

interface Call { how: 'exec' | 'toFile' | 'fromFile'; container: string; argv: string[]; input?: string; file?: string }

/** A podman whose exec calls are recorded; `dump` decides what execToFile writes (or throws). */
function fakePodman(dump: (file: string) => void = f => writeFileSync(f, 'PGDMP fake', { flag: 'w' }), failExec = 0) {
  const calls: Call[] = [];
  let failures = failExec;
  const podman = {
    async exec(container: string, argv: string[], o?: { input?: string }) {
      calls.push({ how: 'exec', container, argv, input: o?.input });
      if (failures-- > 0) throw new HostError('database "quay" is being accessed by other users');
      return { stdout: '', stderr: '' };
    },
    async execToFile(container: string, argv: string[], file: string) {
      calls.push({ how: 'toFile', container, argv, file });
      writeFileSync(file, '', { flag: 'wx', mode: 0o600 }); // as the real port: made 0600, must not exist
      dump(file);
    },
    async execFromFile(container: string, argv: string[], file: string) { calls.push({ how: 'fromFile', container, argv, file }); },
  } as unknown as Podman;
  return { podman, calls };
}

const root = () => { const d = mkdtempSync(join(tmpdir(), 'mreg-snap-')); t.teardown(() => rmSync(d, { recursive: true, force: true })); return d; };

t.test('takeDbSnapshot: pg_dump in the postgres container, streamed to a 0600 file under quayRoot', async t => {
  const dir = root();
  const { podman, calls } = fakePodman();
  const snap = await takeDbSnapshot(podman, dir, A, B);
  const p = dbSnapshotPaths(dir);
  t.same(calls, [{ how: 'toFile', container: 'quay-postgres', argv: ['pg_dump', '--format=custom', '--dbname=quay'], file: `${p.dump}.partial` }],
    'one pg_dump, custom format, no password or host in argv (local socket as the superuser)');
  t.equal(snap.path, p.dump);
  t.equal(readFileSync(p.dump, 'utf8'), 'PGDMP fake');
  t.equal(statSync(p.dump).mode & 0o777, 0o600, 'the dump is 0600');
  t.equal(statSync(p.dir).mode & 0o777, 0o700, 'its folder is 0700');
  t.equal(statSync(p.meta).mode & 0o777, 0o600);
  t.notOk(existsSync(`${p.dump}.partial`), 'no partial file left');
  t.equal(snap.bytes, 10);
  t.match(JSON.parse(readFileSync(p.meta, 'utf8')), { fromImage: A, toImage: B, bytes: 10, path: p.dump });
});

t.test('findDbSnapshot: only the snapshot of this very upgrade is reused', async t => {
  const dir = root();
  const { podman } = fakePodman();
  t.equal(await findDbSnapshot(dir, A, B), undefined, 'none yet');
  await takeDbSnapshot(podman, dir, A, B);
  t.match(await findDbSnapshot(dir, A, B), { fromImage: A, toImage: B, path: dbSnapshotPaths(dir).dump });
  t.equal(await findDbSnapshot(dir, B, 'quay.io/quay:v3'), undefined, 'another upgrade takes its own');
  t.equal(await findDbSnapshot(dir, A, 'quay.io/quay:v3'), undefined, 'another target too');
  writeFileSync(dbSnapshotPaths(dir).meta, 'not json');
  t.equal(await findDbSnapshot(dir, A, B), undefined, 'an unreadable description is no snapshot');
});

t.test('a failed dump leaves neither a dump nor a description that could be taken for one', async t => {
  const dir = root();
  await takeDbSnapshot(fakePodman().podman, dir, A, B); // an earlier upgrade's snapshot
  const { podman } = fakePodman(() => { throw new HostError('podman exec in quay-postgres failed: No space left on device'); });
  await t.rejects(takeDbSnapshot(podman, dir, A, B), /No space left/);
  const p = dbSnapshotPaths(dir);
  t.notOk(existsSync(`${p.dump}.partial`), 'partial file removed');
  t.notOk(existsSync(p.meta), 'the old description is gone');
  t.equal(await findDbSnapshot(dir, A, B), undefined, 'so a re-run dumps again instead of trusting the old file');
});

t.test('restoreDbSnapshot: drops the database (ending its sessions), then pg_restore --create from the file', async t => {
  const dir = root();
  const { podman, calls } = fakePodman(undefined, 1);
  const snap = await takeDbSnapshot(podman, dir, A, B);
  calls.length = 0;
  await restoreDbSnapshot(podman, snap);
  t.equal(calls.length, 3, 'the drop is tried again once it failed (a session still closing)');
  t.same(calls[0], { how: 'exec', container: 'quay-postgres', argv: ['psql', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--dbname=postgres'], input: DROP_QUAY_DATABASE });
  t.same(calls[1], calls[0]);
  t.same(calls[2], { how: 'fromFile', container: 'quay-postgres', argv: ['pg_restore', '--create', '--exit-on-error', '--dbname=postgres'], file: snap.path });
  t.match(DROP_QUAY_DATABASE, /pg_terminate_backend[\s\S]*DROP DATABASE IF EXISTS quay;/);
});

t.test('restoreDbSnapshot gives up after three failed drops and never restores over a live database', async t => {
  const dir = root();
  const { podman, calls } = fakePodman(undefined, 0);
  const snap = await takeDbSnapshot(podman, dir, A, B);
  const failing = fakePodman(undefined, 5);
  await t.rejects(restoreDbSnapshot(failing.podman, snap), HostError);
  t.equal(failing.calls.filter(c => c.how === 'fromFile').length, 0, 'no pg_restore');
  t.equal(calls.length, 1);
});

t.test('runChecked streams a file to stdin and stdout into a file that keeps its mode', async t => {
  const dir = root();
  const input = join(dir, 'in'), output = join(dir, 'out');
  writeFileSync(input, 'x'.repeat(200_000));
  writeFileSync(output, '', { mode: 0o600 });
  const r = await runChecked('cat', [], { inputFile: input, outputFile: output });
  t.equal(r.stdout, '', 'nothing buffered');
  t.equal(readFileSync(output, 'utf8'), 'x'.repeat(200_000));
  t.equal(statSync(output).mode & 0o777, 0o600);
});

t.test('the real port creates the dump file 0600 and refuses an existing one', async t => {
  const dir = root();
  const podman = createPodman();
  const file = join(dir, 'dump');
  writeFileSync(file, 'older');
  await t.rejects(podman.execToFile('quay-postgres', ['true'], file), { code: 'EEXIST' }, 'never writes over a file it did not make');
  t.equal(readFileSync(file, 'utf8'), 'older');
});
