// The database as it was before a Quay image change. Quay migrates its schema on a new image's first
// start and an older Quay cannot start on a newer schema (alembic finds no code for the newer revision),
// so putting the old unit files back is not a rollback on its own: the dump goes back first.
// pg_dump and pg_restore run inside the postgres container as its superuser over the local socket,
// the way the image's own start hooks do: no password anywhere, nothing but the dump on the host.
import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { COMPONENTS } from '../model/components.js';
import { PG_DATABASE, PG_USER } from '../install-spec/defaults.js';
import { unfinishedUpgrade, unfinishedUpgradeProblem } from '../plan/upgrade-steps.js';
import type { Podman } from '../host/podman.js';
import { ensureDir, pathExists, readIfExists, removeIfExists, syncPath, writeFileAtomic } from '../host/fs.js';

export interface DbSnapshot {
  path: string;
  /** The Quay image that ran on this database when it was dumped. */
  fromImage: string;
  toImage: string;
  takenAt: string;
  bytes: number;
}

const PG = COMPONENTS.postgres.podmanName;

/** quayRoot/db-snapshot/: one dump, replaced by the next upgrade of the Quay image. */
export function dbSnapshotPaths(root: string): { dir: string; dump: string; meta: string } {
  const dir = join(root, 'db-snapshot');
  const dump = join(dir, `${PG_DATABASE}.dump`);
  return { dir, dump, meta: metaOf(dump) };
}

/** A dump's description, beside it. */
function metaOf(dump: string): string {
  return `${dump}.json`;
}

/**
 * The snapshot an earlier run of this upgrade took while `fromImage` still ran, if any: a run killed
 * after quay-app restarted must not dump the already migrated database over it.
 */
export async function findDbSnapshot(root: string, fromImage: string, toImage: string): Promise<DbSnapshot | undefined> {
  const p = dbSnapshotPaths(root);
  let meta: Partial<DbSnapshot> | undefined;
  try { meta = JSON.parse((await readIfExists(p.meta)) ?? 'null') as Partial<DbSnapshot> | undefined; } catch { return undefined; }
  if (!meta || meta.fromImage !== fromImage || meta.toImage !== toImage || !(await pathExists(p.dump))) return undefined;
  // Cut short (a power cut before an older mreg synced it): the database may be migrated already, so a new
  // dump would not be the way back either; the user decides.
  const bytes = (await stat(p.dump)).size;
  if (bytes !== meta.bytes) {
    throw new HostError(`${p.dump}, the database as it was before this upgrade, holds ${bytes} of its ${String(meta.bytes)} bytes: a rollback could not put it back`,
      `if Quay never ran ${toImage} (see mreg logs quay-app), remove ${p.dump} and ${p.meta} and run the upgrade again; otherwise restore a backup (mreg restore); nothing was changed`);
  }
  return { ...(meta as DbSnapshot), path: p.dump };
}

/** pg_dump (custom format) of Quay's database while the current Quay still serves; 0600 under quayRoot. */
export async function takeDbSnapshot(podman: Podman, root: string, fromImage: string, toImage: string): Promise<DbSnapshot> {
  const p = dbSnapshotPaths(root);
  await ensureDir(p.dir, 0o700);
  // The description goes first and comes back last: a dump without one is never taken for this upgrade's.
  await removeIfExists(p.meta);
  const partial = `${p.dump}.partial`;
  await removeIfExists(partial);
  try {
    await podman.execToFile(PG, ['pg_dump', '--format=custom', `--dbname=${PG_DATABASE}`], partial);
  } catch (err) {
    await removeIfExists(partial);
    throw err;
  }
  const snap: DbSnapshot = { path: p.dump, fromImage, toImage, takenAt: new Date().toISOString(), bytes: (await stat(partial)).size };
  // The dump is the rollback's only way back: on disk before its name, and its name (with the folder's
  // fsync in writeFileAtomic) before its description says it may be used.
  await syncPath(partial);
  await rename(partial, p.dump);
  await writeFileAtomic(p.meta, `${JSON.stringify(snap, null, 2)}\n`, 0o600);
  return snap;
}

/**
 * After a rollback put the dump back: the database is the one it holds again, so its description goes
 * (the dump stays, for the user) and a later upgrade dumps the database as it is then, not as it was.
 */
export async function forgetDbSnapshot(snapshot: Pick<DbSnapshot, 'path'>): Promise<void> {
  await removeIfExists(metaOf(snapshot.path));
}

/**
 * Refuses (HostError) while an upgrade of Quay from `from` is unfinished (plan/upgrade-steps.ts
 * unfinishedUpgrade), unless `resumes` is the image it was switching to: up (none) and upgrade share it.
 */
export async function refuseUnfinishedUpgrade(readFile: (path: string) => Promise<string | undefined>, root: string, from: string, resumes?: string): Promise<void> {
  const to = unfinishedUpgrade(await readFile(dbSnapshotPaths(root).meta), from);
  if (to === undefined || to === resumes) return;
  const p = unfinishedUpgradeProblem(to, from);
  throw new HostError(p.message, p.hint);
}

/**
 * The snapshot a killed run of this same upgrade took before its restart, else a new one. `freeBytes`
 * (of quayRoot's file system) is checked against the size of the database's tables first: a dump that fills
 * the disk PostgreSQL also writes to (one file system by default) could stop the registry the upgrade keeps serving.
 */
export async function findOrTakeDbSnapshot(podman: Podman, root: string, from: string, to: string, freeBytes?: (path: string) => Promise<number>): Promise<DbSnapshot> {
  const earlier = await findDbSnapshot(root, from, to);
  if (earlier) return earlier;
  if (freeBytes) {
    const need = await tableBytes(podman);
    const free = need === undefined ? undefined : await freeBytes(root);
    if (need !== undefined && free !== undefined && free < need) {
      throw new HostError(`${root} has ${gib(free)} free; the dump of Quay's database (its tables hold ${gib(need)} in PostgreSQL) may need as much`,
        'free space there (or move quayRoot to a larger file system), then run the upgrade again; nothing was changed');
    }
  }
  try {
    return await takeDbSnapshot(podman, root, from, to);
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    throw new HostError(`could not dump the database before the upgrade: ${err.message}`,
      'quay-postgres must be running (see mreg status) and quayRoot needs room for the dump; nothing was changed');
  }
}

// The dump goes into a database of its own and takes Quay's name in one transaction, so a run killed at
// any point leaves Quay's database whole (the one before, or the restored one), never missing or half
// restored: a rerun (restore resumes, upgrade and adopt roll back again) starts quay-app on it first.
// The price is room for both databases for a moment: Quay's holds metadata only, the blobs are elsewhere.
const RESTORING = `${PG_DATABASE}_restoring`;
const REPLACED = `${PG_DATABASE}_replaced`;

/**
 * SQL that clears what a killed restore left and makes the empty database the dump goes into, owned
 * by the role that owns Quay's (PG_USER if it is gone), from template0 as `createdb` in the image does.
 */
export const PREPARE_RESTORE_SQL = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN ('${RESTORING}', '${REPLACED}') AND pid <> pg_backend_pid();
DROP DATABASE IF EXISTS ${RESTORING};
DROP DATABASE IF EXISTS ${REPLACED};
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0', '${RESTORING}', COALESCE((SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${PG_DATABASE}'), '${PG_USER}')) \\gexec
`;

/**
 * SQL that ends every session (a dying worker may still hold one), gives the restored database Quay's
 * name in one transaction and drops the one it replaces. Run again after it committed, it only drops.
 */
export const SWAP_RESTORED_SQL = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN ('${PG_DATABASE}', '${RESTORING}', '${REPLACED}') AND pid <> pg_backend_pid();
SELECT pg_sleep(0.5);
BEGIN;
SELECT 'ALTER DATABASE ${PG_DATABASE} RENAME TO ${REPLACED}' WHERE EXISTS (SELECT FROM pg_database WHERE datname = '${RESTORING}') AND EXISTS (SELECT FROM pg_database WHERE datname = '${PG_DATABASE}') \\gexec
SELECT 'ALTER DATABASE ${RESTORING} RENAME TO ${PG_DATABASE}' WHERE EXISTS (SELECT FROM pg_database WHERE datname = '${RESTORING}') \\gexec
COMMIT;
DROP DATABASE IF EXISTS ${REPLACED};
`;

const PSQL = ['psql', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--dbname=postgres'];

/** Runs SQL as the superuser, three tries: a session that was just ended may not be gone yet. */
async function psqlWithRetries(podman: Podman, sql: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await podman.exec(PG, PSQL, { input: sql });
      return;
    } catch (err) {
      if (!(err instanceof HostError) || i === 2) throw err;
    }
  }
}

/**
 * Replaces Quay's database with the snapshot. quay-app must be stopped first, or its restarts would
 * reconnect (and migrate again) while the database is being put back.
 */
export async function restoreDbSnapshot(podman: Podman, snap: Pick<DbSnapshot, 'path'>): Promise<void> {
  await psqlWithRetries(podman, PREPARE_RESTORE_SQL);
  // Without --create: the database is the one just made; the dump's objects keep their owners (pg_trgm included).
  await podman.execFromFile(PG, ['pg_restore', '--exit-on-error', `--dbname=${RESTORING}`], snap.path);
  await psqlWithRetries(podman, SWAP_RESTORED_SQL);
}

/**
 * What a dump holds at most: the rows of Quay's tables (heap and TOAST, pg_table_size). Not the database's
 * size: its indexes, a large part of Quay's (logentry's), are dumped as one CREATE INDEX line each, and the
 * custom format compresses the rows, so the bound errs on the side of room. The system schemas (pg_*, whose
 * names a user's cannot take) are not dumped.
 */
export const DUMP_BOUND_SQL = `SELECT COALESCE(sum(pg_table_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'`;

/** DUMP_BOUND_SQL asked in quay-postgres; undefined when it cannot say (the dump then reports its own failure). */
async function tableBytes(podman: Podman): Promise<number | undefined> {
  const r = await podman.exec(PG, ['psql', '--no-psqlrc', '-tA', `--dbname=${PG_DATABASE}`, '-c', DUMP_BOUND_SQL]).catch(() => undefined);
  const n = Number(r?.stdout.trim());
  return r && r.stdout.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}

// Here, not ui/bytes.ts: apply/ does not import ui/ (test/unit/layers.test.ts).
function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
