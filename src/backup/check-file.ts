// mreg backup --verify FILE: reads a backup through and checks it against its manifest.
import type { CommandContext } from '../cli.js';
import { HostError, UsageError } from '../errors.js';
import { damagedBlobsText } from './manifest.js';
import { flagSpelling } from '../options-table.js';
import { BACKUP_STEP } from '../plan/backup-steps.js';
import { sizeText } from '../ui/bytes.js';
import { stepLog } from '../ui/step-log.js';

export async function verifyBackupFile(ctx: CommandContext, file: string | undefined, passphraseFile: string | undefined): Promise<void> {
  const { out, host, flags } = ctx;
  if (!file || file === '-') throw new UsageError('--verify needs the backup file: mreg backup --verify FILE');
  // It reads a file here: a flag that would change where or what is read is refused, not ignored.
  const other = ['since', 'targetHostname', 'quayRoot'].filter(k => flags[k] !== undefined);
  if (other.length > 0) {
    throw new UsageError(`--verify reads the backup FILE on this host and takes no ${other.map(k => (k === 'targetHostname' ? '-H' : flagSpelling(k))).join(', ')}`,
      'mreg backup --verify FILE [--passphrase-file FILE]');
  }
  const log = stepLog(out);
  const v = await out.step(`verify ${file}`, async () => host.archive.verify(await host.archive.source(file, passphraseFile)));
  log.did(BACKUP_STEP.verify(file));
  // Restorable, yet not what the registry should have held: verify does not call it complete.
  if (v.damagedBlobs.length > 0) {
    throw new HostError(damagedBlobsText(file, v.damagedBlobs),
      'mreg restore restores it with these blobs as they are; pulls of the images that use them fail until they are mirrored again into a new registry');
  }
  const m = v.manifest;
  // An incremental one is whole only with the backups it builds on: whoever keeps only verified files must know.
  const needs = m.since ? { sinceBackup: m.since.createdAt, inheritedBlobs: m.inherited?.length ?? 0 } : undefined;
  if (out.json) return out.resultJson({ file, ok: true, files: v.files, bytes: v.bytes, createdAt: m.createdAt, hostname: m.hostname, scope: m.scope, mregVersion: m.mregVersion, images: m.images, ...(needs ? { needs } : {}), steps: log.ran });
  out.result(`${file}: complete, every checksum matches (${v.files} files, ${sizeText(v.bytes)}); made ${m.createdAt} by mreg ${m.mregVersion} from ${m.hostname}:${m.port} (${m.scope})`
    + (needs ? `; incremental: a restore also needs the backup made ${needs.sinceBackup} (and those it builds on) for ${needs.inheritedBlobs} blob${needs.inheritedBlobs === 1 ? '' : 's'}` : ''));
}
