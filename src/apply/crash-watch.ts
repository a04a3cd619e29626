// While mreg waits for /health/instance: a unit that keeps exiting will not get healthy, so say so now
// instead of at the timeout. Real Quay exits at start when its config or database is wrong
// (conf/init/d_validate_config_bundle.sh, schema downgrade), and Restart=always starts it again.
import type { Systemd, UnitExits } from '../host/systemd.js';
import { UNITS } from '../model/views.js';
import { CrashLoopError } from '../host/http.js';
import { journalTail } from '../host/journal.js';
import { UnitFailedError } from '../errors.js';
import type { Scope } from '../install-spec/spec.js';

/** Exits of the watched unit, counted from the watch's first look, that end the wait. */
export const CRASH_LOOP_EXITS = 3;

/**
 * A check for waitForHealth's `giveUp`: undefined while `unit` may still get healthy, else why not
 * (failed, e.g. start-limit-hit; or restarted `exits` times since the first check).
 */
export function crashWatch(unitExits: (name: string) => Promise<UnitExits>, unit: string, exits = CRASH_LOOP_EXITS): () => Promise<string | undefined> {
  let base: number | undefined;
  let exit = '';
  return async () => {
    const s = await unitExits(unit);
    // Between runs the service still shows how its last process ended; a running one shows 0 (kept from before).
    exit = exitText(s) || exit;
    if (s.activeState === 'failed') return `it failed (${s.result || 'no result'}${exit}) and systemd stopped restarting it`;
    base ??= s.nRestarts;
    const n = s.nRestarts - base;
    return n >= exits ? `it exited ${n} times since it was started${exit}; it will not get healthy this way` : undefined;
  };
}

function exitText(s: UnitExits): string {
  if (s.execMainCode === 1 && s.execMainStatus) return `, last exit status ${s.execMainStatus}`;
  if (s.execMainCode === 2 || s.execMainCode === 3) return `, last killed by signal ${s.execMainStatus}`;
  return '';
}

/** waitForHealth's giveUp for quay-app, the one unit whose start job ends before it is healthy. */
export function appCrashWatch(systemd: Pick<Systemd, 'unitExits'>): { unit: string; check: () => Promise<string | undefined> } {
  return { unit: UNITS.app, check: crashWatch(name => systemd.unitExits(name), UNITS.app) };
}

/** Rethrows a CrashLoopError as UnitFailedError, so main prints the unit's last journal lines with it. */
export async function withJournalTail(err: unknown, scope: Scope): Promise<never> {
  if (!(err instanceof CrashLoopError)) throw err;
  throw new UnitFailedError(err.unit, 'crash-loop', await journalTail(err.unit, scope, 20).catch(() => []), err.hint, err.message);
}
