// The jobs up (and adopt) ask systemd for once the files are written and systemd reloaded, as actions
// (execute.ts runs them). Pure: from the units' states before the reload and the files changed.
import { action, type Action } from '../actions/action.js';
import { systemctlCommand } from '../model/scope.js';
import { serviceName, serviceOf, UNITS } from '../model/views.js';
import type { Scope } from '../install-spec/spec.js';

export const START_PROGRESS = 'start registry units';

/** Where a failed job's unit, or one the generator did not make, tells why: the executor's hints for these jobs. */
export function startHints(scope: Scope) {
  return {
    unitFailedHint: (unit: string) => `see: ${systemctlCommand(scope)} status ${unit}`,
    notGeneratedHint: `run \`/usr/libexec/podman/quadlet -dryrun${scope === 'rootless' ? ' -user' : ''}\` to see why`,
  };
}

export interface StartInput {
  /** ActiveState of each unit before the reload, by name (a unit not there is not running). */
  before: ReadonlyMap<string, { activeState: string }>;
  /** The containers' services in start order (Plan.services). */
  services: readonly string[];
  /** The podman volumes the install has (Plan.volumes): their units make them. */
  volumes: readonly string[];
  /** Files this run wrote or found newer than their running service. */
  changed: readonly string[];
  /** A service not to start (restore starts quay-app once its data is back). */
  hold?: string;
}

/**
 * Starts what is not running and restarts what ran with a file that changed. A changed pod only takes effect
 * when the pod is made again: its restart (alone, first) stops every container bound to it (BindsTo=), so
 * each is then started on its new files. The container jobs are enqueued together: their After= lines make
 * systemd run postgres and redis side by side and quay-app after both.
 */
export function planStart(i: StartInput): Action[] {
  const active = (unit: string) => i.before.get(unit)?.activeState === 'active';
  const touched = new Set(i.changed.map(serviceOf).filter((s): s is string => s !== undefined && active(s)));
  const podRestart = i.changed.some(f => serviceOf(f) === UNITS.pod) && active(UNITS.pod);
  const jobs: Action[] = [];
  for (const unit of i.services) {
    if (unit === i.hold) continue;
    if (podRestart) jobs.push(action({ kind: 'start-unit', unit }, START_PROGRESS));
    else if (!active(unit)) jobs.push(action({ kind: 'start-unit', unit }, START_PROGRESS));
    else if (touched.has(unit)) jobs.push(action({ kind: 'start-unit', unit, restart: true }, START_PROGRESS));
  }
  return [
    ...(podRestart ? [action({ kind: 'restart-unit', unit: UNITS.pod }, START_PROGRESS)] : []),
    ...(i.hold !== undefined && jobs.length > 0 ? withoutHeld(i, active(UNITS.pod) || podRestart) : []),
    ...jobs,
  ];
}

/**
 * What the containers' jobs need started first when `hold` is not to start. A container's start pulls in
 * the pod (BindsTo=), and the pod's Wants= the held service: so the pod starts first, alone; once it is
 * active, systemd drops its job from a container's start, Wants= and all. And the volumes, which the held
 * service's Requires= would have made (NAME.volume → NAME-volume.service): its data goes into them first.
 * Their own progress line keeps them apart from the jobs after them, which wait for them.
 */
function withoutHeld(i: StartInput, podActive: boolean): Action[] {
  const progress = `start ${podActive ? 'the volumes' : `${UNITS.pod} and the volumes`} (without ${i.hold})`;
  return [
    ...(podActive ? [] : [action({ kind: 'start-unit', unit: UNITS.pod, mode: 'ignore-requirements' }, progress)]),
    ...i.volumes.map(v => action({ kind: 'start-unit', unit: serviceName(`${v}.volume`) }, progress)),
  ];
}
