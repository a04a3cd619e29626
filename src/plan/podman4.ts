// The podman 4.6–4.9 layout (RHEL 8.10, RHEL 9.4, Ubuntu 24.04): no .pod Quadlet files, no Pod=, no
// StopTimeout=. Same unit names and behaviour as the 5.x layout, built from it:
//   quay-pod.service   a plain systemd unit (units/quay-pod.service) that creates the pod, as Quadlet 5 would;
//   quay-*.container   the 5.x files rewritten: PodmanArgs=--pod quay-pod, BindsTo/After the pod. The
//                      ExecStartPost health waits of the templates work on both.
// The shared localhost of the pod is kept, so config.yaml (127.0.0.1 for Postgres and Redis) is unchanged.
import { posix } from 'node:path';
import { COMPONENTS } from '../model/components.js';
import { systemdUnitDir as unitDirOf } from '../model/scope.js';
import type { HostFacts } from '../install-spec/spec.js';
import { MIN_PODMAN, compareVersions, type PodmanVersion } from './compat.js';
import type { UnitEntry, UnitFile } from './unit-file.js';

/** Below this, Quadlet lacks PodmanArgs= (to join the pod) and Pull=; mreg refuses. */
export const MIN_PODMAN_4X: PodmanVersion = MIN_PODMAN;
/** From this on, the .pod layout. */
export const MIN_PODMAN_POD_FILES: PodmanVersion = [5, 0, 0];

/** The pod's plain unit is named as the service Quadlet 5 generates from quay.pod. */
export const POD_UNIT_FILE = COMPONENTS.pod.service;

export function usesPodman4Layout(v: PodmanVersion): boolean {
  return compareVersions(v, MIN_PODMAN_4X) >= 0 && compareVersions(v, MIN_PODMAN_POD_FILES) < 0;
}

/** Where a plain (non-Quadlet) unit goes: the admin's unit dir, which systemd reads at every reload. */
export function systemdUnitDir(facts: Pick<HostFacts, 'scope' | 'home'>): string {
  return unitDirOf(facts.scope, facts.home);
}

/**
 * Rewrites a 5.x container unit (rendered from units/*.container) for podman 4.6–4.9. Throws on a
 * 5.x-only key it does not know how to translate, so a new template key cannot slip through unseen.
 */
export function toPodman4Container(unit: UnitFile): UnitFile {
  const name = unit.entries.find(([s, k]) => s === 'Container' && k === 'ContainerName')?.[2];
  if (!name) throw new Error('container unit without ContainerName=');
  const entries: UnitEntry[] = [];
  for (const [section, key, value] of unit.entries) {
    if (section !== 'Container') { entries.push([section, key, value]); continue; }
    if (key === 'Pod') {
      if (value !== COMPONENTS.pod.quadletFile) throw new Error(`unexpected Pod=${value}`);
      entries.push(['Container', 'PodmanArgs', `--pod ${COMPONENTS.pod.podmanName}`]);
    } else if (key === 'Notify') {
      throw new Error(`unexpected Notify=${value}: the templates wait for health with ExecStartPost`);
    } else if (key === 'StopTimeout') {
      entries.push(['Container', 'PodmanArgs', `--stop-timeout=${value}`]);
    } else {
      entries.push([section, key, value]);
    }
  }
  // What Quadlet 5 adds for Pod=: the container lives and dies with the pod unit.
  entries.push(['Unit', 'BindsTo', POD_UNIT_FILE], ['Unit', 'After', POD_UNIT_FILE]);
  return { entries };
}
