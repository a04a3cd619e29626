// Whether a re-run of up may skip asking podman for its images (issue 19: a podman process is about a
// second under emulation). A container's image cannot be removed while the container runs (`podman rmi`
// refuses; with --force it removes the container too, and its unit leaves `active`), so the four units
// running from the files the record lists show the recorded images (and the pod's infra image) are here.
import type { InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';

/** What systemctl show says of one unit (host/unit-show.ts ShownState). */
export interface RunningUnit {
  name: string;
  activeState: string;
  needDaemonReload: boolean;
  fragmentPath: string;
  sourcePath: string;
}

/**
 * True when `units` (every unit of the install) are active, unchanged since their last reload, and
 * run from files the record lists, and `spec` names the record's images: then they are on this host.
 */
export function imagesShownRunning(previous: InstallRecord | undefined, spec: Pick<InstallSpec, 'images' | 'infraImage'>,
  units: readonly (RunningUnit | undefined)[]): boolean {
  if (!previous || previous.removedAt) return false;
  const was = previous.spec;
  if (was.images.quay !== spec.images.quay || was.images.postgres !== spec.images.postgres || was.images.redis !== spec.images.redis) return false;
  if (was.infraImage !== spec.infraImage) return false;
  return units.length > 0 && units.every(u => u !== undefined && u.activeState === 'active' && !u.needDaemonReload
    && previous.files.includes(u.sourcePath || u.fragmentPath));
}

/** The unit files those units run from, to check that none changed after its unit started. */
export function runningUnitFiles(units: readonly RunningUnit[]): string[] {
  return units.map(u => u.sourcePath || u.fragmentPath);
}
