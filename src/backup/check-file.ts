// mreg backup --verify FILE: reads a backup through and checks it against its manifest.
import type { CommandContext } from '../cli.js';
import { UsageError } from '../errors.js';
import { BACKUP_STEP } from '../plan/backup-steps.js';
import { sizeText } from '../ui/bytes.js';
import { stepLog } from '../ui/step-log.js';

export async function verifyBackupFile(ctx: CommandContext, file: string | undefined, passphraseFile: string | undefined): Promise<void> {
  const { out, host } = ctx;
  if (!file || file === '-') throw new UsageError('--verify needs the backup file: mreg backup --verify FILE');
  const log = stepLog(out);
  const v = await out.step(`verify ${file}`, async () => host.archive.verify(await host.archive.source(file, passphraseFile)));
  log.did(BACKUP_STEP.verify(file));
  const m = v.manifest;
  if (out.json) return out.resultJson({ file, ok: true, files: v.files, bytes: v.bytes, createdAt: m.createdAt, hostname: m.hostname, scope: m.scope, mregVersion: m.mregVersion, images: m.images, steps: log.ran });
  out.result(`${file}: complete, every checksum matches (${v.files} files, ${sizeText(v.bytes)}); made ${m.createdAt} by mreg ${m.mregVersion} from ${m.hostname}:${m.port} (${m.scope})`);
}
