// When the host's podman crosses 5.0 under an install: podman 4.x has no .pod Quadlet files, so mreg
// writes the pod as a plain quay-pod.service there (podman4.ts) and as quay.pod from 5.0 on.
// Up and upgrade (RHEL 9.4 → 9.6: podman 4.9 → 5.x) move the install to the .pod layout and must delete
// the plain unit: a unit in the admin's folder shadows the generated one of the same name. The other
// way (a .pod install on a host now at 4.x) is refused: 4.x cannot read quay.pod, and podman does
// not support going back to an older version over its store.
import { posix } from 'node:path';
import { COMPONENTS } from '../model/components.js';
import { systemdUnitDir } from '../model/scope.js';
import type { HostFacts } from '../install-spec/spec.js';
import { formatVersion, type PodmanVersion } from './compat.js';
import { MIN_PODMAN_POD_FILES, usesPodman4Layout } from './podman4.js';

export interface UnitDirs { quadletDir: string; systemdUnitDir: string }

/** The two folders mreg's units live in for this scope: Quadlet files, and plain units (the podman 4 pod). */
export function unitDirs(f: Pick<HostFacts, 'scope' | 'home' | 'quadletDir'>): UnitDirs {
  return { quadletDir: f.quadletDir, systemdUnitDir: systemdUnitDir(f.scope, f.home) };
}

/** Unit files an earlier run recorded that this plan no longer writes (the plain pod unit after the move to 5.x). */
export function staleUnits(recorded: readonly string[], planned: readonly string[], dirs: UnitDirs): string[] {
  const keep = new Set(planned);
  const unitDir = (f: string) => [dirs.quadletDir, dirs.systemdUnitDir].includes(posix.dirname(f));
  return recorded.filter(f => unitDir(f) && !keep.has(f)).sort();
}

/**
 * Why this host's podman cannot take the install recorded with these files: the .pod layout on podman
 * 4.x. (The podman 4 layout on podman 5 is moved, by up and by upgrade.)
 */
export function layoutProblem(recorded: readonly string[], version: PodmanVersion, dirs: UnitDirs): string | undefined {
  const podFile = posix.join(dirs.quadletDir, COMPONENTS.pod.quadletFile);
  if (usesPodman4Layout(version) && recorded.includes(podFile)) {
    return `this install was made for podman ${formatVersion(MIN_PODMAN_POD_FILES)} or newer (${podFile}), `
      + `and this host now has podman ${formatVersion(version)}, which cannot read .pod files; podman does not support going back to an older version over its store`;
  }
  return undefined;
}

/** The record's files are the podman 4 layout and this host's podman reads .pod files: the install moves to them. */
export function movesToPodFiles(recorded: readonly string[], version: PodmanVersion | undefined, dirs: UnitDirs): boolean {
  return version !== undefined && !usesPodman4Layout(version) && recorded.includes(posix.join(dirs.systemdUnitDir, COMPONENTS.pod.service));
}

// Every podman 4 that mreg supports renders the podman 4 layout alike (the versions differ only in keys it refuses).
const PODMAN4_LAYOUT: PodmanVersion = [4, 9, 4];

/** The facts plan() renders the recorded podman 4 layout with (what upgrade's rollback writes back), on a podman 5 host. */
export function podman4LayoutFacts<F extends Pick<HostFacts, 'podmanVersion'>>(facts: F): F {
  return { ...facts, podmanVersion: PODMAN4_LAYOUT };
}
