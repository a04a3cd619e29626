// Quadlet units for one install: the units/ templates (embedded by .ci/embed-units.mjs) filled with spec values.

import { posix } from 'node:path';
import type { HostFacts, InstallSpec, Storage } from '../spec/spec.js';
import { TEMPLATES, type TemplateName } from './templates.generated.js';
import { parseUnit, type UnitFile } from './unit-file.js';

/** File → service map (Quadlet's naming, quadlet-dbus-reference §1.1); the one place that knows it. */
export const QUADLET_FILES = {
  pod: 'quay.pod',
  postgres: 'quay-postgres.container',
  redis: 'quay-redis.container',
  app: 'quay-app.container',
} as const;

export const POD_SERVICE = 'quay-pod.service';

/** The service Quadlet generates for a Quadlet file: x.pod → x-pod.service, x.volume → x-volume.service. */
export function serviceName(file: string): string {
  const m = /^(.+)\.(container|pod|volume)$/.exec(file);
  if (!m) throw new Error(`not a Quadlet file name mreg writes: ${file}`);
  return m[2] === 'container' ? `${m[1]}.service` : `${m[1]}-${m[2]}.service`;
}

export function volumeFileName(volumeName: string): string {
  return `${volumeName}.volume`;
}

/** Where the Postgres start hook lives on the host (a directory, mounted read-only). */
export function pgStartHookDir(spec: InstallSpec): string {
  return posix.join(spec.quayRoot, 'postgres-start');
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
  return spec.scope === 'rootful' ? 'multi-user.target' : 'default.target';
}

/**
 * Volume= value for a storage choice. Named volumes go through their .volume file (Quadlet adds
 * Requires/After on NAME-volume.service). Bind mounts get :Z for SELinux on RHEL. `extra` is for
 * options wanted on both kinds (Postgres' :U, see renderPostgres).
 */
function storageVolume(storage: Storage, target: string, extra: string[] = []): string {
  const options = storage.kind === 'path' ? ['Z', ...extra] : extra;
  const source = storage.kind === 'path' ? storage.path : volumeFileName(storage.name);
  return options.length > 0 ? `${source}:${target}:${options.join(',')}` : `${source}:${target}`;
}

export function renderPod(spec: InstallSpec, _facts: HostFacts): UnitFile {
  return fillTemplate('quay.pod', { port: String(spec.port), wantedBy: wantedBy(spec) });
}

/**
 * `:U` chowns the data to the image's uid 26 at each start: cheap for a database directory and it
 * spares bind-mount users the ACL dance (mirror-registry#259 needed it on podman 5). Not used for
 * Quay's blob storage, which can be huge: the caller prepares that directory's owner instead.
 */
export function renderPostgres(spec: InstallSpec, _facts: HostFacts): UnitFile {
  return fillTemplate('quay-postgres.container', {
    image: spec.images.postgres,
    dataVolume: storageVolume(spec.pgStorage, '/var/lib/pgsql/data', ['U']),
    startHookVolume: `${pgStartHookDir(spec)}:/opt/app-root/src/postgresql-start:ro,Z`,
    wantedBy: wantedBy(spec),
  });
}

export function renderRedis(spec: InstallSpec, _facts: HostFacts): UnitFile {
  return fillTemplate('quay-redis.container', { image: spec.images.redis, wantedBy: wantedBy(spec) });
}

export function renderQuayApp(spec: InstallSpec, _facts: HostFacts): UnitFile {
  return fillTemplate('quay-app.container', {
    image: spec.images.quay,
    configVolume: `${posix.join(spec.quayRoot, 'quay-config')}:/quay-registry/conf/stack:Z`,
    storageVolume: storageVolume(spec.quayStorage, '/datastorage'),
    wantedBy: wantedBy(spec),
  });
}

/** The podman 4.x pod: a plain unit, not a Quadlet file (src/plan/podman4.ts). */
export function renderPodService(spec: InstallSpec): UnitFile {
  return fillTemplate('quay-pod.service', { port: String(spec.port) });
}

export function renderVolume(volumeName: string): UnitFile {
  return fillTemplate('storage.volume', { volumeName });
}
