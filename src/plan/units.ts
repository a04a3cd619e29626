// Quadlet units for one install: the units/ templates (embedded by .ci/embed-units.mjs) filled with spec values.

import { posix } from 'node:path';
import type { HostFacts, InstallSpec, Storage } from '../install-spec/spec.js';
import { COMPONENTS, type QuayRootMount, type StorageMount } from '../model/components.js';
import { wantedByTarget } from '../model/scope.js';
import { isSelinuxOn } from './selinux.js';
import { TEMPLATES, type TemplateName } from './templates.generated.js';
import { parseUnit, type UnitFile } from './unit-file.js';

export { serviceName } from '../model/views.js';

export function volumeFileName(volumeName: string): string {
  return `${volumeName}.volume`;
}

/** Where the Postgres start hook lives on the host (a directory, mounted read-only). */
export function pgStartHookDir(spec: InstallSpec): string {
  return posix.join(spec.quayRoot, COMPONENTS.postgres.quayRootMounts[0].dir);
}

export { TEMPLATES, type TemplateName };

// Any character below 0x20 (newline!) or DEL could add unit lines; '%' would be a systemd specifier.
const UNSAFE_VALUE_RE = /[\u0000-\u001f\u007f%]/;

/**
 * Parses a template and replaces every `{{name}}` in its values. Throws (an mreg bug, or a spec
 * that bypassed parseUpOptions) on a missing or unused placeholder, or a value that could
 * inject unit lines or specifiers.
 */
export function fillTemplate(name: TemplateName, values: Readonly<Record<string, string>>): UnitFile {
  const used = new Set<string>();
  const entries = parseUnit(TEMPLATES[name]).entries.map(([section, key, value]) => {
    const filled = value.replace(/\{\{([A-Za-z]+)\}\}/g, (_, placeholder: string) => {
      const v = values[placeholder];
      if (v === undefined) throw new Error(`${name}: no value for {{${placeholder}}}`);
      if (UNSAFE_VALUE_RE.test(v)) throw new Error(`${name}: unsafe value for {{${placeholder}}}: ${JSON.stringify(v)}`);
      used.add(placeholder);
      return v;
    });
    return [section, key, filled] as const;
  });
  const unused = Object.keys(values).filter(k => !used.has(k));
  if (unused.length > 0) throw new Error(`${name}: unused template values: ${unused.join(', ')}`);
  return { entries };
}

function wantedBy(spec: InstallSpec): string {
  return wantedByTarget(spec.scope);
}

/**
 * Volume= value for a component's storage. Named volumes go through their .volume file (Quadlet adds
 * Requires/After on NAME-volume.service). With SELinux on, mreg labels a bind path once at install
 * (plan/selinux.ts): :Z would relabel the whole tree at every start, since Quadlet creates a new
 * container with new MCS categories each time (podman#24209). With SELinux off :Z stays, a no-op.
 * The mount's own options apply to both kinds (Postgres' :U).
 */
function storageVolume(spec: InstallSpec, mount: StorageMount, facts: HostFacts): string | undefined {
  const storage = spec[mount.spec];
  if (storage.kind === 's3') return undefined; // Quay reaches the bucket itself: nothing to mount
  const options = storage.kind === 'path' && !isSelinuxOn(facts) ? ['Z', ...mount.options] : mount.options;
  const source = storage.kind === 'path' ? storage.path : volumeFileName(storage.name);
  return options.length > 0 ? `${source}:${mount.target}:${options.join(',')}` : `${source}:${mount.target}`;
}

function quayRootVolume(spec: InstallSpec, mount: QuayRootMount): string {
  return `${posix.join(spec.quayRoot, mount.dir)}:${mount.target}:${mount.options}`;
}

export function renderPod(spec: InstallSpec, _facts: HostFacts): UnitFile {
  const unit = fillTemplate(COMPONENTS.pod.quadletFile, { port: String(spec.port), wantedBy: wantedBy(spec) });
  if (spec.infraImage === undefined) return unit;
  // Quadlet's [Pod] has no key for it; after PublishPort=, the pod's other podman argument.
  const at = unit.entries.findIndex(([s, k]) => s === 'Pod' && k === 'PublishPort') + 1;
  return { entries: [...unit.entries.slice(0, at), ['Pod', 'PodmanArgs', `--infra-image=${spec.infraImage}`], ...unit.entries.slice(at)] };
}

/**
 * `:U` (in the model) chowns the data to the image's uid 26 at each start: cheap for a database
 * directory and it spares bind-mount users the ACL dance. Not used for Quay's blob storage, which
 * can be huge: the caller prepares that directory's owner instead.
 */
export function renderPostgres(spec: InstallSpec, facts: HostFacts): UnitFile {
  const c = COMPONENTS.postgres;
  return fillTemplate(c.quadletFile, {
    image: spec.images[c.image],
    dataVolume: storageVolume(spec, c.storage, facts)!,
    startHookVolume: quayRootVolume(spec, c.quayRootMounts[0]),
    wantedBy: wantedBy(spec),
  });
}

export function renderRedis(spec: InstallSpec, _facts: HostFacts): UnitFile {
  const c = COMPONENTS.redis;
  return fillTemplate(c.quadletFile, { image: spec.images[c.image], wantedBy: wantedBy(spec) });
}

export function renderQuayApp(spec: InstallSpec, facts: HostFacts): UnitFile {
  const c = COMPONENTS.app;
  const storage = storageVolume(spec, c.storage, facts);
  const unit = fillTemplate(c.quadletFile, {
    image: spec.images[c.image],
    configVolume: quayRootVolume(spec, c.quayRootMounts[0]),
    storageVolume: storage ?? NO_MOUNT,
    wantedBy: wantedBy(spec),
  });
  if (storage !== undefined) return unit;
  return { entries: unit.entries.filter(([s, k, v]) => !(s === 'Container' && k === 'Volume' && v === NO_MOUNT)) };
}

/** Stands in for the storage Volume= line of an object-storage install until the line is dropped. */
const NO_MOUNT = 'mreg-no-storage-mount';

/** The podman 4.x pod: a plain unit, not a Quadlet file (src/plan/podman4.ts). */
export function renderPodService(spec: InstallSpec): UnitFile {
  const unit = fillTemplate(COMPONENTS.pod.service, { port: String(spec.port) });
  if (spec.infraImage === undefined) return unit;
  const infra = spec.infraImage;
  return { entries: unit.entries.map(([s, k, v]) => (s === 'Service' && k === 'ExecStartPre' && v.includes(' pod create ') ? [s, k, `${v} --infra-image ${infra}`] : [s, k, v])) };
}

export function renderVolume(volumeName: string): UnitFile {
  return fillTemplate('storage.volume', { volumeName });
}
