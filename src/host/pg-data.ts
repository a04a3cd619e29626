// Host side of the PostgreSQL major-version check: read PG_VERSION from the data directory and
// find the major the image runs. The comparison and the message are in src/install-spec/pg-version.ts.
import { posix } from 'node:path';
import { HostError } from '../errors.js';
import {
  imageDeclaredMajor, knownCompatible, parsePgVersionFile, parseServerVersion, pgMajorMismatch, type PgMajor, type PgVerified,
} from '../install-spec/pg-version.js';
import type { Scope, Storage } from '../install-spec/spec.js';
import { runCommand } from './exec.js';
import { readIfExists } from './fs.js';
import { knownVolumeMountpoints } from './storage.js';

// sclorg images keep the cluster in data/userdata; a plain layout has PG_VERSION at the top.
const PG_VERSION_PATHS = ['userdata/PG_VERSION', 'PG_VERSION'];

export interface DataMajor { where: string; dir: string; major: PgMajor }

/**
 * The major version of existing data in `storage` (a named volume or a bind path), or undefined
 * when there is none yet (first install, empty volume). Rootless data belongs to sub-uids (uid 26
 * in the container), so it is read inside `podman unshare`.
 */
export async function readDataMajor(storage: Storage, scope: Scope, mountpoints?: Readonly<Record<string, string>>): Promise<DataMajor | undefined> {
  const dir = storage.kind === 'path' ? storage.path : (await knownVolumeMountpoints([storage.name], mountpoints)).get(storage.name);
  if (!dir) return undefined;
  const where = storage.kind === 'path' ? storage.path : `volume ${storage.name} (${dir})`;
  for (const rel of PG_VERSION_PATHS) {
    const file = posix.join(dir, rel);
    const text = scope === 'rootful' ? await readIfExists(file).catch(() => undefined) : await unshareRead(file);
    if (text === undefined) continue;
    const major = parsePgVersionFile(text);
    if (!major) throw new HostError(`${file}: not a PostgreSQL PG_VERSION file (${JSON.stringify(text.slice(0, 20))})`, 'nothing was changed; check --pgStorage');
    return { where, dir, major };
  }
  return undefined;
}

async function unshareRead(file: string): Promise<string | undefined> {
  const r = await runCommand('podman', ['unshare', 'cat', '--', file]);
  return r.exitCode === 0 ? r.stdout : undefined;
}

/** The image's ID and what it declares (env or label), from one `podman image inspect`. */
export async function inspectPgImage(image: string): Promise<{ id?: string; declared?: PgMajor }> {
  const r = await runCommand('podman', ['image', 'inspect', '--format', '{{.Id}}\t{{json .Config.Env}}\t{{json .Config.Labels}}', image]);
  if (r.exitCode !== 0) return {};
  const [id, env, labels] = r.stdout.trim().split('\t');
  try {
    return { id, declared: imageDeclaredMajor((JSON.parse(env ?? 'null') as string[] | null) ?? [], (JSON.parse(labels ?? 'null') as Record<string, string> | null) ?? {}) };
  } catch {
    return { id };
  }
}

/**
 * The major of the server binary in the image (`postgres --version` in a throw-away container, no
 * network, never pulled). Slower than imageMajor, so only used when the declaration is missing or
 * disagrees with the data: the binary, not the label, decides whether the data can be opened.
 */
export async function serverMajor(image: string): Promise<PgMajor | undefined> {
  const script = 'for p in postgres /usr/pgsql-*/bin/postgres /usr/lib/postgresql/*/bin/postgres; do '
    + 'if command -v "$p" >/dev/null 2>&1; then exec "$p" --version; fi; done; exit 127';
  const r = await runCommand('podman', ['run', '--rm', '--pull=never', '--network=none', '--entrypoint', '/bin/sh', image, '-c', script]);
  return r.exitCode === 0 ? parseServerVersion(r.stdout) : undefined;
}

/**
 * Throws HostError (exit 1) when `storage` holds PostgreSQL data of another major version than
 * `image` runs. Call before changing anything; a missing data directory or an image that tells
 * nothing passes (mreg cannot know better, and the server's own error will be in the journal).
 * Returns what was verified (for the install record), so a later run with the same image ID and
 * the same data major skips the throw-away container; undefined when nothing could be verified.
 */
export async function assertPgMajorCompatible(storage: Storage, image: string, scope: Scope, verified?: PgVerified,
  mountpoints?: Readonly<Record<string, string>>): Promise<PgVerified | undefined> {
  const data = await readDataMajor(storage, scope, mountpoints);
  if (!data) return undefined;
  const { id, declared } = await inspectPgImage(image);
  const ok = id ? { imageId: id, major: data.major } : undefined;
  if (knownCompatible({ dataMajor: data.major, imageId: id, declared, verified })) return ok;
  const running = (await serverMajor(image)) ?? declared;
  if (!running) return undefined;
  const problem = pgMajorMismatch({ where: data.where, dataMajor: data.major, image, imageMajor: running });
  if (problem) throw new HostError(problem.message, problem.hint);
  return ok;
}
