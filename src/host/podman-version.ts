// podman's version, asked once per podman binary: every mreg command gathers the host's facts, and
// `podman --version` was the last of them to answer (a Go process: about 0.5 s of CPU in the test VM).
// The answer is kept in the runtime folder (a tmpfs: gone at reboot) under the identity of the binary
// PATH finds (device, inode, size, mtime, ctime), so an upgraded or replaced podman is asked again.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Podman } from './podman.js';
import { writeFileAtomic } from './fs.js';

type Version = [number, number, number];

/** The first executable `podman` on PATH, as execa finds it; undefined when there is none. */
export async function findOnPath(name: string, envPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch { /* not here */ }
  }
  return undefined;
}

async function identity(file: string): Promise<string> {
  const s = await stat(file, { bigint: true });
  return [file, s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(':');
}

/** Where the answer is kept: root's /run, a user's XDG_RUNTIME_DIR (both only theirs to write). */
export function versionCacheFile(uid: number, runtimeDir: string): string {
  return uid === 0 ? '/run/mreg-podman-version.json' : path.join(runtimeDir, 'mreg-podman-version.json');
}

const isVersion = (v: unknown): v is Version => Array.isArray(v) && v.length === 3 && v.every(n => Number.isInteger(n) && n >= 0);

/** podman's version from the cache when the binary is the one it was asked of, else from podman (and kept). */
export async function cachedPodmanVersion(podman: Pick<Podman, 'version'>, cacheFile: string): Promise<Version | undefined> {
  const bin = await findOnPath('podman');
  if (!bin) return podman.version(); // says "not found" in its own way
  const id = await identity(bin);
  try {
    const kept = JSON.parse(await readFile(cacheFile, 'utf8')) as { id?: unknown; version?: unknown };
    if (kept.id === id && isVersion(kept.version)) return kept.version;
  } catch { /* none yet, or unreadable: ask podman */ }
  const version = await podman.version();
  // A folder that is not there (no runtime dir) or not writable only costs the next run a podman process.
  if (version) await writeFileAtomic(cacheFile, JSON.stringify({ id, version }), 0o600).catch(() => undefined);
  return version;
}
