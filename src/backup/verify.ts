// Reads a whole backup and checks it against its manifest before anything trusts it (verify, restore).
import { HostError } from '../errors.js';
import { checkMembers, manifestBytes, MANIFEST_MEMBER, parseManifest, type BackupManifest } from './manifest.js';
import { readMemberText, readMembers } from '../host/backup-tar.js';
import { pathExists } from '../host/fs.js';

export interface VerifiedBackup {
  manifest: BackupManifest;
  files: number;
  bytes: number;
}

/** Rejects with one HostError listing the first problems; resolves only for a complete, unaltered archive. */
export async function verifyArchive(file: string): Promise<VerifiedBackup> {
  if (!(await pathExists(file))) throw new HostError(`${file}: no such file`, 'give the path of a backup that `mreg backup` wrote');
  const text = await readMemberText(file, MANIFEST_MEMBER);
  if (text === undefined) throw new HostError(`${file} is not an mreg backup (no ${MANIFEST_MEMBER} in it)`, 'give a file that `mreg backup` wrote');
  const manifest = parseManifest(text);
  if (typeof manifest === 'string') throw new HostError(`${file}: ${manifest}`, 'give a file that `mreg backup` wrote');
  const read = await readMembers(file);
  const problems = checkMembers(manifest, read, read[0]?.path);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map(p => `  ${p}`).join('\n');
    throw new HostError(`${file} is damaged: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${shown}${problems.length > 5 ? `\n  … and ${problems.length - 5} more` : ''}`,
      'nothing was changed; use another copy of the backup');
  }
  return { manifest, files: manifest.files.length, bytes: manifestBytes(manifest) };
}
