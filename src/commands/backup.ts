// mreg backup [FILE | -]: one archive with everything a restore needs, while the registry keeps serving.
// Consistency: the database is dumped first, the storage listed after it (src/backup/stage.ts). Blobs are
// immutable and content-addressed; what changes in place is copied at once.
// mreg backup --verify FILE reads a backup through and checks it against its manifest.
// Its steps are plan/backup-steps.ts; the phases live in src/backup/.
import { randomUUID } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HostError } from '../errors.js';
import { verifyBackupFile } from '../backup/check-file.js';
import { readPassphraseFlag } from '../backup/passphrase.js';
import { listContents, writeManifest } from '../backup/contents.js';
import { backupFromTarget } from '../backup/remote.js';
import { recordLastBackup, reportBackup } from '../backup/report.js';
import { readSince } from '../backup/since.js';
import { stage } from '../backup/stage.js';
import { checkSpace, checkTarget, defaultName, writeArchive } from '../backup/target.js';
import { stringFlag } from '../install-spec/flags.js';
import { BACKUP_STEP as S } from '../plan/backup-steps.js';
import { stepLog } from '../ui/step-log.js';

export async function backup(ctx: CommandContext): Promise<void> {
  const { out, flags, args, host } = ctx;
  const passphraseFile = await readPassphraseFlag(flags, 'backup');
  if (flags.verify) return verifyBackupFile(ctx, args[0], passphraseFile);
  if (await backupFromTarget(ctx, passphraseFile)) return;
  // Who and where only (as status): the full probe's podman and systemd questions cost seconds on a small host.
  const probe = host.identify();
  const look = host.inspect(probe);
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  if (record.removedAt) {
    throw new HostError(`the registry at ${layout.root} was removed by mreg down on ${record.removedAt}; a backup dumps the running database`, 'run mreg up first (its data was kept), then mreg backup');
  }
  const since = await readSince(host, stringFlag(flags, 'since', 'backup'), passphraseFile, record, layout.root);
  const output = args[0] === '-' ? '-' : resolve(args[0] ?? defaultName(record.spec.hostname, probe.now));
  if (output !== '-') await checkTarget(host.files, output);
  // Beside the archive (room for the dump where the archive goes), but never there for an encrypted one:
  // the dump, secrets and keys sit in the staging folder in plain text, so they stay in the 0700 quayRoot.
  const staging = output === '-' || passphraseFile ? join(layout.root, 'backup-staging') : join(dirname(output), `.${basename(output)}.mreg-staging`);
  const started = Date.now();
  // The ids of the steps this run took, in backupSteps' order: `--json` reports them.
  const { ran, did } = stepLog(out);
  const release = await host.lock(probe);
  try {
    const staged = await stage({ out, did, host, look, who: probe, layout, record, staging });
    const contents = await listContents(staging, staged, record, layout.root, { now: probe.now, id: randomUUID(), ...(since ? { since } : {}) });
    if (output !== '-') {
      await checkSpace(look, dirname(output), contents.bytes);
      did(S.space);
    }
    await writeManifest(staging, contents.manifest);
    did(S.manifest); // the last step before the archive is written: the VM suite kills a backup on it
    await writeArchive(out, host, probe.scope, { output, staging, storageRoot: staged.storageRoot, stored: contents.stored, ...(passphraseFile ? { passphraseFile } : {}) });
    did(S.write(output));
    const last = await recordLastBackup(host.files, layout.root, output, contents);
    did(S.lastBackup);
    reportBackup(out, last, { durationMs: Date.now() - started, blobsLeftOut: staged.capture.partial.length, steps: ran });
  } finally {
    await host.archive.removeStaging(staging, probe.scope).catch(() => undefined);
    await release();
  }
}
