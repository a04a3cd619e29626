// mreg backup -H HOST: the backup is made there (`mreg backup -` over ssh) and written here.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CommandContext } from '../cli.js';
import { UsageError } from '../errors.js';
import { BACKUP_STEP } from '../plan/backup-steps.js';
import { checkQuayRootForTarget, refuseOtherUserHere } from '../remote/on-target.js';
import { sizeText } from '../ui/bytes.js';
import { stepLog } from '../ui/step-log.js';
import { checkTarget, defaultName, writeComplete } from './target.js';

/**
 * Under the same rules as a local backup (a new file, 0600, complete or not there); its one step here is
 * the write. Resolves false when -H is absent or names this host.
 */
export async function backupFromTarget(ctx: CommandContext, passphraseFile: string | undefined): Promise<boolean> {
  const { flags, args, out, host } = ctx;
  if (flags.targetHostname === undefined) {
    refuseOtherUserHere(ctx);
    return false;
  }
  const { remoteTarget, runRemote } = await import('../remote/run.js');
  const target = await remoteTarget(flags);
  if (!target) return false;
  checkQuayRootForTarget(flags, target.hostname);
  if (flags.since !== undefined || passphraseFile !== undefined) {
    throw new UsageError(`${flags.since !== undefined ? '--since' : '--passphrase-file'} with -H is not supported yet: the previous backup and the passphrase are on this host`,
      `stream it instead: mreg backup -H ${target.hostname} - | gpg --symmetric > FILE, or run mreg backup on ${target.hostname}`);
  }
  if (args[0] === '-') {
    await runRemote('backup', target, ctx, { positional: ['-'] });
    return true;
  }
  const output = resolve(args[0] ?? defaultName(target.hostname, new Date()));
  await checkTarget(host.files, output);
  const started = Date.now();
  const log = stepLog(out);
  await writeComplete(host.files, output, partial => runRemote('backup', target, ctx, { positional: ['-'], stdoutFile: partial }));
  log.did(BACKUP_STEP.write(output));
  const bytes = (await stat(output)).size;
  if (out.json) out.resultJson({ file: output, bytes, host: target.hostname, durationMs: Date.now() - started, steps: log.ran });
  else out.result(`backup of ${target.hostname} written: ${output} (${sizeText(bytes)}) in ${((Date.now() - started) / 1000).toFixed(1)} s; check it with mreg backup --verify ${output}`);
  return true;
}
