// The database as it was before a Quay image change. Quay migrates its schema on a new image's first
// start and an older Quay cannot start on a newer schema (alembic finds no code for the newer revision),
// so putting the old unit files back is not a rollback on its own: the dump goes back first.
// pg_dump and pg_restore run inside the postgres container as its superuser over the local socket,
// the way the image's own start hooks do: no password anywhere, nothing but the dump on the host.
import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { COMPONENTS } from '../model/components.js';
import { PG_DATABASE } from '../install-spec/defaults.js';
import type { Podman } from '../host/podman.js';
import { ensureDir, pathExists, readIfExists, removeIfExists, writeFileAtomic } from '../host/fs.js';

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
  return { dir, dump: join(dir, `${PG_DATABASE}.dump`), meta: join(dir, `${PG_DATABASE}.dump.json`) };
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
  await rename(partial, p.dump);
  await writeFileAtomic(p.meta, `${JSON.stringify(snap, null, 2)}\n`, 0o600);
  return snap;
}

/** The snapshot a killed run of this same upgrade took before its restart, else a new one. */
export async function findOrTakeDbSnapshot(podman: Podman, root: string, from: string, to: string): Promise<DbSnapshot> {
  const earlier = await findDbSnapshot(root, from, to);
  if (earlier) return earlier;
  try {
    return await takeDbSnapshot(podman, root, from, to);
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    throw new HostError(`could not dump the database before the upgrade: ${err.message}`,
      'quay-postgres must be running (see mreg status) and quayRoot needs room for the dump; nothing was changed');
  }
}

/** SQL that ends every session on Quay's database (a dying worker may still hold one) and drops it. */
export const DROP_QUAY_DATABASE = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${PG_DATABASE}' AND pid <> pg_backend_pid();
SELECT pg_sleep(0.5);
DROP DATABASE IF EXISTS ${PG_DATABASE};
`;

/**
 * Replaces Quay's database with the snapshot. quay-app must be stopped first, or its restarts would
 * reconnect (and migrate again) while the database is being put back.
 */
export async function restoreDbSnapshot(podman: Podman, snap: Pick<DbSnapshot, 'path'>): Promise<void> {
  let dropped = false;
  for (let i = 0; i < 3 && !dropped; i++) {
    try {
      await podman.exec(PG, ['psql', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--dbname=postgres'], { input: DROP_QUAY_DATABASE });
      dropped = true;
    } catch (err) {
      if (!(err instanceof HostError) || i === 2) throw err;
    }
  }
  // --create makes the database again with its recorded owner, encoding and extensions (pg_trgm).
  await podman.execFromFile(PG, ['pg_restore', '--create', '--exit-on-error', '--dbname=postgres'], snap.path);
}
