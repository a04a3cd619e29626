// plan(): spec + host facts + secrets → the exact files, podman secrets and services of one install. Pure.

import { posix } from 'node:path';
import { HostError } from '../errors.js';
import { COMPONENTS, SECRET_NAMES } from '../model/components.js';
import { CONTAINER_IDS, CONTAINER_SECRETS, UNITS } from '../model/views.js';
import { quayRootLayout } from '../install-spec/layout.js';
import type { HostFacts, InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import {
  KEY_SINCE, MIN_PODMAN, PODMAN_SUPPORT, checkCompat, compareVersions, describeCompatProblem, formatVersion, type PodmanVersion,
} from './compat.js';
import { PG_START_HOOK, PG_START_HOOK_FILE, renderQuayConfig } from './quay-config.js';
import { NOTHING_KEPT, type KeptConfig } from './config-keep.js';
import { selinuxLabelPaths } from './selinux.js';
import { renderUnit, type UnitFile } from './unit-file.js';
import {
  pgStartHookDir, renderPod, renderPodService, renderPostgres, renderQuayApp, renderRedis, renderVolume, volumeFileName,
} from './units.js';
import { MIN_PODMAN_4X, POD_UNIT_FILE, systemdUnitDir, toPodman4Container, usesPodman4Layout } from './podman4.js';

export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
  /** Holds secret values: never print without redact(), never log. */
  sensitive: boolean;
  /** 'unit': a plain systemd unit (podman 4.x's quay-pod.service), not fed to Quadlet's generator. */
  kind: 'quadlet' | 'unit' | 'config';
}

export interface PlannedSecret { name: string; value: string; }

export interface Plan {
  files: PlannedFile[];
  secrets: PlannedSecret[];
  /** podman named volumes the install uses (each has a NAME.volume Quadlet file). */
  volumes: string[];
  /** Bind paths to label container_file_t:s0 before the units start (SELinux on; plan/selinux.ts); their Volume= has no :Z. */
  selinuxLabels: string[];
  /** The containers' services in start order, e.g. ['quay-postgres.service','quay-redis.service','quay-app.service'] */
  services: string[];
  pod: typeof UNITS.pod;
}

const QUADLET_HEADER = (template: string) =>
  `# Written by mreg from its units/${template} template; "mreg up" rewrites it, so edit the flags instead.\n`;

/** The facts plan() reads, as a plain copy: a probe (host/facts.ts HostProbe) carries more than the plan may see. */
export function factsFor(probe: HostFacts): HostFacts {
  const { scope, uid, gid, user, home, fqdn, podmanVersion, quadletDir, runtimeDir, now, selinux } = probe;
  return { scope, uid, gid, user, home, fqdn, podmanVersion, quadletDir, runtimeDir, now, selinux };
}

/**
 * Pure and deterministic. `kept`: what the config.yaml on disk keeps through the render (plan/config-keep.ts). Throws HostError when the host's podman is missing or too old for a key
 * mreg writes (naming the key, the file and the version needed), or when spec and host disagree
 * on scope. Throws a plain Error for values that would break a unit file (an mreg bug: flags are
 * checked in parseUpOptions first).
 */
export function plan(spec: InstallSpec, facts: HostFacts, secrets: InstallSecrets, kept: KeptConfig = NOTHING_KEPT): Plan {
  const version = requirePodman(facts);
  if (spec.scope !== facts.scope) {
    throw new HostError(`this install is ${spec.scope} but mreg is running ${facts.scope}`,
      spec.scope === 'rootful' ? 'run mreg as root' : 'run mreg as the user who owns the install, not as root');
  }
  if (!facts.quadletDir.startsWith('/')) throw new Error(`quadletDir must be absolute: ${facts.quadletDir}`);

  const units: { file: string; template: string; unit: UnitFile }[] = [];
  const volumes: string[] = [];
  for (const storage of [spec.pgStorage, spec.quayStorage]) {
    if (storage.kind !== 'volume') continue;
    volumes.push(storage.name);
    units.push({ file: volumeFileName(storage.name), template: 'storage.volume', unit: renderVolume(storage.name) });
  }
  // podman 4.6–4.9: same services, but the pod is a plain unit and the containers join it by name.
  const podman4 = usesPodman4Layout(version);
  const container = podman4 ? toPodman4Container : (u: UnitFile) => u;
  const render = { postgres: renderPostgres, redis: renderRedis, app: renderQuayApp };
  if (!podman4) units.push({ file: COMPONENTS.pod.quadletFile, template: COMPONENTS.pod.quadletFile, unit: renderPod(spec, facts) });
  for (const id of CONTAINER_IDS) {
    const file = COMPONENTS[id].quadletFile;
    units.push({ file, template: file, unit: container(render[id](spec, facts)) });
  }

  // [Quadlet] DefaultDependencies= (no wait for network-online.target) exists from 5.3; older podman has no such section.
  if (compareVersions(version, KEY_SINCE.Quadlet!.DefaultDependencies!) < 0) {
    for (const u of units) u.unit = { entries: u.unit.entries.filter(([section]) => section !== 'Quadlet') };
  }
  const problems = units.flatMap(u => checkCompat(u.unit, version).map(p => describeCompatProblem(u.file, p, version)));
  if (problems.length > 0) {
    throw new HostError(problems.join('\n'), `upgrade podman to a version that supports these keys (mreg needs at least ${formatVersion(MIN_PODMAN)})`);
  }

  const files: PlannedFile[] = units.map(u => ({
    path: posix.join(facts.quadletDir, u.file),
    content: QUADLET_HEADER(u.template) + renderUnit(u.unit),
    mode: 0o644,
    sensitive: false,
    kind: 'quadlet' as const,
  }));
  if (podman4) {
    files.unshift({
      path: posix.join(systemdUnitDir(facts), POD_UNIT_FILE),
      content: QUADLET_HEADER(POD_UNIT_FILE) + renderUnit(renderPodService(spec)),
      mode: 0o644,
      sensitive: false,
      kind: 'unit',
    });
  }
  files.push(
    {
      // 0640: Quay runs as uid 1001 in group 0, which maps to the file's group (root, or the rootless user).
      path: quayRootLayout(spec.quayRoot).configYaml,
      content: renderQuayConfig(spec, secrets, kept),
      mode: 0o640,
      sensitive: true,
      kind: 'config',
    },
    ...(spec.quayStorage.kind === 's3' && spec.quayStorage.caPem ? [{
      // Quay's conf/init/certs_install.sh trusts every extra_ca* file of its config folder at start.
      path: posix.join(quayRootLayout(spec.quayRoot).configDir, S3_CA_FILE),
      content: spec.quayStorage.caPem,
      mode: 0o644,
      sensitive: false,
      kind: 'config' as const,
    }] : []),
    {
      // World-readable: Postgres runs as uid 26 and only needs to read it; it holds no secret.
      path: posix.join(pgStartHookDir(spec), PG_START_HOOK_FILE),
      content: PG_START_HOOK,
      mode: 0o644,
      sensitive: false,
      kind: 'config',
    },
  );

  return {
    files,
    // Those the containers read; up also keeps Quay's two keys as podman secrets (SECRET_NAMES).
    secrets: CONTAINER_SECRETS.map(key => ({ name: SECRET_NAMES[key], value: secrets[key] })),
    volumes,
    selinuxLabels: selinuxLabelPaths(spec, facts),
    services: CONTAINER_IDS.map(id => UNITS[id]),
    pod: UNITS.pod,
  };
}

/** The object store's CA in quay-config, named so Quay's certs_install.sh picks it up. */
export const S3_CA_FILE = 'extra_ca_cert_s3.crt';

function requirePodman(facts: HostFacts): PodmanVersion {
  const v = facts.podmanVersion;
  if (!v) {
    throw new HostError('podman not found', `install it (dnf install podman); mreg needs ${PODMAN_SUPPORT}`);
  }
  if (compareVersions(v, MIN_PODMAN_4X) < 0) {
    throw new HostError(podmanTooOld(v), 'upgrade podman (dnf update podman)');
  }
  return v;
}

/** One line, shared with preflight: the version found and what mreg needs. */
export function podmanTooOld(v: PodmanVersion): string {
  return `podman ${formatVersion(v)} is too old: mreg needs ${PODMAN_SUPPORT}`;
}
