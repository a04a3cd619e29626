// Storage the containers own: volume mount points, and bind paths whose files belong to container
// uids (rootless: sub-uids, which only `podman unshare` can chown or delete).
import { lstat, rmdir, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { HostError } from '../errors.js';
import type { Scope, Storage } from '../install-spec/spec.js';
import type { TakenDir } from '../install-spec/taken-dirs.js';
import { runChecked, runCommand } from './exec.js';
import { ensureDir, makeDirIfMissing, pathExists } from './fs.js';

/** The host path of a podman volume, or undefined when it does not exist. */
export async function volumeMountpoint(name: string): Promise<string | undefined> {
  return (await volumeMountpoints([name])).get(name);
}

/** The host folder of a storage: a volume's mount point or the bind path; HostError when the volume does not exist. */
export async function storageHostPath(s: Storage, what: string): Promise<string> {
  if (s.kind === 'path') return s.path;
  const mount = await volumeMountpoint(s.name);
  if (!mount) throw new HostError(`podman volume ${s.name} (${what}) does not exist`, 'run mreg status to see what is wrong with the install');
  return mount;
}

/**
 * Mountpoints of volumes: the recorded folder when it is still there, and the others from one podman
 * process (none when every one was recorded). A volume podman does not know is left out.
 */
export async function knownVolumeMountpoints(names: readonly string[], recorded: Readonly<Record<string, string>> = {}): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  await Promise.all(names.map(async n => {
    const dir = recorded[n];
    if (dir && (await lstat(dir).catch(() => undefined))?.isDirectory()) found.set(n, dir);
  }));
  const ask = names.filter(n => !found.has(n));
  for (const [n, dir] of await volumeMountpoints(ask)) found.set(n, dir);
  return found;
}

/** Mountpoints of several volumes with one podman process (each costs a podman start-up); missing ones are left out. */
export async function volumeMountpoints(names: readonly string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  // With a missing name podman exits non-zero but still prints the volumes it found.
  const r = await runCommand('podman', ['volume', 'inspect', '--format', '{{.Name}}\t{{.Mountpoint}}', ...names]);
  return parseVolumeMountpoints(r.stdout, names);
}

export function parseVolumeMountpoints(stdout: string, names: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t');
    const name = line.slice(0, tab);
    const mount = line.slice(tab + 1).trim();
    if (tab > 0 && names.includes(name) && mount.startsWith('/')) found.set(name, mount);
  }
  return found;
}

/**
 * Creates a bind-mount folder if needed and sets its mode and, with `owner`, gives it to the container's
 * uid:gid (inside-container ids) so the image's unprivileged user can write there. Only the folder
 * itself: its contents already belong to the container from earlier runs, and a recursive chown of a
 * blob store is slow. Rootless, an existing folder belongs to a sub-uid after the first run, so only
 * `podman unshare` may chmod or chown it.
 */
export async function prepareBindDir(dir: string, mode: number, scope: Scope, owner?: { uid: number; gid: number }): Promise<void> {
  if (scope === 'rootful') {
    await ensureDir(dir, mode);
    if (owner) await runChecked('chown', [`${owner.uid}:${owner.gid}`, dir], { what: `chown of ${dir}` });
    return;
  }
  await makeDirIfMissing(dir, mode);
  const script = owner ? 'chown -- "$1" "$3" && chmod -- "$2" "$3"' : 'chmod -- "$2" "$3"';
  await runChecked('podman', ['unshare', 'sh', '-c', script, 'sh', owner ? `${owner.uid}:${owner.gid}` : '', mode.toString(8), dir],
    { what: `podman unshare chown/chmod of ${dir}` });
}

/** argv that runs `argv` where the scope's container uids are real: as is (root), or in `podman unshare`. */
export function inScope(scope: Scope, argv: readonly string[]): [string, string[]] {
  return scope === 'rootful' ? [argv[0]!, argv.slice(1)] : ['podman', ['unshare', ...argv]];
}

/** runChecked of `argv` in the scope's user namespace (inScope). */
export async function runInScope(scope: Scope, argv: readonly string[], what: string) {
  const [file, args] = inScope(scope, argv);
  return runChecked(file, args, { what });
}

/** Deletes a tree that container uids own; rootless needs the user namespace to do it. */
export async function removeTree(path: string, scope: Scope): Promise<void> {
  if (!(await pathExists(path))) return;
  await runInScope(scope, ['rm', '-rf', '--one-file-system', '--', path], `removing ${path}`);
}

export interface SpaceInfo { freeBytes: number; totalBytes: number }

/** Free and total bytes (for an unprivileged user) of the file system holding `file` or its nearest existing parent. */
export async function storageSpace(file: string): Promise<SpaceInfo> {
  let p = resolve(file);
  for (;;) {
    try {
      const s = await statfs(p);
      return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch (err) {
      const parent = dirname(p);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) throw err;
      p = parent;
    }
  }
}

export interface ModeProblem { path: string; problem: string }

/**
 * Files that hold secrets must not be readable by others, private keys and credentials not even by
 * the group; all must belong to the installing user (root, or the rootless user).
 */
export async function checkPrivateModes(paths: { path: string; maxMode: number }[], uid: number): Promise<ModeProblem[]> {
  const problems: ModeProblem[] = [];
  for (const { path, maxMode } of paths) {
    let st;
    try { st = await lstat(path); } catch { continue; } // a missing file is reported elsewhere
    const mode = st.mode & 0o7777;
    if ((mode & ~maxMode) !== 0) problems.push({ path, problem: `mode 0${mode.toString(8)} is too open (at most 0${maxMode.toString(8)}); chmod 0${(mode & maxMode).toString(8)} ${path}` });
    if (st.uid !== uid) problems.push({ path, problem: `owned by uid ${st.uid}, not ${uid}; run chown ${uid} ${path}` });
  }
  return problems;
}

/**
 * Gives a folder back as mreg took it (spec/taken-dirs.ts): one it created is deleted with the empty
 * parents it made; one it found empty is emptied (a file system's lost+found stays) and gets its old
 * mode and owner back. With `only`, just those top-level names are deleted, and a created folder goes
 * only if nothing else is left in it. Resolves with the names left. Rootless, the container-owned files
 * need the user namespace.
 */
export async function giveBackDir(d: TakenDir, scope: Scope, ids: { uid: number; gid: number }, only?: readonly string[],
  spare?: readonly string[]): Promise<string[]> {
  if (!(await pathExists(d.path))) return [];
  const top = ['find', d.path, '-mindepth', '1', '-maxdepth', '1'];
  let left: string[] = [];
  if (only || spare) {
    // find's -name takes a pattern: a folder's own name is matched as it is.
    const literal = (n: string) => n.replace(/[[\]*?\\]/g, '\\$&');
    const names = only ? ['(', ...only.flatMap((n, i) => [...(i > 0 ? ['-o'] : []), '-name', n]), ')']
      : ['!', '-name', 'lost+found', ...spare!.flatMap(n => ['!', '-name', literal(n)])];
    await runInScope(scope, [...top, ...names, '-exec', 'rm', '-rf', '--one-file-system', '--', '{}', '+'],
      only ? `deleting what the container wrote in ${d.path}` : `deleting all but ${spare!.join(', ')} in ${d.path}`);
    const r = await runInScope(scope, [...top, '!', '-name', 'lost+found', '-printf', '%f\\n'], `listing ${d.path}`);
    left = String(r.stdout).split('\n').filter(Boolean).sort();
  }
  if (d.createdFrom !== undefined) {
    if (left.length > 0) return left;
    await removeTree(d.path, scope);
    for (let p = dirname(d.path); d.path !== d.createdFrom && p.length >= d.createdFrom.length; p = dirname(p)) {
      if (!(await rmdirIfEmpty(p))) break;
      if (p === d.createdFrom) break;
    }
    return [];
  }
  if (!only && !spare) await runInScope(scope, [...top, '!', '-name', 'lost+found', '-exec', 'rm', '-rf', '--one-file-system', '--', '{}', '+'], `emptying ${d.path}`);
  // Rootless, the user's own uid is 0 inside the namespace.
  const owner = (id: number | undefined, mine: number) => (id === undefined ? undefined : scope === 'rootless' && id === mine ? 0 : id);
  const u = owner(d.uid, ids.uid);
  const g = owner(d.gid, ids.gid);
  if (u !== undefined && g !== undefined) await runInScope(scope, ['chown', `${u}:${g}`, '--', d.path], `chown of ${d.path}`);
  if (d.mode !== undefined) await runInScope(scope, ['chmod', d.mode.toString(8), '--', d.path], `chmod of ${d.path}`);
  return left;
}

async function rmdirIfEmpty(dir: string): Promise<boolean> {
  try { await rmdir(dir); return true; } catch { return false; }
}
