// A failed adopt after the old registry stopped: put mirror-registry back as it was and start it again
// (issue 15, 3). Everything adopt changed after the stop is undone in reverse order; the data was never
// copied or rewritten, only the Postgres role's name.
import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Podman } from '../host/podman.js';
import type { Systemd } from '../host/systemd.js';
import { pathExists, readIfExists, removeIfExists, writeFileAtomic } from '../host/fs.js';
import type { ActionPorts, FilePorts, InspectPorts } from '../actions/ports.js';
import { HostError, UnitFailedError } from '../errors.js';
import type { Output } from '../ui/output.js';
import { COMPONENTS } from '../model/components.js';
import { ALL_SECRET_NAMES, CONTAINER_NAMES, STOP_ORDER, UNITS } from '../model/views.js';
import { dbSnapshotPaths, restoreDbSnapshot, type DbSnapshot } from '../apply/db-snapshot.js';
import { readHealthCas } from '../apply/health-ca.js';
import { HEALTH_TIMEOUT_MS, PG_USER } from '../install-spec/defaults.js';
import { quayRootLayout, type QuayRootLayout } from '../install-spec/layout.js';
import type { InstallSpec, Scope, Storage } from '../install-spec/spec.js';
import type { Plan } from '../plan/plan.js';
import { BACKUP_DIR_NAME, restoreLegacyUnits, type FoundLegacy } from './find.js';
import { renamePgRole } from './pg-role.js';

/** A file's content and mode before adopt wrote it; content undefined: it did not exist. */
export interface SavedFile { path: string; content?: string; mode: number }

/** Asks quay-postgres `SELECT 1` over its local socket until it answers, up to `timeoutMs`. */
export async function waitForPostgres(podman: Pick<Podman, 'exec'>, timeoutMs = 3 * 60_000, pauseMs = 2_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await podman.exec(COMPONENTS.postgres.podmanName, ['psql', '--no-psqlrc', '--dbname=postgres', '--command=SELECT 1']);
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    await new Promise(r => setTimeout(r, pauseMs));
  }
}

export async function saveFiles(paths: readonly string[]): Promise<SavedFile[]> {
  return Promise.all(paths.map(async path => {
    const content = await readIfExists(path);
    return { path, content, mode: content === undefined ? 0o600 : (await stat(path)).mode & 0o7777 };
  }));
}

export interface AdoptState {
  found: FoundLegacy;
  spec: InstallSpec;
  planned: Plan;
  layout: QuayRootLayout;
  saved: SavedFile[];
  /** The old role name, when adopt renamed it. */
  pgUser: string;
  roleRenamed: boolean;
  newCa: boolean;
  relabel: boolean;
  /** The database before a new Quay image migrated it: put back before the old Quay starts. */
  snapshot?: DbSnapshot;
  /** Set as mreg's units are asked to start: from then the new Quay may have migrated the database. */
  appStarted?: boolean;
}

/**
 * What putting mirror-registry back needs, and nothing else: plain data, so a re-run of adopt after a kill
 * reads it from the marker (apply/adopt-marker.ts) when the old units are no longer where adopt looks for them.
 */
export interface PutBackState {
  scope: Scope;
  hostname: string;
  port: number;
  quayRoot: string;
  /** mirror-registry's unit files, where they were. */
  unitPaths: string[];
  /** The files mreg's plan writes; those not in `saved` nor `unitPaths` are removed. */
  written: string[];
  saved: SavedFile[];
  pgUser: string;
  /** Whether the role may have been renamed: renaming back is a no-op when it was not. */
  roleRenamed: boolean;
  pgImage: string;
  pgStorage: Storage;
  newCa: boolean;
  relabel: boolean;
  snapshot?: DbSnapshot;
}

export function putBackStateOf(st: AdoptState): PutBackState {
  const { spec } = st;
  return {
    scope: spec.scope, hostname: spec.hostname, port: spec.port, quayRoot: st.found.quayRoot, unitPaths: st.found.unitPaths,
    written: st.planned.files.map(f => f.path), saved: st.saved, pgUser: st.pgUser, roleRenamed: st.roleRenamed,
    pgImage: spec.images.postgres, pgStorage: spec.pgStorage, newCa: st.newCa, relabel: st.relabel,
    // Until the new Quay may have run, the database is the old registry's own, pushes since the dump included.
    ...(st.snapshot && st.appStarted ? { snapshot: st.snapshot } : {}),
  };
}

/**
 * Stops mreg's units, removes what adopt wrote, puts back the old files, units, enable links, role
 * name and CA, and starts the old units. Resolves with the steps that could not be undone ([] when
 * mirror-registry is back as it was).
 */
export async function putMirrorRegistryBack(ports: { systemd: Pick<Systemd, 'stopUnit' | 'resetFailed' | 'reload' | 'startUnit'>; podman: Podman }, st: PutBackState, log: (line: string) => void): Promise<string[]> {
  const { systemd, podman } = ports;
  const failed: string[] = [];
  const attempt = async (what: string, f: () => Promise<unknown>) => {
    try { await f(); log(`    ${what}`); } catch (err) { failed.push(`${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`); }
  };
  await attempt('stopped mreg\'s units', async () => {
    for (const u of STOP_ORDER) { await systemd.stopUnit(u); await systemd.resetFailed(u); }
    await podman.containersRemove(CONTAINER_NAMES);
    await podman.podRemove(COMPONENTS.pod.podmanName);
  });
  await attempt('removed mreg\'s units', async () => {
    // podman 4.x: mreg's quay-pod.service has the old unit's path; restoring the old units replaces it.
    const mine = st.written.filter(p => !st.saved.some(s => s.path === p) && !st.unitPaths.includes(p));
    for (const p of mine) await removeIfExists(p);
  });
  await attempt('config.yaml, ssl.cert and ssl.key as they were', async () => {
    for (const f of st.saved) {
      if (f.content === undefined) await removeIfExists(f.path);
      else await writeFileAtomic(f.path, f.content, f.mode);
    }
  });
  if (st.newCa) {
    await attempt('the old CA back', async () => {
      const old = join(st.quayRoot, BACKUP_DIR_NAME, 'quay-rootCA');
      if (!(await pathExists(old))) return;
      const { caDir } = quayRootLayout(st.quayRoot);
      await removeIfExists(caDir);
      await rename(old, caDir);
    });
  }
  await attempt('mreg\'s podman secrets removed', async () => { for (const s of ALL_SECRET_NAMES) await podman.secretRemove(s); });
  if (st.roleRenamed) {
    await attempt(`the Postgres role "${PG_USER}" renamed back to "${st.pgUser}"`,
      () => renamePgRole(st.pgImage, st.pgStorage, PG_USER, { relabel: st.relabel, to: st.pgUser }));
  }
  await attempt('the old units and their enable links back', () => restoreLegacyUnits(st));
  await attempt('systemd reloaded', () => systemd.reload());
  const start = async (units: readonly string[]) => {
    for (const u of units) {
      const result = await systemd.startUnit(u);
      if (result !== 'done' && result !== 'skipped') throw new Error(`${u}: start job ended with "${result}"`);
    }
  };
  const order = [...STOP_ORDER].reverse();
  const snap = st.snapshot;
  if (!snap) {
    await attempt('mirror-registry started', () => start(order));
    return failed;
  }
  // The old Quay cannot start on the schema the new one migrated to: the dump goes back first.
  await attempt('mirror-registry\'s PostgreSQL and Redis started', () => start(order.filter(u => u !== UNITS.app)));
  // mirror-registry's units are Type=simple: a finished start job does not mean PostgreSQL answers yet.
  await attempt('mirror-registry\'s PostgreSQL answers', () => waitForPostgres(podman));
  if (failed.length === 0) await attempt(`the database as it was before adopt (${snap.path})`, () => restoreDbSnapshot(podman, snap));
  if (failed.length === 0) await attempt('mirror-registry\'s Quay started', () => start([UNITS.app]));
  return failed;
}

/** What putting mirror-registry back goes through: the scope's systemd, podman, files and the health wait. */
export interface PutBackPorts {
  systemd: ActionPorts['systemd'];
  podman: Podman;
  files: FilePorts;
  waitForHealth: InspectPorts['waitForHealth'];
}

/** What putting mirror-registry back did not do: steps not undone (the marker stays), or health after all were. */
export interface PutBackLeft { notUndone: string[]; unhealthy?: string }

/**
 * mirror-registry back as it was (putMirrorRegistryBack), then its health; once healthy, adopt's backup
 * folder and dump are gone. The marker goes once nothing of mreg's is left to undo; while something is,
 * it stays, so running adopt again tries again.
 */
export async function restoreMirrorRegistry(out: Output, ports: PutBackPorts, state: PutBackState, where: { backup: string; marker: string }): Promise<PutBackLeft> {
  const layout = quayRootLayout(state.quayRoot);
  const notUndone = await out.step('put mirror-registry back', () => putMirrorRegistryBack(ports, state, l => out.info(l)));
  if (notUndone.length > 0) return { notUndone };
  await ports.files.remove(where.marker);
  // mirror-registry's pair as it was: issued by its CA, or the admin's own.
  const ca = await readHealthCas('provided', layout, { withInstallCa: true });
  const unhealthy = await out.step('mirror-registry health', () => ports.waitForHealth({ hostname: state.hostname, port: state.port, ca }, HEALTH_TIMEOUT_MS, { intervalMs: 200 }))
    .then(() => '', (e: unknown) => (e instanceof Error ? e.message : String(e)));
  if (unhealthy) return { notUndone, unhealthy };
  await ports.files.remove(where.backup);
  if (state.snapshot) await ports.files.remove(dbSnapshotPaths(layout.root).dir);
  return { notUndone };
}

/** restoreMirrorRegistry's leftovers as one line, and how to finish: again through adopt while the marker stays, else by hand. */
export function putBackLeft(state: PutBackState, where: { backup: string; marker: string }, left: PutBackLeft): { problem: string; hint: string } | undefined {
  const { backup } = where;
  if (left.notUndone.length === 0 && !left.unhealthy) return undefined;
  const byHand = `the old units, config.yaml and TLS files are in ${backup}${state.snapshot ? ` and the database before adopt in ${state.snapshot.path} (pg_dump custom format)` : ''}: move what is missing back, systemctl${state.scope === 'rootless' ? ' --user' : ''} daemon-reload, start quay-app${state.roleRenamed ? `, and rename the Postgres role "${PG_USER}" back to "${state.pgUser}"` : ''}; then remove ${where.marker}, or a later mreg adopt puts it back again`;
  return left.unhealthy
    ? { problem: `mirror-registry's units are back but it is not healthy: ${left.unhealthy}`, hint: `see ${state.scope === 'rootless' ? 'systemctl --user' : 'systemctl'} status quay-app; ${byHand}` }
    : { problem: `putting mirror-registry back did not finish: ${left.notUndone.join('; ')}`, hint: `fix that and run mreg adopt again (it tries the put-back again), or by hand: ${byHand}` };
}

/**
 * After a failure once the old registry stopped: mirror-registry back as it was and healthy, then the
 * error to throw, saying so (or naming what could not be undone and how to finish by hand).
 */
export async function putBack(out: Output, ports: PutBackPorts, state: PutBackState, err: HostError | UnitFailedError,
  where: { backup: string; marker: string }): Promise<HostError | UnitFailedError> {
  out.warn(`adopt failed (${err.message.split('\n')[0]}); putting mirror-registry back`);
  const left = putBackLeft(state, where, await restoreMirrorRegistry(out, ports, state, where));
  const message = left ? `adopt failed: ${err.message}; ${left.problem}` : `adopt failed: ${err.message}; mirror-registry was put back as it was and is healthy again`;
  const hint = left ? left.hint : `nothing of mreg's is left; fix the cause${err.hint ? ` (${err.hint})` : ''} and run mreg adopt again`;
  return err instanceof UnitFailedError ? new UnitFailedError(err.unit, err.result, err.journalTail, hint, message) : new HostError(message, hint);
}
