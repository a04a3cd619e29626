// The switch to an upgrade's files: the database dumped when Quay changes, the files written, the changed
// units restarted until the registry answers /health/instance; when it does not, the rollback: the
// previous files (and database) back, the same units restarted, then what failed thrown.
import { HostError, UnitFailedError } from '../errors.js';
import { CrashLoopError, type ActionPorts, type InspectPorts, type Podman, type RegistryEndpoint } from '../actions/ports.js';
import { action, type Action } from '../actions/action.js';
import { appCrashWatch } from '../apply/crash-watch.js';
import { findOrTakeDbSnapshot, forgetDbSnapshot, restoreDbSnapshot, type DbSnapshot } from '../apply/db-snapshot.js';
import { shortUnitName, UNITS } from '../model/views.js';
import type { Images } from '../install-spec/spec.js';
import { planRestart, restartedWith, restartRoots, servicesToRestart, snapshotsDatabase, UPGRADE_STEP } from '../plan/upgrade-steps.js';
import type { Output } from '../ui/output.js';
import type { StepLog } from '../ui/step-log.js';
import type { FileChange } from './files.js';
import { executeActions, filesOnly, type ExecuteOptions, type LazyPorts } from '../actions/execute.js';
import { planChangeWrites } from '../plan/writes.js';

/** Rolling back is the safety net: give the old version at least this long even with a short --timeout. */
const ROLLBACK_MIN_MS = 5 * 60_000;
const HEALTH_INTERVAL_MS = 100;

/** A failed unit, why, and its journal tail when the failed job's error read it. */
type Failed = { ok: false; unit: string; reason: string; tail?: readonly string[] };
type Outcome = { ok: true } | Failed;

/** What the restart and the rollback go through: the scope's action ports (systemd, journal, podman, files) and the health wait. */
export interface RestartPorts {
  actions: ActionPorts;
  /** The scope's podman with exec (the dump and its restore). */
  podman: Podman;
  waitForHealth: InspectPorts['waitForHealth'];
  /** Free bytes where the database dump goes (quayRoot). */
  diskFree: InspectPorts['diskFree'];
}

export interface SwitchInput {
  changes: readonly FileChange[];
  /** An interrupted upgrade resumed: the files on disk are already the new ones, `before` is the record's plan. */
  resuming?: boolean;
  /** The images the install record names, and the new ones. */
  recorded: Images;
  images: Images;
  /** quayRoot, where the database dump goes. */
  root: string;
  ep: RegistryEndpoint;
  timeoutMs: number;
  /** When the run began (ms since epoch), for the rollback's durationMs. */
  started: number;
}

/** What was restarted, the snapshot taken (or reused), and how long from the first restart until healthy. */
export interface Switched { units: string[]; snapshot: DbSnapshot | undefined; downtimeMs: number }

/**
 * Switches to the new files; on a failed restart or health wait it rolls back and throws what failed.
 * `log` hears each step's id as it ends.
 */
export async function switchOver(out: Output, ports: RestartPorts, log: StepLog, i: SwitchInput): Promise<Switched> {
  const S = UPGRADE_STEP;
  const { changes, ep, timeoutMs } = i;
  const { systemd } = ports.actions;
  const changed = changes.map(c => c.path);
  const services = servicesToRestart(changed);
  // mreg asks for the lowest changed units; systemd restarts what depends on them once (restartRoots).
  const roots = restartRoots(services);
  const units = restartedWith(roots);
  const snapshot = snapshotsDatabase(i.recorded, i.images)
    ? await out.step('database snapshot (a rollback puts it back)', () => findOrTakeDbSnapshot(ports.podman, i.root, i.recorded.quay, i.images.quay, ports.diskFree)) : undefined;
  if (snapshot) {
    out.info(`    ${snapshot.path} (${(snapshot.bytes / 1e6).toFixed(1)} MB, taken ${snapshot.takenAt})`);
    log.did(S.dbSnapshot);
  }
  await out.step('write changed files', async () => {
    // A write that fails midway (a full disk) puts back those already written: half a version on disk would
    // be started by the next reload or boot, and a re-run would restart only the units whose files still differ.
    // Resuming, the disk holds the new files already (an earlier run may have migrated the database): kept.
    await writeChanges(out, ports, changes, 'new').catch(async (err: unknown) => {
      if (i.resuming) throw err;
      const back = await writeChanges(out, ports, changes, 'previous').then(() => '', (e: unknown) => (e instanceof Error ? e.message : String(e)));
      if (!back) throw err;
      throw new HostError(`${err instanceof Error ? err.message : String(err)}; putting back the files already written failed too (${back})`,
        `free space, then run the same mreg upgrade again; until then the unit files are part old, part new: ${changed.join(', ')}`);
    });
  });
  for (const c of changes) out.info(`    ${c.after === undefined ? 'removed' : 'changed'} ${c.path}`);
  log.did(...changes.map(c => (c.after === undefined ? S.removeFile(c.path) : S.write(c.path))));
  await out.step('reload systemd (runs the Quadlet generator)', () => systemd.reload());
  log.did(S.reload);
  const restartedAt = Date.now();
  const restart = planRestart(roots, ep, `restart ${units.join(', ') || 'nothing'} and wait for health (up to ${timeoutMs / 1000} s)`);
  const outcome = await runUntil(out, ports, restart, ep, restartedAt + timeoutMs, a => {
    if (a.kind === 'start-unit' && a.restart) log.did(S.restart(a.unit));
  });
  if (!outcome.ok) return rollBack(out, ports, changes, services, ep, outcome, { started: i.started, timeoutMs, snapshot, steps: log.ran });
  log.did(S.health);
  return { units, snapshot, downtimeMs: Date.now() - restartedAt };
}

/** The switch's files (`new`) and the rollback's (`previous`), each a list of actions the executor runs. */
async function writeChanges(out: Output, ports: RestartPorts, changes: readonly FileChange[], which: 'new' | 'previous'): Promise<void> {
  await executeActions(planChangeWrites(changes, which), filesOnly(ports.actions.files), { out });
}

/**
 * Runs `actions` (jobs, the health wait) on `deadline` (ms since epoch): ok, or the first failure as the
 * unit it names and why (a job's result or timeout, a crash loop, the health wait's end: quay-app's).
 */
async function runUntil(out: Output, ports: RestartPorts, actions: readonly Action[], ep: RegistryEndpoint, deadline: number,
  done?: ExecuteOptions['done']): Promise<Outcome> {
  const { actions: a } = ports;
  const run: LazyPorts = { files: a.files, podman: a.podman, connect: async () => a,
    health: ms => ports.waitForHealth(ep, ms ?? deadline - Date.now(), { intervalMs: HEALTH_INTERVAL_MS, giveUp: appCrashWatch(a.systemd) }) };
  try {
    await executeActions(actions, run, { out, deadline, done });
    return { ok: true };
  } catch (err) {
    if (err instanceof UnitFailedError || err instanceof CrashLoopError) {
      const reason = err.message.startsWith(`${err.unit}: `) ? err.message.slice(err.unit.length + 2) : err.message;
      return { ok: false, unit: err.unit, reason, tail: err instanceof UnitFailedError ? err.journalTail : undefined };
    }
    // The health wait's end, or anything else: the new version is not serving, and the rollback is the way back.
    return { ok: false, unit: UNITS.app, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The previous version's start with its database: quay-app stopped (its restarts would reconnect and
 * migrate again), the other changed units back on their previous files, the dump put back, then quay-app.
 * `budgetMs` is each step's, counted from when it begins: a restore of a large database takes what it takes.
 */
async function restoreAndRestart(out: Output, ports: RestartPorts, snapshot: DbSnapshot, services: readonly string[],
  ep: RegistryEndpoint, budgetMs: number): Promise<Outcome & { restored: boolean }> {
  const stopApp = (progress: string) => action({ kind: 'stop-unit', unit: UNITS.app }, progress);
  const stopped = await runUntil(out, ports, [stopApp('stop quay-app')], ep, Date.now() + budgetMs);
  if (!stopped.ok) return { ...stopped, restored: false };
  const others = restartRoots(services.filter(u => u !== UNITS.app));
  if (others.length > 0) {
    const progress = `restart ${restartedWith(others).filter(u => u !== UNITS.app).join(', ')} on the previous version`;
    const restarted = await runUntil(out, ports, [
      ...others.map(unit => action({ kind: 'start-unit', unit, restart: true }, progress)),
      // The pod's start wants quay-app: the old Quay must not meet the new version's database before the restore.
      stopApp(progress),
      // A pod restart restarts PostgreSQL in jobs of its own, after the pod's: the restore needs it healthy
      // (its start job ends there), so a start of it is asked for and waited on (it merges into that job).
      ...(others.includes(UNITS.pod) ? [action({ kind: 'start-unit', unit: UNITS.postgres }, progress)] : []),
    ], ep, Date.now() + budgetMs);
    if (!restarted.ok) return { ...restarted, restored: false };
  }
  try {
    await out.step(`restore the database from ${snapshot.path}`, () => restoreDbSnapshot(ports.podman, snapshot));
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    return { ok: false, unit: UNITS.postgres, reason: `the database snapshot could not be restored (${err.message})`, restored: false };
  }
  // The database is the one before the upgrade again: the next upgrade takes a dump of its own, never this one.
  await forgetDbSnapshot(snapshot);
  const started = await runUntil(out, ports, planRestart([UNITS.app], ep, `start ${UNITS.app} on the previous version`), ep, Date.now() + budgetMs);
  return { ...started, restored: true };
}

/** Puts the previous files (and database) back, restarts the same units, waits for health, then throws what failed. */
async function rollBack(out: Output, ports: RestartPorts, changes: readonly FileChange[], services: readonly string[], ep: RegistryEndpoint,
  failure: Failed, info: { started: number; timeoutMs: number; snapshot: DbSnapshot | undefined; steps: readonly string[] }): Promise<never> {
  const { systemd, journalTail } = ports.actions;
  // Read the journal first (unless the failed job's error holds it): the rollback's own restart would push the failing lines out of the tail.
  const tail = failure.tail?.length ? failure.tail : await journalTail(failure.unit).catch(() => []);
  out.warn(`${failure.unit}: ${failure.reason}; rolling back`);
  await out.step('write the previous files back', () => writeChanges(out, ports, changes, 'previous'));
  await out.step('reload systemd', () => systemd.reload());
  const budgetMs = Math.max(info.timeoutMs, ROLLBACK_MIN_MS);
  const snap = info.snapshot;
  // RestartUnit with mode "replace" supersedes the new version's still-pending start job.
  const units = restartedWith(restartRoots(services));
  const back: Outcome & { restored?: boolean } = snap ? await restoreAndRestart(out, ports, snap, services, ep, budgetMs)
    : await runUntil(out, ports, planRestart(restartRoots(services), ep, `restart ${units.join(', ')} on the previous version`), ep, Date.now() + budgetMs);
  const durationMs = Date.now() - info.started;
  if (out.json) {
    out.resultJson({ changed: changes.map(c => c.path), restarted: units, rolledBack: true, rollbackHealthy: back.ok, durationMs, error: `${failure.unit}: ${failure.reason}`,
      ...(snap ? { dbSnapshot: snap.path, databaseRestored: back.restored === true } : {}), steps: info.steps });
  }
  if (!back.ok) {
    throw new UnitFailedError(back.unit, 'rollback-failed', await journalTail(back.unit).catch(() => tail),
      `the previous unit files are back in place${snap ? `; the database before the upgrade is in ${snap.path} (pg_dump custom format)` : ''}; see: mreg status and mreg logs ${shortUnitName(back.unit)}`,
      `${failure.unit}: ${failure.reason}; the rollback did not become healthy either (${back.unit}: ${back.reason})`);
  }
  throw new UnitFailedError(failure.unit, 'rolled-back', tail, `the install record is unchanged; see: mreg logs ${shortUnitName(failure.unit)}`,
    `upgrade failed: ${failure.unit}: ${failure.reason}; rolled back to the previous version${snap ? ' and its database' : ''}, which is healthy again`);
}
