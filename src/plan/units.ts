// Quadlet units for one install: the units/ templates (embedded below) filled with spec values.

import { posix } from 'node:path';
import type { HostFacts, InstallSpec, Storage } from '../spec/spec.js';
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

export type TemplateName = 'quay.pod' | 'quay-postgres.container' | 'quay-redis.container' | 'quay-app.container' | 'storage.volume'
  | 'quay-pod.service';

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

// Byte-identical copies of units/* (test/unit/plan.test.ts checks): embedded so plan stays pure and
// the bundle needs no files beside it. Edit units/* and copy here, or the other way round.
export const TEMPLATES: Readonly<Record<TemplateName, string>> = {
  'quay.pod': `# mreg template for the pod that holds Quay, Postgres and Redis: quay.pod -> quay-pod.service.
# Placeholders ({{name}}) appear only in values; src/plan/units.ts fills them.
[Unit]
Description=Quay mirror registry pod (mreg)

[Pod]
# Always set: the default is systemd-quay, and podman#26062 mis-named pods without it.
PodName=quay-pod
# Only the pod publishes a port (Quay's TLS listener); Postgres and Redis stay on the pod's localhost.
PublishPort={{port}}:8443

[Install]
# Quadlet applies [Install] at every daemon-reload; generated units cannot be enabled (podman#17567).
WantedBy={{wantedBy}}
`,
  'quay-postgres.container': `# mreg template for Quay's database: quay-postgres.container -> quay-postgres.service.
[Unit]
Description=Quay mirror registry PostgreSQL (mreg)

[Container]
ContainerName=quay-postgres
Image={{image}}
Pod=quay.pod
# Air-gapped: images come from --image-archive or are already present; fail fast instead of pulling.
Pull=never
Volume={{dataVolume}}
# The image sources postgresql-start/*.sh on every start as the database superuser; ours creates pg_trgm.
Volume={{startHookVolume}}
Environment=POSTGRESQL_USER=quay
Environment=POSTGRESQL_DATABASE=quay
# The image defaults to max_connections=100; Quay's connection pools are unbounded, so a burst of pushes
# gets "too many clients". 2000 is what Quay's own operator sets for its PostgreSQL.
Environment=POSTGRESQL_MAX_CONNECTIONS=2000
Secret=mreg-pg-password,type=env,target=POSTGRESQL_PASSWORD
Secret=mreg-pg-admin-password,type=env,target=POSTGRESQL_ADMIN_PASSWORD
# TCP on purpose: the image's first-run server listens on the socket only, so this passes for the real one.
HealthCmd=pg_isready -h 127.0.0.1 -p 5432
# Run only by the start job below: a periodic check costs a podman process each time and nothing acts on
# it (systemd restarts a Postgres that exits; Quay's /health/instance, which mreg status probes, checks the database).
HealthInterval=disable
HealthTimeout=5s
# Let Postgres shut down cleanly before podman kills it.
StopTimeout=60
Label=io.mreg.managed=1

[Service]
Restart=always
# The start job ends when Postgres passes its healthcheck, so quay-app's After= waits for a ready database.
# Polled every 0.5 s while starting: Notify=healthy would wait for podman's next periodic check (up to 10 s).
ExecStartPost=/bin/sh -c 'until /usr/bin/podman healthcheck run quay-postgres >/dev/null 2>&1; do sleep 0.5; done'
# First start runs initdb, inside this start job.
TimeoutStartSec=600

[Install]
WantedBy={{wantedBy}}
`,
  'quay-redis.container': `# mreg template for Quay's Redis (build logs, user events; no persistent data): quay-redis.service.
[Unit]
Description=Quay mirror registry Redis (mreg)

[Container]
ContainerName=quay-redis
Image={{image}}
Pod=quay.pod
Pull=never
Secret=mreg-redis-password,type=env,target=REDIS_PASSWORD
# Shell form, so the password travels in the environment, never in argv. Plain $VAR: systemd expands the braced form.
HealthCmd=REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG
# Run only by the start job below (same reason as quay-postgres).
HealthInterval=disable
HealthTimeout=5s
Label=io.mreg.managed=1

[Service]
Restart=always
# The start job ends when Redis answers (same reason as quay-postgres).
ExecStartPost=/bin/sh -c 'until /usr/bin/podman healthcheck run quay-redis >/dev/null 2>&1; do sleep 0.5; done'
TimeoutStartSec=300

[Install]
WantedBy={{wantedBy}}
`,
  'quay-app.container': `# mreg template for Quay itself: quay-app.container -> quay-app.service.
[Unit]
Description=Quay mirror registry (mreg)
# Both start jobs end only at "healthy" (their ExecStartPost), so Quay starts after a ready database and Redis.
Requires=quay-postgres.service quay-redis.service
After=quay-postgres.service quay-redis.service

[Container]
ContainerName=quay-app
Image={{image}}
Pod=quay.pod
Pull=never
# config.yaml, ssl.cert, ssl.key: Quay runs as uid 1001 with group 0, so the files are group-readable.
Volume={{configVolume}}
Volume={{storageVolume}}
HealthCmd=curl -fsk -o /dev/null https://localhost:8443/health/instance
# podman's default interval: the periodic check only feeds podman ps; mreg probes Quay itself.
HealthInterval=30s
HealthTimeout=10s
HealthRetries=5
# The first start runs the database migrations; failed checks before this do not count.
HealthStartPeriod=300s
# No wait for health here: mreg probes /health/instance itself every 200 ms, and nothing is ordered after it.
Label=io.mreg.managed=1

[Service]
Restart=always
# The start job ends when the container runs; podman alone can take minutes on a loaded small host.
TimeoutStartSec=300

[Install]
WantedBy={{wantedBy}}
`,
  'storage.volume': `# mreg template for a named storage volume (--quayStorage/--pgStorage NAME): NAME.volume -> NAME-volume.service.
[Volume]
# Keep the user's name (mirror-registry's quay-storage/pg-storage), not Quadlet's default systemd-NAME.
VolumeName={{volumeName}}
Label=io.mreg.managed=1
`,
  'quay-pod.service': `# mreg template for the pod on podman 4.6-4.9, which has no .pod Quadlet files: a plain unit, quay-pod.service.
# It does what Quadlet 5's quay.pod generates; the containers join it with PodmanArgs=--pod quay-pod.
[Unit]
Description=Quay mirror registry pod (mreg)
# Starting the pod starts the registry, as a 5.x .pod does; the containers are BindsTo= this unit.
Wants=quay-postgres.service quay-redis.service quay-app.service

[Service]
Environment=PODMAN_SYSTEMD_UNIT=%n
Type=forking
Restart=on-failure
TimeoutStopSec=70
# --replace clears a pod left by a crash; only the pod publishes Quay's port, the others use its localhost.
ExecStartPre=/usr/bin/podman pod create --infra-conmon-pidfile=%t/quay-pod.pid --pod-id-file=%t/quay-pod.pod-id --exit-policy=stop --replace --infra-name quay-pod-infra --name quay-pod --label io.mreg.managed=1 -p {{port}}:8443
ExecStart=/usr/bin/podman pod start --pod-id-file=%t/quay-pod.pod-id
ExecStop=/usr/bin/podman pod stop --ignore --time=10 --pod-id-file=%t/quay-pod.pod-id
ExecStopPost=/usr/bin/podman pod rm --ignore --force --pod-id-file=%t/quay-pod.pod-id
PIDFile=%t/quay-pod.pid
`,
};
