// mreg restore FILE: the registry a backup holds, on this host (after down --purge) or a new one.
// The whole archive is checked first; then the install's files and secrets go back, `up` installs
// them and starts all but quay-app, and the blobs and the database go back before Quay first starts.
// Nothing an existing install holds is replaced: restore refuses instead.
// Its steps are plan/restore-steps.ts, with up's between; the phases live in src/restore/.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { readBackedUpRecord, verifyChain } from '../restore/chain.js';
import { restoreData } from '../restore/data.js';
import { clearTheWay, findExisting } from '../restore/existing.js';
import { readRestoreFlags } from '../restore/flags.js';
import { checkImages } from '../restore/images.js';
import { putInstallFiles } from '../restore/install-files.js';
import { placeOnThisHost } from '../restore/place.js';
import type { RestoreRun } from '../restore/run.js';
import { stepLog } from '../ui/step-log.js';
import { up } from './up.js';

export async function restore(ctx: CommandContext): Promise<void> {
  const { out, flags, host } = ctx;
  // The flags first: bad input is one line before the archive is read.
  const { probe, f } = await readRestoreFlags(ctx);
  // One step log for restore and the up it runs: `--json` (up's report) lists both as `steps`.
  const run: RestoreRun = { out, log: stepLog(out), host, probe };
  const archive = f.archives[f.archives.length - 1]!;
  const chain = await verifyChain(run, f.archives, f.passphraseFile);
  const work = await mkdtemp(join(tmpdir(), 'mreg-restore-'));
  try {
    const backedUp = await readBackedUpRecord(run, chain.source(archive), archive, work);
    const quayRoot = await placeOnThisHost(run, f, chain.manifest, backedUp);
    const existing = await findExisting(run, quayRoot, chain.manifest.id, Boolean(flags.force));
    await checkImages(run, chain.manifest, backedUp, f.imageArchive);
    // Every refusal before the first change (but the folders --force empties first).
    const taken = await clearTheWay(run, existing, quayRoot, backedUp.spec);
    // What lets the same restore resume; restoreData marks in it when the database is back.
    const marker = { id: chain.manifest.id, taken, archives: f.archives };
    await putInstallFiles(run, { quayRoot, work, backedUp, marker });

    // up installs over the restored quayRoot (its CA, secrets and first user); the data goes back before
    // quay-app first starts, so Quay never migrates an empty database only to have it replaced.
    const upFlags: Record<string, unknown> = { quayRoot, ...(f.hostname ? { quayHostname: f.hostname } : {}) };
    await up({ ...ctx, flags: { ...upFlags, verbose: flags.verbose, json: flags.json } }, {
      log: run.log,
      beforeApp: running => restoreData(run, chain, { archive, work, quayRoot, marker }, running),
    });
  } finally {
    await host.files.remove(work);
  }
}
