// The database snapshot an upgrade of the Quay image takes, and how its rollback puts it back.
import t from 'tap';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PREPARE_RESTORE_SQL, SWAP_RESTORED_SQL, dbSnapshotPaths, findDbSnapshot, restoreDbSnapshot, takeDbSnapshot } from '../../src/apply/db-snapshot.js';
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

const PSQL = ['psql', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--dbname=postgres'];

t.test('restoreDbSnapshot: the dump goes into a database of its own, which takes Quay\'s name in one transaction', async t => {
  const dir = root();
  const { podman, calls } = fakePodman(undefined, 1);
  const snap = await takeDbSnapshot(podman, dir, A, B);
  calls.length = 0;
  await restoreDbSnapshot(podman, snap);
  t.same(calls, [
    { how: 'exec', container: 'quay-postgres', argv: PSQL, input: PREPARE_RESTORE_SQL },
    { how: 'exec', container: 'quay-postgres', argv: PSQL, input: PREPARE_RESTORE_SQL },
    { how: 'fromFile', container: 'quay-postgres', argv: ['pg_restore', '--exit-on-error', '--dbname=quay_restoring'], file: snap.path },
    { how: 'exec', container: 'quay-postgres', argv: PSQL, input: SWAP_RESTORED_SQL },
  ], 'prepare (tried again once it failed: a session still closing), restore into quay_restoring, swap');
});

// A run killed between any two statements must leave Quay's database whole: the rerun starts quay-app on it
// before the data goes back again (stop 40's CI: a restore killed after the drop found no database "quay").
t.test('no statement before the swap\'s transaction touches Quay\'s database', async t => {
  const statements = (sql: string) => sql.split('\n').filter(l => l.trim() !== '');
  for (const l of statements(PREPARE_RESTORE_SQL)) t.notMatch(l, /(DROP|ALTER) DATABASE (IF EXISTS )?quay\b(?!_)/, `prepare: ${l.slice(0, 60)}`);
  t.match(PREPARE_RESTORE_SQL, /DROP DATABASE IF EXISTS quay_restoring;[\s\S]*CREATE DATABASE %I OWNER %I TEMPLATE template0', 'quay_restoring', COALESCE\(\(SELECT pg_get_userbyid\(datdba\) FROM pg_database WHERE datname = 'quay'\), 'quay'\)\) \\gexec/,
    'a new database owned by the role that owns Quay\'s');
  const swap = statements(SWAP_RESTORED_SQL);
  const [begin, commit] = [swap.indexOf('BEGIN;'), swap.indexOf('COMMIT;')];
  t.ok(begin > 0 && commit > begin, 'one transaction');
  t.match(swap.slice(begin, commit).join('\n'), /RENAME TO quay_replaced[\s\S]*quay_restoring RENAME TO quay'/, 'both renames inside it');
  for (const l of [...swap.slice(0, begin), ...swap.slice(commit)]) t.notMatch(l, /(DROP|ALTER) DATABASE (IF EXISTS )?quay\b(?!_)/, `outside it: ${l.slice(0, 60)}`);
  t.match(swap[0], /pg_terminate_backend[\s\S]*'quay', 'quay_restoring', 'quay_replaced'/, 'sessions ended first');
});

t.test('restoreDbSnapshot gives up after three failed tries and never restores over a live database', async t => {
  const dir = root();
  const { podman, calls } = fakePodman(undefined, 0);
  const snap = await takeDbSnapshot(podman, dir, A, B);
  const failing = fakePodman(undefined, 5);
  await t.rejects(restoreDbSnapshot(failing.podman, snap), HostError);
  t.equal(failing.calls.filter(c => c.how === 'fromFile').length, 0, 'no pg_restore');
  t.equal(failing.calls.length, 3);
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
