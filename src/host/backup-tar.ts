// The backup archive on the host, through GNU tar, find and sha256sum (every RHEL host has them), so mreg
// writes no archive format of its own. Storage trees belong to container uids: rootless, every command
// that reads or writes them runs inside the user namespace (`podman unshare`), where those uids exist.
import { writeFile } from 'node:fs/promises';
import { loadExeca } from './execa.js';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import type { Scope } from '../install-spec/spec.js';
import { runCommand } from './exec.js';
import { inScope, runInScope } from './storage.js';
import { decryptArgs, encryptArgs, withGpgHome } from './gpg.js';


export interface StorageListing {
  dirs: string[];
  /** mtime in milliseconds since the epoch. */
  files: Array<{ path: string; size: number; mtimeMs: number }>;
}

/**
 * Every folder and regular file under a storage root, relative to it. Uploads in progress are left out:
 * Quay's `uploads/` at the root, distribution's `_uploads/` in each repository.
 */
export async function listStorage(root: string, scope: Scope): Promise<StorageListing> {
  const script = 'cd -- "$1" && find . -mindepth 1 \\( -path ./uploads -o -name _uploads \\) -prune -o -type d -printf "d\\t0\\t%P\\0" -o -type f -printf "f\\t%s\\t%T@\\t%P\\0"';
  const res = await runInScope(scope, ['sh', '-c', script, 'sh', root], `listing ${root}`);
  return parseListing(res.stdout);
}

export function parseListing(stdout: string): StorageListing {
  const out: StorageListing = { dirs: [], files: [] };
  for (const rec of stdout.split('\0')) {
    if (rec === '') continue;
    const [kind, size, ...rest] = rec.split('\t');
    if (kind === 'd') out.dirs.push(rest.join('\t'));
    else if (kind === 'f') out.files.push({ path: rest.slice(1).join('\t'), size: Number(size), mtimeMs: Math.round(Number(rest[0]) * 1000) });
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
  await runInScope(scope, ['sh', '-c', script, 'sh', root, list, dest, tarball], `copying the storage's folders and metadata from ${root}`);
}

/** sha256 and size of every regular file under `dir/sub`, as `sub/...` paths: two processes, not two per file. */
export async function hashTree(dir: string, sub: string, scope: Scope): Promise<Array<{ path: string; size: number; sha256: string }>> {
  const script = 'cd -- "$1" && find "$2" -type f -printf "%s\\t%p\\0" && printf "\\0" && find "$2" -type f -print0 | xargs -0r sha256sum -z --';
  const res = await runInScope(scope, ['sh', '-c', script, 'sh', dir, sub], `hashing ${join(dir, sub)}`);
  return parseHashTree(res.stdout);
}

/** find's `size\tpath` records, an empty record, then sha256sum -z's `hash  path` records. */
export function parseHashTree(stdout: string): Array<{ path: string; size: number; sha256: string }> {
  const records = stdout.split('\0');
  const gap = records.indexOf('');
  return joinHashes(records.slice(gap + 1), records.slice(0, gap), true);
}

/** `size\tpath` and sha256sum's `hash  path` records joined by path; `strict`: every hashed file has a size. */
function joinHashes(hashRecords: readonly string[], sizeRecords: readonly string[], strict: boolean): Array<{ path: string; size: number; sha256: string }> {
  const sizes = new Map(sizeRecords.map(r => { const tab = r.indexOf('\t'); return [r.slice(tab + 1), Number(r.slice(0, tab))] as const; }));
  return hashRecords.filter(r => r !== '').flatMap(r => {
    const path = r.slice(66);
    const size = sizes.get(path);
    if (!/^[0-9a-f]{64} [ *]$/.test(r.slice(0, 66)) || (size === undefined && strict)) throw new HostError(`unexpected sha256sum output: ${JSON.stringify(r.slice(0, 120))}`);
    return size === undefined ? [] : [{ path, size, sha256: r.slice(0, 64) }];
  });
}

/**
 * sha256 and size of the named files under `root` (paths relative to it). Each size is read after its
 * hash, so a file whose hash is its digest has the size of that content. A file gone is left out.
 */
export async function hashFiles(root: string, paths: readonly string[], scope: Scope, scratch: string): Promise<Array<{ path: string; size: number; sha256: string }>> {
  if (paths.length === 0) return [];
  const list = join(scratch, 'hash.list');
  await writeFile(list, paths.map(p => `${p}\0`).join(''), { mode: 0o600 });
  const script = 'cd -- "$1" || exit 1; xargs -0r sha256sum -z -- < "$2" 2>/dev/null; printf "\\0"; xargs -0r stat --printf "%s\\t%n\\0" -- < "$2" 2>/dev/null; exit 0';
  const res = await runInScope(scope, ['sh', '-c', script, 'sh', root, list], `hashing the blobs written during the backup under ${root}`);
  const records = res.stdout.split('\0');
  const gap = records.indexOf('');
  return joinHashes(records.slice(0, gap), records.slice(gap + 1), false);
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
  /** Encrypt with this passphrase file (gpg --symmetric). */
  passphraseFile?: string;
}

/** Writes the archive in one pass over the data; a blob deleted since the listing fails it (nothing to restore it from). */
export async function createArchive(a: CreateArchive, scope: Scope): Promise<void> {
  const list = join(a.scratch, 'blobs.list');
  await writeFile(list, a.blobs.map(p => `./${p}\0`).join(''), { mode: 0o600 });
  // The transform renames only the listed blobs (`./…`); staged names carry no `./`.
  const argv = ['tar', '--create', '--format=posix', '--numeric-owner', `--file=${a.passphraseFile === undefined ? a.output : '-'}`,
    '-C', a.staging, ...a.stagedMembers,
    '--transform=s,^\\./,storage/,', '--no-recursion', '-C', a.storageRoot, '--null', `--files-from=${list}`];
  const [file, args] = inScope(scope, argv);
  let res: TarRun;
  if (a.passphraseFile === undefined) res = await runCommand(file, args, a.output === '-' ? { stdout: 'inherit' } : {});
  else {
    const passphraseFile = a.passphraseFile;
    res = await withGpgHome(async home => {
      const env = { LC_ALL: 'C' };
      const { execa } = await loadExeca();
      const r = await execa(file, args, { reject: false, env, buffer: { stdout: false } })
        .pipe(execa('gpg', encryptArgs(home, passphraseFile, a.output), { reject: false, env, ...(a.output === '-' ? { stdout: 'inherit' as const } : {}) }));
      const tar = r.pipedFrom[0];
      const gpgError = r.exitCode !== 0 ? String(r.stderr ?? '').trim().split('\n').pop() || `gpg exited ${r.exitCode}` : undefined;
      return { exitCode: tar?.exitCode ?? 1, stdout: '', stderr: String(tar?.stderr ?? ''), ...(gpgError ? { gpgError } : {}) };
    });
  }
  if (res.gpgError) throw new HostError(`encrypting the backup failed: ${res.gpgError}`, 'check the --passphrase-file and the free space of the target folder, then run mreg backup again');
  if (res.exitCode !== 0) {
    const gone = /Cannot stat: No such file or directory/.test(res.stderr);
    throw new HostError(`writing the backup failed (tar exited ${res.exitCode})${gone ? ': a blob was deleted while it ran (garbage collection)' : ''}\n  ${res.stderr.trim().split('\n').slice(-5).join('\n  ')}`,
      gone ? 'run mreg backup again' : 'check the free space and permissions of the target folder, then run mreg backup again');
  }
}

/** A backup to read: the file, and the passphrase file when it is encrypted. */
export interface ArchiveSource { file: string; passphraseFile?: string }

interface TarRun { exitCode: number; stdout: string; stderr: string; gpgError?: string }

/**
 * Runs tar `args` (in the scope's namespace) over the archive: `--file=FILE`, or with an encrypted one,
 * gpg decrypting into tar's stdin. gpg's failure is reported apart: a wrong passphrase, or a modified file.
 */
async function tarOver(src: ArchiveSource, args: readonly string[], scope: Scope = 'rootful'): Promise<TarRun> {
  if (src.passphraseFile === undefined) {
    const [file, a] = inScope(scope, ['tar', `--file=${src.file}`, ...args]);
    return runCommand(file, a);
  }
  const passphraseFile = src.passphraseFile;
  return withGpgHome(async home => {
    const [file, a] = inScope(scope, ['tar', '--file=-', ...args]);
    const env = { LC_ALL: 'C' };
    const { execa } = await loadExeca();
    const res = await execa('gpg', decryptArgs(home, passphraseFile, src.file), { reject: false, env, buffer: { stdout: false } })
      .pipe(execa(file, a, { reject: false, env }));
    const gpg = res.pipedFrom[0];
    const gpgError = gpg ? gpgReadError(gpg.exitCode ?? 1, String(gpg.stderr ?? '')) : undefined;
    return { exitCode: res.exitCode ?? 1, stdout: typeof res.stdout === 'string' ? res.stdout : '', stderr: String(res.stderr ?? ''), ...(gpgError ? { gpgError } : {}) };
  });
}

/**
 * gpg's failure while decrypting into tar, or undefined when there is none to report. tar stops reading
 * after --occurrence and restore stops at a chain it refuses: gpg then fails writing to the closed
 * stdout, which is no error of the archive. Node's child stdio is a socket pair, so that shows as
 * "Connection reset by peer" as often as "Broken pipe".
 */
export function gpgReadError(exitCode: number, stderr: string): string | undefined {
  if (exitCode === 0 || /Broken pipe|EPIPE|write error|Connection reset by peer|ECONNRESET/i.test(stderr)) return undefined;
  return stderr.trim().split('\n').pop() || `gpg exited ${exitCode}`;
}

/** The error for a failed read: the passphrase, or a damaged archive. */
function readFailed(src: ArchiveSource, r: TarRun, what: string): HostError {
  if (r.gpgError) {
    return new HostError(`${src.file}: could not decrypt it (${r.gpgError})`, /Bad session key|bad passphrase/i.test(r.gpgError)
      ? 'wrong passphrase: give the --passphrase-file the backup was made with; nothing was changed'
      : 'the backup is damaged or was cut short; use another copy; nothing was changed');
  }
  return new HostError(`${what}: ${r.stderr.trim().split('\n').slice(-2).join('; ') || `tar exited ${r.exitCode}`}`,
    'the backup is damaged or was cut short; use another copy; nothing was changed');
}

/** tarOver that rejects with readFailed(`what`) unless both tar and gpg succeeded. */
async function tarOverChecked(src: ArchiveSource, args: readonly string[], what: string, scope?: Scope): Promise<TarRun> {
  const res = await tarOver(src, args, scope);
  if (res.exitCode !== 0 || res.gpgError) throw readFailed(src, res, what);
  return res;
}

/** Reads the whole archive once: sha256 and size of every regular file, in archive order. */
export async function readMembers(src: ArchiveSource): Promise<Array<{ path: string; size: number; sha256: string }>> {
  const toCommand = 'sh -c \'h=$(sha256sum) && printf "%s\\t%s\\t%s\\0" "${h%% *}" "$TAR_SIZE" "$TAR_FILENAME"\'';
  const res = await tarOverChecked(src, ['--extract', `--to-command=${toCommand}`], `${src.file} is not a complete tar archive`);
  return res.stdout.split('\0').filter(r => r !== '').map(r => {
    const [sha256, size, ...rest] = r.split('\t');
    return { sha256: sha256!, size: Number(size), path: rest.join('\t') };
  });
}

/** One member's text (the manifest): tar stops reading at its first occurrence. Undefined when it is not there. */
export async function readMemberText(src: ArchiveSource, member: string): Promise<string | undefined> {
  const res = await tarOver(src, ['--extract', '--to-stdout', '--occurrence=1', member]);
  if (res.gpgError) throw readFailed(src, res, src.file);
  return res.exitCode === 0 ? res.stdout : undefined;
}

/**
 * The named members (files or folders, which come before the storage tree) into `dest`, owned by the
 * caller, modes kept. --occurrence lets tar stop once it is past them (at the storage folder), so this
 * reads the head of the archive, not the blobs: verify has read it whole already.
 */
export async function extractSmallMembers(src: ArchiveSource, dest: string, members: readonly string[]): Promise<void> {
  await tarOverChecked(src, ['--extract', '-C', dest, '--no-same-owner', '--preserve-permissions', '--occurrence=1', '--', ...members], `extracting ${src.file}`);
}

const STORAGE_EXTRACT = ['--extract', '--strip-components=1', '--numeric-owner', '--same-owner', '--preserve-permissions'];

/** The storage tree into `root`, with the owners and modes the containers had. */
export async function extractStorage(src: ArchiveSource, root: string, scope: Scope): Promise<void> {
  await tarOverChecked(src, [...STORAGE_EXTRACT, '-C', root, 'storage'], `restoring the blob storage into ${root}`, scope);
}

/** Only the listed storage members (blobs a later incremental backup inherits) into `root`, as extractStorage does. */
export async function extractStorageMembers(src: ArchiveSource, root: string, members: readonly string[], scope: Scope, scratch: string): Promise<void> {
  const list = join(scratch, 'members.list');
  await writeFile(list, members.map(m => `${m}\0`).join(''), { mode: 0o600 });
  await tarOverChecked(src, [...STORAGE_EXTRACT, '-C', root, '--null', `--files-from=${list}`], `restoring blobs from ${src.file} into ${root}`, scope);
}
