// Stops a set of units with all their stop jobs queued at once. systemd runs queued stop jobs in the
// reverse of the units' After= order (mreg's Quadlet units and every mirror-registry release declare
// it), so quay-app still stops first and the pod last, while PostgreSQL and Redis stop side by side
// and no D-Bus round trip waits between two units (issue 15: a shorter switch for adopt).
import type { JobResult, Systemd, UnitName } from '../host/systemd.js';

export interface StopOutcome { unit: UnitName; result: JobResult }

/** Resolves with the units whose stop job ended other than "done" or "skipped" ([] when all stopped); their failed state is reset. */
export async function stopTogether(systemd: Pick<Systemd, 'stopUnit' | 'resetFailed'>, units: readonly UnitName[]): Promise<StopOutcome[]> {
  const results = await Promise.all(units.map(async unit => ({ unit, result: await systemd.stopUnit(unit) })));
  await Promise.all(units.map(u => systemd.resetFailed(u)));
  return results.filter(r => r.result !== 'done' && r.result !== 'skipped');
}
