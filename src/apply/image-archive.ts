// --image-archive: a `podman save` archive is loaded as it is; mirror-registry's image-archive.tar (a tar
// of flattened root filesystems, quay/mirror-registry Dockerfile, v1.3.10 and v2.0.11) is imported
// member by member with the image config its own installer gives them (cmd/utils.go getImageMetadata).
import { access, constants } from 'node:fs/promises';
import type { Images, InstallSpec } from '../install-spec/spec.js';
import type { Podman } from '../host/podman.js';
import { hashTarMember, listTar } from '../host/tar.js';
import type { Output } from '../ui/output.js';
import { IMAGE_FLAGS } from '../model/components.js';

type Component = keyof Images;

/** mirror-registry's members mreg runs; pause.tar is skipped (the pod uses podman's own infra image). */
export const MIRROR_REGISTRY_MEMBERS: Readonly<Record<Component, string>> = { quay: 'quay.tar', redis: 'redis.tar', postgres: 'postgres.tar' };

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SCL_PATH = `/opt/app-root/src/bin:/opt/app-root/bin:${BASE_PATH}`;

/**
 * The config `podman image import --change` gives each member: what mirror-registry's installer sets
 * (v2.0.11 cmd/utils.go; v1.3.10 for postgres). quay's PATH holds both places dumb-init has lived
 * (/app/bin up to Quay 3.12.13, /opt/app-root/bin since 3.12.14: mirror-registry commit 6fb2fba), and
 * PYTHONUSERBASE_SITE_PACKAGE is the variable mirror-registry 2.0.10+ passes at run time for 3.12.14+.
 */
export const IMPORT_CHANGES: Readonly<Record<Component, readonly string[]>> = {
  quay: [
    'ENV container=oci',
    `ENV PATH=/opt/app-root/bin:/opt/app-root/src/.local/bin:/opt/app-root/src/bin:/app/bin/:${BASE_PATH}`,
    'ENV PYTHONUNBUFFERED=1', 'ENV PYTHONIOENCODING=UTF-8', 'ENV LC_ALL=C.UTF-8', 'ENV LANG=C.UTF-8',
    'ENV QUAYDIR=/quay-registry', 'ENV QUAYCONF=/quay-registry/conf', 'ENV QUAYRUN=/quay-registry/conf',
    'ENV QUAYPATH=/quay-registry', 'ENV PYTHONUSERBASE=/app', 'ENV PYTHONPATH=/quay-registry', 'ENV TZ=UTC',
    'ENV RED_HAT_QUAY=true', 'ENV PYTHONUSERBASE_SITE_PACKAGE=/opt/app-root/lib/python3.12/site-packages',
    'ENTRYPOINT ["dumb-init","--","/quay-registry/quay-entrypoint.sh"]', 'WORKDIR /quay-registry',
    'EXPOSE 7443', 'EXPOSE 8080', 'EXPOSE 8443', 'USER 1001', 'CMD ["registry"]',
  ],
  redis: [
    `ENV PATH=${SCL_PATH}`, 'ENV container=oci', 'ENV STI_SCRIPTS_URL=image:///usr/libexec/s2i', 'ENV STI_SCRIPTS_PATH=/usr/libexec/s2i',
    'ENV APP_ROOT=/opt/app-root', 'ENV HOME=/var/lib/redis', 'ENV PLATFORM=el8', 'ENV REDIS_VERSION=6',
    'ENV CONTAINER_SCRIPTS_PATH=/usr/share/container-scripts/redis', 'ENV REDIS_PREFIX=/usr', 'ENV REDIS_CONF=/etc/redis.conf',
    'ENTRYPOINT ["container-entrypoint"]', 'USER 1001', 'WORKDIR /opt/app-root/src', 'EXPOSE 6379', 'CMD ["run-redis"]',
  ],
  postgres: [
    `ENV PATH=${SCL_PATH}`, 'ENV STI_SCRIPTS_URL=image:///usr/libexec/s2i', 'ENV STI_SCRIPTS_PATH=/usr/libexec/s2i',
    'ENV APP_ROOT=/opt/app-root', 'ENV APP_DATA=/opt/app-root', 'ENV HOME=/var/lib/pgsql', 'ENV PLATFORM=el8',
    'ENV POSTGRESQL_VERSION=10', 'ENV POSTGRESQL_PREV_VERSION=9.6', 'ENV PGUSER=postgres',
    'ENV CONTAINER_SCRIPTS_PATH=/usr/share/container-scripts/postgresql',
    'ENTRYPOINT ["container-entrypoint"]', 'WORKDIR /opt/app-root/src', 'EXPOSE 5432', 'USER 26', 'CMD ["run-postgresql"]',
  ],
};

export type ArchiveKind = { kind: 'podman-save' } | { kind: 'mirror-registry'; members: Component[] };

/** mirror-registry's archive holds quay.tar (and redis.tar, postgres.tar, pause.tar) and no image manifest. */
export function archiveKind(members: readonly string[]): ArchiveKind {
  const names = new Set(members);
  if (names.has('manifest.json') || names.has('index.json') || !names.has(MIRROR_REGISTRY_MEMBERS.quay)) return { kind: 'podman-save' };
  return { kind: 'mirror-registry', members: (Object.keys(MIRROR_REGISTRY_MEMBERS) as Component[]).filter(c => names.has(MIRROR_REGISTRY_MEMBERS[c])) };
}

/** The name an imported member gets when no image flag names it: where it came from and what it holds. */
export function importedName(component: Component, sha256: string): string {
  return `localhost/mirror-registry/${component}:${sha256.slice(0, 12)}`;
}

export interface LoadedArchive {
  kind: ArchiveKind['kind'];
  /** Images the archive provided under names mreg chose (no flag named them): they replace the spec's. */
  images: Partial<Images>;
  /** What was done, a line per member, for the user. */
  lines: string[];
}

/**
 * Loads `archive`. A mirror-registry member is imported under the image flag given on this command
 * line (`given`), else under importedName() of its content, skipped when that image is already here
 * (a re-run with the same archive changes nothing).
 */
export async function loadImageArchive(podman: Podman, archive: string, given: Partial<Images>): Promise<LoadedArchive> {
  const kind = archive === '-' ? { kind: 'podman-save' as const } : archiveKind(await listTar(archive));
  if (kind.kind === 'podman-save') {
    await podman.load(archive);
    return { kind: kind.kind, images: {}, lines: [] };
  }
  const images: Partial<Images> = {};
  const lines: string[] = [];
  for (const c of kind.members) {
    const member = MIRROR_REGISTRY_MEMBERS[c];
    const name = given[c] ?? importedName(c, await hashTarMember(archive, member));
    if (!given[c]) images[c] = name;
    // A name podman has is used as it is: the archive's member never replaces it. For a name a flag gives, it
    // may be the image a unit runs (the data checks judge names: a PostgreSQL 10 under the name of the 15 in
    // use would pass them and fail at the next start).
    if (await podman.imageExists(name)) {
      lines.push(given[c] ? `${member}: not imported; ${IMAGE_FLAGS[c]} ${name} is used as podman has it` : `${member}: ${name} (already imported)`);
      continue;
    }
    await podman.importImage(archive, member, name, IMPORT_CHANGES[c]);
    lines.push(`${member}: imported as ${name}`);
  }
  return { kind: kind.kind, images, lines };
}

/**
 * The spec with the images `archive` would bring, without loading it (a dry run): mirror-registry's
 * members are named after their content, so hashing them tells; a `podman save` archive names no image
 * the flags do not.
 */
export async function archiveImagesUnloaded(spec: InstallSpec, archive: string, given: Partial<Images>): Promise<InstallSpec> {
  const kind = archiveKind(await listTar(archive));
  if (kind.kind === 'podman-save') return spec;
  const images: Partial<Images> = {};
  for (const c of kind.members) if (!given[c]) images[c] = importedName(c, await hashTarMember(archive, MIRROR_REGISTRY_MEMBERS[c]));
  return { ...spec, images: { ...spec.images, ...images } };
}

/**
 * The "load images from ARCHIVE" step of up and upgrade: loads it, prints a line per member, and resolves
 * with `spec` naming the images the archive brought (mirror-registry's archive names them only as it is imported).
 */
export async function loadArchiveStep(out: Pick<Output, 'step' | 'info'>, podman: Podman, spec: InstallSpec, archive: string, given: Partial<Images>): Promise<InstallSpec> {
  const loaded = await out.step(`load images from ${archive}`, () => loadImageArchive(podman, archive, given));
  for (const l of loaded.lines) out.info(`    ${l}`);
  return { ...spec, images: { ...spec.images, ...loaded.images } };
}

/** Why --image-archive PATH cannot be loaded (missing, unreadable, not a tar), or undefined; `-` is stdin. */
export async function imageArchiveProblem(path: string): Promise<string | undefined> {
  const fix = 'give the path of an image archive: `podman save` output or mirror-registry\'s image-archive.tar';
  if (path === '-') return undefined;
  try { await access(path, constants.R_OK); } catch { return `--image-archive ${path}: file not found or not readable; ${fix}`; }
  const why = await listTar(path).then(() => undefined, (err: unknown) => (err instanceof Error ? err.message : String(err)));
  if (why === undefined) return undefined;
  // tar's first complaint says why ("This does not look like a tar archive"); the rest is its exit notice.
  const reason = why.split('\n').map(l => l.trim()).find(l => l.startsWith('tar: ') && !/Exiting with failure|not recoverable/.test(l));
  return `--image-archive ${path}: not a tar archive${reason ? ` (${reason})` : ''}; ${fix}`;
}
