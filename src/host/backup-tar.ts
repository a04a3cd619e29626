// The backup archive on the host, through GNU tar, find and sha256sum (every RHEL host has them), so mreg
// writes no archive format of its own. Storage trees belong to container uids: rootless, every command
// that reads or writes them runs inside the user namespace (`podman unshare`), where those uids exist.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import type { Scope } from '../spec/spec.js';
import { runChecked, runCommand, type RunOptions } from './exec.js';

/** argv that runs `argv` where the scope's container uids are real: as is (root), or in `podman unshare`. */
export function inScope(scope: Scope, argv: readonly string[]): [string, string[]] {
  return scope === 'rootful' ? [argv[0]!, argv.slice(1)] : ['podman', ['unshare', ...argv]];
}

async function runIn(scope: Scope, argv: readonly string[], what: string, opts: RunOptions = {}) {
  const [file, args] = inScope(scope, argv);
  return runChecked(file, args, { ...opts, what });
}

export interface StorageListing {
  dirs: string[];
  files: Array<{ path: string; size: number }>;
}

/**
 * Every folder and regular file under a storage root, relative to it. Uploads in progress are left out:
 * Quay's `uploads/` at the root, distribution's `_uploads/` in each repository.
 */
export async function listStorage(root: string, scope: Scope): Promise<StorageListing> {
  const script = 'cd -- "$1" && find . -mindepth 1 \\( -path ./uploads -o -name _uploads \\) -prune -o -type d -printf "d\\t0\\t%P\\0" -o -type f -printf "f\\t%s\\t%P\\0"';
  const res = await runIn(scope, ['sh', '-c', script, 'sh', root], `listing ${root}`);
  return parseListing(res.stdout);
}

export function parseListing(stdout: string): StorageListing {
  const out: StorageListing = { dirs: [], files: [] };
  for (const rec of stdout.split('\0')) {
    if (rec === '') continue;
    const [kind, size, ...rest] = rec.split('\t');
    const path = rest.join('\t');
    if (kind === 'd') out.dirs.push(path);
    else if (kind === 'f') out.files.push({ path, size: Number(size) });
  }
  return out;
}

/**
 * Copies `paths` (folders and small files, relative to `root`) into `dest` with owners and modes, in one
 * read: the files that change in place (tag links) are archived as they were at this moment. A path
 * deleted since the listing is skipped.
 */
export async function snapshotPaths(root: string, paths: readonly string[], dest: string, scope: Scope, scratch: string): Promise<void> {
  const list = join(scratch, 'snapshot.list');
  const tarball = join(scratch, 'snapshot.tar');
  await writeFile(list, paths.map(p => `./${p}\0`).join(''), { mode: 0o600 });
  const script = 'mkdir -p -- "$3" && tar -C "$1" --no-recursion --null -T "$2" --ignore-failed-read --numeric-owner -cf "$4" && tar -C "$3" --numeric-owner -xpf "$4" && rm -f -- "$4"';
  await runIn(scope, ['sh', '-c', script, 'sh', root, list, dest, tarball], `copying the storage's folders and metadata from ${root}`);
}

/** sha256 and size of every regular file under `dir/sub`, as `sub/...` paths. */
export async function hashTree(dir: string, sub: string, scope: Scope): Promise<Array<{ path: string; size: number; sha256: string }>> {
  const script = 'cd -- "$1" && find "$2" -type f -exec sh -c \'for f; do h=$(sha256sum < "$f") && printf "%s\\t%s\\t%s\\0" "${h%% *}" "$(stat -c %s -- "$f")" "$f"; done\' sh {} +';
  const res = await runIn(scope, ['sh', '-c', script, 'sh', dir, sub], `hashing ${join(dir, sub)}`);
  return res.stdout.split('\0').filter(r => r !== '').map(r => {
    const [sha256, size, ...rest] = r.split('\t');
    return { sha256: sha256!, size: Number(size), path: rest.join('\t') };
  });
}

export interface CreateArchive {
  /** A file path (created 0600 beforehand by the caller) or '-' for stdout. */
  output: string;
  staging: string;
  /** Members of `staging`, in order; manifest.json first. */
  stagedMembers: readonly string[];
  storageRoot: string;
  /** Blob files under storageRoot, stored as storage/<path>. */
  blobs: readonly string[];
  scratch: string;
}

/** Writes the archive in one pass over the data; a blob deleted since the listing fails it (nothing to restore it from). */
export async function createArchive(a: CreateArchive, scope: Scope): Promise<void> {
  const list = join(a.scratch, 'blobs.list');
  await writeFile(list, a.blobs.map(p => `./${p}\0`).join(''), { mode: 0o600 });
  // The transform renames only the listed blobs (`./…`); staged names carry no `./`.
  const argv = ['tar', '--create', '--format=posix', '--numeric-owner', `--file=${a.output}`,
    '-C', a.staging, ...a.stagedMembers,
    '--transform=s,^\\./,storage/,', '--no-recursion', '-C', a.storageRoot, '--null', `--files-from=${list}`];
  const [file, args] = inScope(scope, argv);
  const res = await runCommand(file, args, a.output === '-' ? { stdout: 'inherit' } : {});
  if (res.exitCode !== 0) {
    const gone = /Cannot stat: No such file or directory/.test(res.stderr);
    throw new HostError(`writing the backup failed (tar exited ${res.exitCode})${gone ? ': a blob was deleted while it ran (garbage collection)' : ''}\n  ${res.stderr.trim().split('\n').slice(-5).join('\n  ')}`,
      gone ? 'run mreg backup again' : 'check the free space and permissions of the target folder, then run mreg backup again');
  }
}

/** Reads the whole archive once: sha256 and size of every regular file, in archive order. */
export async function readMembers(archive: string): Promise<Array<{ path: string; size: number; sha256: string }>> {
  const toCommand = 'sh -c \'h=$(sha256sum) && printf "%s\\t%s\\t%s\\0" "${h%% *}" "$TAR_SIZE" "$TAR_FILENAME"\'';
  const res = await runCommand('tar', ['--extract', `--file=${archive}`, `--to-command=${toCommand}`]);
  if (res.exitCode !== 0) {
    throw new HostError(`${archive} is not a complete tar archive: ${res.stderr.trim().split('\n').slice(-2).join('; ') || `tar exited ${res.exitCode}`}`,
      'the backup is damaged or was cut short; use another copy');
  }
  return res.stdout.split('\0').filter(r => r !== '').map(r => {
    const [sha256, size, ...rest] = r.split('\t');
    return { sha256: sha256!, size: Number(size), path: rest.join('\t') };
  });
}

/** One member's text (the manifest, secrets): tar stops reading at its first occurrence. */
export async function readMemberText(archive: string, member: string): Promise<string | undefined> {
  const res = await runCommand('tar', ['--extract', `--file=${archive}`, '--to-stdout', '--occurrence=1', member]);
  return res.exitCode === 0 ? res.stdout : undefined;
}

/** Everything but the storage tree, into `dest`, owned by the caller, modes kept. */
export async function extractSmallMembers(archive: string, dest: string): Promise<void> {
  await runChecked('tar', ['--extract', `--file=${archive}`, '-C', dest, '--no-same-owner', '--preserve-permissions', '--exclude=./storage', '--exclude=storage'],
    { what: `extracting ${archive}` });
}

/** The storage tree into `root`, with the owners and modes the containers had. */
export async function extractStorage(archive: string, root: string, scope: Scope): Promise<void> {
  await runIn(scope, ['tar', '--extract', `--file=${archive}`, '-C', root, '--strip-components=1', '--numeric-owner', '--same-owner', '--preserve-permissions', 'storage'],
    `restoring the blob storage into ${root}`);
}
