// Restarting the units an upgrade changed until the registry answers /health/instance, and the rollback
// when it does not: the previous files (and database) back, the same units restarted, then what failed thrown.
import { HostError, UnitFailedError } from '../errors.js';
import { CrashLoopError, type ActionPorts, type FilePorts, type InspectPorts, type Podman, type RegistryEndpoint } from '../actions/ports.js';
import { shortUnitName, UNITS } from '../model/views.js';
import type { Output } from '../ui/output.js';
import { appCrashWatch } from './crash-watch.js';
import { restoreDbSnapshot, type DbSnapshot } from './db-snapshot.js';
import { writeChanges, type FileChange } from './upgrade-files.js';

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
}

/**
 * Restarts `units` in order, then waits for /health/instance, all before `deadline` (ms since epoch).
 * `restarted` hears of each unit whose restart job is done.
 */
export async function restartAndWait(ports: Pick<RestartPorts, 'systemd' | 'waitForHealth'>, units: readonly string[], ep: RegistryEndpoint, deadline: number,
  restarted?: (unit: string) => void): Promise<Outcome> {
  const { systemd } = ports;
  const failed = await restartInOrder(systemd, units, deadline, restarted);
  if (failed) return failed;
  try {
    await ports.waitForHealth(ep, Math.max(deadline - Date.now(), 0), { intervalMs: HEALTH_INTERVAL_MS, giveUp: appCrashWatch(systemd) });
  } catch (err) {
    if (err instanceof CrashLoopError) return { ok: false, unit: err.unit, reason: err.reason };
    return { ok: false, unit: UNITS.app, reason: err instanceof Error ? err.message : String(err) };
  }
  return { ok: true };
}

/** Restarts `units` in order before `deadline`; the first that fails, or undefined when all were restarted. */
async function restartInOrder(systemd: Systemd, units: readonly string[], deadline: number,
  restarted?: (unit: string) => void): Promise<Outcome | undefined> {
  for (const unit of units) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { ok: false, unit, reason: 'the time ran out before it was restarted' };
    let result: string;
    try {
      // postgres/redis jobs end at "healthy" (startWaitsForHealth in the model); quay-app's when its container runs, then we probe.
      result = await systemd.restartUnit(unit, { timeoutMs: remaining });
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      return { ok: false, unit, reason: `not ready within ${Math.round(remaining / 1000)} s (${err.message})` };
    }
    if (result !== 'done') return { ok: false, unit, reason: `its restart job ended with result "${result}"` };
    restarted?.(unit);
  }
  return undefined;
}

/**
 * The previous version's start with its database: quay-app stopped (its restarts would reconnect and
 * migrate again), the other changed units back on their previous files, the dump put back, then quay-app.
 */
async function restoreAndRestart(out: Output, ports: RestartPorts, snapshot: DbSnapshot, units: string[],
  ep: RegistryEndpoint, deadline: number): Promise<Outcome & { restored: boolean }> {
  const { systemd, podman } = ports;
  await out.step('stop quay-app', () => systemd.stopUnit(UNITS.app, { timeoutMs: 5 * 60_000 }));
  const others = units.filter(u => u !== UNITS.app);
  const failed = others.length ? await out.step(`restart ${others.join(', ')} on the previous version`, () => restartInOrder(systemd, others, deadline)) : undefined;
  if (failed) return { ...failed, restored: false };
  try {
    await out.step(`restore the database from ${snapshot.path}`, () => restoreDbSnapshot(podman, snapshot));
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    return { ok: false, unit: UNITS.postgres, reason: `the database snapshot could not be restored (${err.message})`, restored: false };
  }
  return { ...(await out.step(`start ${UNITS.app} on the previous version`, () => restartAndWait(ports, [UNITS.app], ep, deadline))), restored: true };
}

/** Puts the previous files (and database) back, restarts the same units, waits for health, then throws what failed. */
export async function rollBack(out: Output, ports: RestartPorts, changes: FileChange[], units: string[], ep: RegistryEndpoint,
  failure: { unit: string; reason: string },
  info: { started: number; timeoutMs: number; snapshot: DbSnapshot | undefined; steps: readonly string[] }): Promise<never> {
  const { systemd, journalTail } = ports;
  // Read the journal first: the rollback's own restart would push the failing lines out of the tail.
  const tail = await journalTail(failure.unit).catch(() => []);
  out.warn(`${failure.unit}: ${failure.reason}; rolling back`);
  await out.step('write the previous files back', () => writeChanges(ports.files, changes, 'previous'));
  await out.step('reload systemd', () => systemd.reload());
  const deadline = Date.now() + Math.max(info.timeoutMs, ROLLBACK_MIN_MS);
  const snap = info.snapshot;
  // RestartUnit with mode "replace" supersedes the new version's still-pending start job.
  const back: Outcome & { restored?: boolean } = snap ? await restoreAndRestart(out, ports, snap, units, ep, deadline)
    : await out.step(`restart ${units.join(', ')} on the previous version`, () => restartAndWait(ports, units, ep, deadline));
  const durationMs = Date.now() - info.started;
  if (out.json) {
    out.resultJson({ changed: changes.map(c => c.file.path), restarted: units, rolledBack: true, rollbackHealthy: back.ok, durationMs, error: `${failure.unit}: ${failure.reason}`,
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
