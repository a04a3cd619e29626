// The switch to an upgrade's files: the database dumped when Quay changes, the files written, the changed
// units restarted until the registry answers /health/instance; when it does not, the rollback: the
// previous files (and database) back, the same units restarted, then what failed thrown.
import { HostError, UnitFailedError } from '../errors.js';
import { CrashLoopError, type ActionPorts, type FilePorts, type InspectPorts, type Podman, type RegistryEndpoint } from '../actions/ports.js';
import { appCrashWatch } from '../apply/crash-watch.js';
import { findOrTakeDbSnapshot, forgetDbSnapshot, restoreDbSnapshot, type DbSnapshot } from '../apply/db-snapshot.js';
import { shortUnitName, UNITS } from '../model/views.js';
import type { Images } from '../install-spec/spec.js';
import { restartedWith, restartRoots, servicesToRestart, snapshotsDatabase, UPGRADE_STEP } from '../plan/upgrade-steps.js';
import type { Output } from '../ui/output.js';
import type { StepLog } from '../ui/step-log.js';
import type { FileChange } from './files.js';
import { executeActions, filesOnly } from '../actions/execute.js';
import { planChangeWrites } from '../plan/writes.js';

/** Rolling back is the safety net: give the old version at least this long even with a short --timeout. */
const ROLLBACK_MIN_MS = 5 * 60_000;
const HEALTH_INTERVAL_MS = 100;

type Outcome = { ok: true } | { ok: false; unit: string; reason: string };

type Systemd = ActionPorts['systemd'];

/** What the restart and the rollback go through: the scope's systemd and journal, podman, files and the health wait. */
export interface RestartPorts {
  systemd: Systemd;
  podman: Podman;
  files: FilePorts;
  journalTail: ActionPorts['journalTail'];
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
    await writeChanges(ports.files, changes, 'new', out).catch(async (err: unknown) => {
      if (i.resuming) throw err;
      const back = await writeChanges(ports.files, changes, 'previous', out).then(() => '', (e: unknown) => (e instanceof Error ? e.message : String(e)));
      if (!back) throw err;
      throw new HostError(`${err instanceof Error ? err.message : String(err)}; putting back the files already written failed too (${back})`,
        `free space, then run the same mreg upgrade again; until then the unit files are part old, part new: ${changed.join(', ')}`);
    });
  });
  for (const c of changes) out.info(`    ${c.after === undefined ? 'removed' : 'changed'} ${c.path}`);
  log.did(...changes.map(c => (c.after === undefined ? S.removeFile(c.path) : S.write(c.path))));
  await out.step('reload systemd (runs the Quadlet generator)', () => ports.systemd.reload());
  log.did(S.reload);
  const restartedAt = Date.now();
  const outcome = await out.step(`restart ${units.join(', ') || 'nothing'} and wait for health (up to ${timeoutMs / 1000} s)`,
    () => restartAndWait(ports, roots, ep, restartedAt + timeoutMs, unit => log.did(S.restart(unit))));
  if (!outcome.ok) return rollBack(out, ports, changes, services, ep, outcome, { started: i.started, timeoutMs, snapshot, steps: log.ran });
  log.did(S.health);
  return { units, snapshot, downtimeMs: Date.now() - restartedAt };
}

/** The switch's files (`new`) and the rollback's (`previous`), each a list of actions the executor runs. */
async function writeChanges(files: FilePorts, changes: readonly FileChange[], which: 'new' | 'previous', out: Output): Promise<void> {
  await executeActions(planChangeWrites(changes, which), filesOnly(files), { out });
}

/**
 * Restarts `roots` (restartRoots) and starts quay-app, the jobs asked for together, then waits for
 * /health/instance, all before `deadline` (ms since epoch). `restarted` hears of each root whose job is done.
 */
async function restartAndWait(ports: Pick<RestartPorts, 'systemd' | 'waitForHealth'>, roots: readonly string[], ep: RegistryEndpoint, deadline: number,
  restarted?: (unit: string) => void): Promise<Outcome> {
  const { systemd } = ports;
  // quay-app's start merges into the restart its dependencies' jobs gave it; it starts an app that was not running.
  const failed = await restartTogether(systemd, roots, deadline, { restarted, start: roots.includes(UNITS.app) ? [] : [UNITS.app] });
  if (failed) return failed;
  try {
    await ports.waitForHealth(ep, Math.max(deadline - Date.now(), 0), { intervalMs: HEALTH_INTERVAL_MS, giveUp: appCrashWatch(systemd) });
  } catch (err) {
    if (err instanceof CrashLoopError) return { ok: false, unit: err.unit, reason: err.reason };
    return { ok: false, unit: UNITS.app, reason: err instanceof Error ? err.message : String(err) };
  }
  return { ok: true };
}

/**
 * Asks for the restart of each of `roots` and the start of each of `start` at once, as
 * `systemctl restart a b` does, and waits for every job before `deadline`: the first that failed, in
 * start order, or undefined when all are done.
 */
async function restartTogether(systemd: Systemd, roots: readonly string[], deadline: number,
  o: { restarted?: (unit: string) => void; start?: readonly string[] } = {}): Promise<Outcome | undefined> {
  const remaining = deadline - Date.now();
  const starts = o.start ?? [];
  if (roots.length === 0 && starts.length === 0) return undefined;
  if (remaining <= 0) return { ok: false, unit: roots[0] ?? starts[0]!, reason: 'the time ran out before it was restarted' };
  // postgres/redis jobs end at "healthy" (startWaitsForHealth in the model); quay-app's when its container runs, then we probe.
  const job = async (unit: string, kind: 'restart' | 'start'): Promise<Outcome | undefined> => {
    let result: string;
    try {
      result = await (kind === 'restart' ? systemd.restartUnit(unit, { timeoutMs: remaining }) : systemd.startUnit(unit, { timeoutMs: remaining }));
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      return { ok: false, unit, reason: `not ready within ${Math.round(remaining / 1000)} s (${err.message})` };
    }
    if (result !== 'done') return { ok: false, unit, reason: `its ${kind} job ended with result "${result}"` };
    if (kind === 'restart') o.restarted?.(unit);
    return undefined;
  };
  const outcomes = await Promise.all([...roots.map(u => job(u, 'restart')), ...starts.map(u => job(u, 'start'))]);
  return outcomes.find(x => x !== undefined);
}

/**
 * The previous version's start with its database: quay-app stopped (its restarts would reconnect and
 * migrate again), the other changed units back on their previous files, the dump put back, then quay-app.
 * `budgetMs` is each start's, counted from when it begins: a restore of a large database takes what it takes.
 */
async function restoreAndRestart(out: Output, ports: RestartPorts, snapshot: DbSnapshot, services: readonly string[],
  ep: RegistryEndpoint, budgetMs: number): Promise<Outcome & { restored: boolean }> {
  const { systemd, podman } = ports;
  const stopApp = () => systemd.stopUnit(UNITS.app, { timeoutMs: 5 * 60_000 });
  await out.step('stop quay-app', stopApp);
  const others = restartRoots(services.filter(u => u !== UNITS.app));
  if (others.length > 0) {
    const failed = await out.step(`restart ${restartedWith(others).filter(u => u !== UNITS.app).join(', ')} on the previous version`, async () => {
      const restarted = await restartTogether(systemd, others, Date.now() + budgetMs);
      if (restarted) return restarted;
      // The pod's start wants quay-app: the old Quay must not meet the new version's database before the restore.
      await stopApp();
      // A pod restart restarts PostgreSQL in jobs of its own, after the pod's: the restore needs it healthy
      // (its start job ends there), so a start of it is asked for and waited on (it merges into that job).
      return others.includes(UNITS.pod) ? restartTogether(systemd, [], Date.now() + budgetMs, { start: [UNITS.postgres] }) : undefined;
    });
    if (failed) return { ...failed, restored: false };
  }
  try {
    await out.step(`restore the database from ${snapshot.path}`, () => restoreDbSnapshot(podman, snapshot));
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    return { ok: false, unit: UNITS.postgres, reason: `the database snapshot could not be restored (${err.message})`, restored: false };
  }
  // The database is the one before the upgrade again: the next upgrade takes a dump of its own, never this one.
  await forgetDbSnapshot(snapshot);
  return { ...(await out.step(`start ${UNITS.app} on the previous version`, () => restartAndWait(ports, [UNITS.app], ep, Date.now() + budgetMs))), restored: true };
}

/** Puts the previous files (and database) back, restarts the same units, waits for health, then throws what failed. */
async function rollBack(out: Output, ports: RestartPorts, changes: readonly FileChange[], services: readonly string[], ep: RegistryEndpoint,
  failure: { unit: string; reason: string },
  info: { started: number; timeoutMs: number; snapshot: DbSnapshot | undefined; steps: readonly string[] }): Promise<never> {
  const { systemd, journalTail } = ports;
  // Read the journal first: the rollback's own restart would push the failing lines out of the tail.
  const tail = await journalTail(failure.unit).catch(() => []);
  out.warn(`${failure.unit}: ${failure.reason}; rolling back`);
  await out.step('write the previous files back', () => writeChanges(ports.files, changes, 'previous', out));
  await out.step('reload systemd', () => systemd.reload());
  const budgetMs = Math.max(info.timeoutMs, ROLLBACK_MIN_MS);
  const snap = info.snapshot;
  // RestartUnit with mode "replace" supersedes the new version's still-pending start job.
  const units = restartedWith(restartRoots(services));
  const back: Outcome & { restored?: boolean } = snap ? await restoreAndRestart(out, ports, snap, services, ep, budgetMs)
    : await out.step(`restart ${units.join(', ')} on the previous version`, () => restartAndWait(ports, restartRoots(services), ep, Date.now() + budgetMs));
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
