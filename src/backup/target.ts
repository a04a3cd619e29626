// The file a backup goes to: its default name, the checks before the lock, and the write that leaves
// either the complete backup under its name or nothing.
import { open, rename, stat } from 'node:fs/promises';
import { syncPath } from '../host/fs.js';
import { dirname } from 'node:path';
import type { FilePorts, HostPorts, InspectPorts } from '../actions/ports.js';
import type { Scope } from '../install-spec/spec.js';
import { HostError, UsageError } from '../errors.js';
import { sizeText } from '../ui/bytes.js';
import type { Output } from '../ui/output.js';
import { DUMP_MEMBER, MANIFEST_MEMBER, SECRETS_MEMBER, STORAGE_PREFIX, type ManifestFile } from './manifest.js';

/** mreg-backup-HOST-YYYYMMDDTHHMMSS.tar in the current folder. */
export function defaultName(hostname: string, now: Date): string {
  return `mreg-backup-${hostname}-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}.tar`;
}

/**
 * Runs `write` into OUTPUT.partial, made 0600 before the first byte (a backup holds every secret of the
 * registry), and renames it to OUTPUT only when `write` succeeded: a killed or failed backup never leaves
 * a file under the target name. `-` (stdout) is written as is.
 */
export async function writeComplete(files: FilePorts, output: string, write: (target: string) => Promise<void>): Promise<void> {
  if (output === '-') return write('-');
  const partial = `${output}.partial`;
  await files.remove(partial); // a killed earlier run's
  try {
    await (await open(partial, 'wx', 0o600)).close();
    await write(partial);
    // "backup written" must hold after a power cut: the bytes reach the disk before the name does (XFS,
    // RHEL's default, can otherwise show a renamed file empty), and the name before mreg reports it.
    await syncPath(partial);
    await rename(partial, output);
    await syncPath(dirname(output));
  } finally {
    await files.remove(partial).catch(() => undefined);
  }
}

/** A new file in an existing folder: a backup never replaces one (the older one may be the only good copy). */
export async function checkTarget(files: FilePorts, output: string): Promise<void> {
  if (await files.exists(output)) throw new UsageError(`${output} exists; mreg backup never overwrites a backup`, 'give a new file name, or remove the old one first');
  const dir = dirname(output);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`${dir}: no such folder for the backup`, 'create it first, or give another path');
}

export async function checkSpace(look: InspectPorts, dir: string, bytes: number): Promise<void> {
  const free = (await look.space(dir)).freeBytes;
  if (free < bytes) throw new HostError(`${dir} has ${sizeText(free)} free, the backup needs about ${sizeText(bytes)}`, 'write it elsewhere (another disk, or `-` to stream it), then run mreg backup again');
}

/** The archive: the staged members, then the blobs this backup stores, read from the live storage. */
export async function writeArchive(out: Output, host: HostPorts, scope: Scope, a: { output: string; staging: string; storageRoot: string; stored: readonly ManifestFile[]; passphraseFile?: string }): Promise<void> {
  const { output, staging } = a;
  await out.step(`write ${output === '-' ? 'the backup to stdout' : output}`, () => writeComplete(host.files, output, target =>
    host.archive.create({ output: target, staging, stagedMembers: [MANIFEST_MEMBER, DUMP_MEMBER, SECRETS_MEMBER, 'quay-root', 'storage'],
      storageRoot: a.storageRoot, blobs: a.stored.map(b => b.path.slice(STORAGE_PREFIX.length)), scratch: staging, ...(a.passphraseFile ? { passphraseFile: a.passphraseFile } : {}) }, scope)));
}
