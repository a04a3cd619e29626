// Reads a whole backup and checks it against its manifest before anything trusts it (verify, restore).
import { HostError, UsageError } from '../errors.js';
import { checkArchive, manifestBytes, MANIFEST_MEMBER, parseManifest, type BackupManifest } from './manifest.js';
import { readMemberText, readMembers, type ArchiveSource } from '../host/backup-tar.js';
import { looksEncrypted } from '../host/gpg.js';
import { open } from 'node:fs/promises';
import { pathExists } from '../host/fs.js';

export interface VerifiedBackup {
  manifest: BackupManifest;
  files: number;
  bytes: number;
  /** Blobs whose content does not match their digest (manifest.ts checkArchive): restored as they are, and named. */
  damagedBlobs: string[];
}

/**
 * Rejects with one HostError listing the first problems; resolves for a complete archive, naming any blob
 * whose content does not match its digest (the registry may have held it so: the rest still restores).
 */
export async function verifyArchive(src: ArchiveSource): Promise<VerifiedBackup> {
  const file = src.file;
  if (!(await pathExists(file))) throw new UsageError(`${file}: no such file; give the path of a backup that \`mreg backup\` wrote`);
  if (src.passphraseFile === undefined && await startsEncrypted(file)) {
    throw new UsageError(`${file} is encrypted; give the passphrase file it was made with: --passphrase-file FILE`);
  }
  const text = await readMemberText(src, MANIFEST_MEMBER);
  if (text === undefined) throw new HostError(`${file} is not an mreg backup (no ${MANIFEST_MEMBER} in it)`, 'give a file that `mreg backup` wrote');
  const manifest = parseManifest(text);
  if (typeof manifest === 'string') throw new HostError(`${file}: ${manifest}`, 'give a file that `mreg backup` wrote');
  const read = await readMembers(src);
  const { problems, damagedBlobs } = checkArchive(manifest, read, read[0]?.path);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map(p => `  ${p}`).join('\n');
    throw new HostError(`${file} is damaged: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${shown}${problems.length > 5 ? `\n  … and ${problems.length - 5} more` : ''}`,
      'nothing was changed; use another copy of the backup');
  }
  return { manifest, files: manifest.files.length, bytes: manifestBytes(manifest), damagedBlobs };
}

/**
 * How to read `file`: with the passphrase file when it is encrypted, plainly when it is not (a chain may mix
 * a plain full backup with encrypted incremental ones).
 */
export async function archiveSource(file: string, passphraseFile: string | undefined): Promise<ArchiveSource> {
  return passphraseFile !== undefined && await startsEncrypted(file).catch(() => true) ? { file, passphraseFile } : { file };
}

async function startsEncrypted(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(1), 0, 1, 0);
    return bytesRead === 1 && looksEncrypted(buffer);
  } finally {
    await fh.close();
  }
}
