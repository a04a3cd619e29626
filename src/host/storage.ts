// Storage the containers own: volume mount points, and bind paths whose files belong to container
// uids (rootless: sub-uids, which only `podman unshare` can chown or delete).
import type { Scope } from '../spec/spec.js';
import { runChecked, runCommand } from './exec.js';
import { ensureDir, pathExists } from './fs.js';

/** The host path of a podman volume, or undefined when it does not exist. */
export async function volumeMountpoint(name: string): Promise<string | undefined> {
  const r = await runCommand('podman', ['volume', 'inspect', '--format', '{{.Mountpoint}}', name]);
  return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined;
}

/**
 * Creates a bind-mount folder if needed and gives it to the container's uid:gid (inside-container ids),
 * so the image's unprivileged user can write there. Only the folder itself: its contents already
 * belong to the container from earlier runs, and a recursive chown of a blob store is slow.
 */
export async function prepareBindDir(dir: string, uid: number, gid: number, scope: Scope): Promise<void> {
  await ensureDir(dir, 0o750);
  if (scope === 'rootful') await runChecked('chown', [`${uid}:${gid}`, dir], { what: `chown of ${dir}` });
  else await runChecked('podman', ['unshare', 'chown', `${uid}:${gid}`, dir], { what: `podman unshare chown of ${dir}` });
}

/** Deletes a tree that container uids own; rootless needs the user namespace to do it. */
export async function removeTree(path: string, scope: Scope): Promise<void> {
  if (!(await pathExists(path))) return;
  if (scope === 'rootful') await runChecked('rm', ['-rf', '--one-file-system', '--', path], { what: `removing ${path}` });
  else await runChecked('podman', ['unshare', 'rm', '-rf', '--one-file-system', '--', path], { what: `removing ${path}` });
}
