// Which Quadlet keys each podman version accepts: an unsupported key makes the generator skip the unit silently.

import type { UnitFile } from './unit-file.js';

export type PodmanVersion = readonly [number, number, number];

/**
 * mreg's floor: Quadlet with PodmanArgs= (to join a pod) and Pull=. `.pod` files, `Pod=` and
 * `Notify=healthy` arrived in 5.0 (quadlet-dbus-reference §0.1); 4.6–4.9 get src/plan/podman4.ts.
 */
export const MIN_PODMAN: PodmanVersion = [4, 6, 0];

/**
 * What mreg supports, in the words of every podman message and of the README (a unit test holds the
 * README to it). The test VM proves 4.9.4 (RHEL 8.10, 9.4) and 5.4.2; 4.6–4.8 are allowed by the key table.
 */
export const PODMAN_SUPPORT = `podman ${MIN_PODMAN[0]}.${MIN_PODMAN[1]} or newer: RHEL 8.10 and 9.4 ship 4.9 (mreg writes a plain quay-pod.service there), RHEL 9.5+ and 10 ship 5.x (quay.pod)`;

/**
 * First podman release whose quadlet.go accepts the key in that section (quadlet-dbus-reference §1.2,
 * built from the supported-key maps at every tag). Sections not listed here ([Unit], [Service]) are
 * passed through to systemd by Quadlet and accept any key; a key missing from a listed section is
 * reported as unknown, so nobody adds a Quadlet key without deciding its version.
 */
export const KEY_SINCE: Readonly<Record<string, Readonly<Record<string, PodmanVersion>>>> = {
  Container: {
    AutoUpdate: [4, 6, 0], ContainerName: [4, 4, 0], Entrypoint: [5, 0, 0], Environment: [4, 4, 0],
    EnvironmentFile: [4, 4, 0], Exec: [4, 4, 0], GlobalArgs: [4, 8, 0], Group: [4, 4, 0],
    HealthCmd: [4, 5, 0], HealthInterval: [4, 5, 0], HealthOnFailure: [4, 5, 0], HealthRetries: [4, 5, 0],
    HealthStartPeriod: [4, 5, 0], HealthTimeout: [4, 5, 0], HealthLogDestination: [5, 3, 0],
    HealthMaxLogCount: [5, 3, 0], HealthMaxLogSize: [5, 3, 0], Image: [4, 4, 0], Label: [4, 4, 0],
    Network: [4, 4, 0], Notify: [4, 4, 0], PodmanArgs: [4, 6, 0], Pod: [5, 0, 0], PublishPort: [4, 4, 0],
    Pull: [4, 6, 0], Secret: [4, 5, 0], StartWithPod: [5, 3, 0], StopSignal: [5, 2, 0], StopTimeout: [5, 0, 0],
    User: [4, 4, 0], UserNS: [4, 5, 0], Volume: [4, 4, 0],
  },
  Pod: {
    PodName: [5, 0, 0], PublishPort: [5, 0, 0], Volume: [5, 0, 0], PodmanArgs: [5, 0, 0], Network: [5, 0, 0],
    UserNS: [5, 3, 0], Label: [5, 6, 0], ExitPolicy: [5, 6, 0], StopTimeout: [5, 7, 0],
  },
  Volume: {
    VolumeName: [4, 7, 0], Label: [4, 4, 0], User: [4, 4, 0], Group: [4, 4, 0], Options: [4, 4, 0],
    Device: [4, 4, 0], Type: [4, 4, 0], Copy: [4, 4, 0], Driver: [4, 8, 0], Image: [4, 8, 0],
  },
  Quadlet: { DefaultDependencies: [5, 3, 0] },
  // Quadlet reads [Install] itself to make the .wants links (podman#17567: generated units can't be enabled).
  Install: { WantedBy: [4, 4, 0], RequiredBy: [4, 4, 0], Alias: [4, 4, 0], UpheldBy: [5, 5, 0] },
};

/** Values that need a newer podman than their key. */
export const VALUE_SINCE: Readonly<Record<string, PodmanVersion>> = {
  'Container.Notify=healthy': [5, 0, 0], // podman#18189
};

export interface CompatProblem {
  section: string;
  key: string;
  /** Set for unknown keys and value-gated entries. */
  value?: string;
  /** Undefined when mreg's table does not know the key at all. */
  since?: PodmanVersion;
}

export function compareVersions(a: PodmanVersion, b: PodmanVersion): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function formatVersion(v: PodmanVersion): string {
  return v.join('.');
}

/** Every entry of `unit` that podman `version` would reject (too new), or that the table does not know. */
export function checkCompat(unit: UnitFile, version: PodmanVersion): CompatProblem[] {
  const problems: CompatProblem[] = [];
  for (const [section, key, value] of unit.entries) {
    const keys = KEY_SINCE[section];
    if (!keys) continue;
    const since = keys[key];
    if (!since) {
      problems.push({ section, key, value });
      continue;
    }
    if (compareVersions(version, since) < 0) {
      problems.push({ section, key, since });
      continue;
    }
    const valueSince = VALUE_SINCE[`${section}.${key}=${value}`];
    if (valueSince && compareVersions(version, valueSince) < 0) problems.push({ section, key, value, since: valueSince });
  }
  return problems;
}

/** One line per problem, podman-style: key, group, file, and the version needed. */
export function describeCompatProblem(file: string, p: CompatProblem, version: PodmanVersion): string {
  const what = p.value !== undefined && p.since ? `${p.key}=${p.value}` : p.key;
  return p.since
    ? `${file}: [${p.section}] ${what} needs podman ${formatVersion(p.since)}, this host has ${formatVersion(version)}`
    : `${file}: [${p.section}] ${p.key} is not in mreg's Quadlet key table (src/plan/compat.ts)`;
}
