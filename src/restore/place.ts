// Where the restored install goes on this host: its quayRoot, and its storage (the backup's, or the
// flags'), with an object store's key pair read here and its bucket checked before anything changes.
import { UsageError } from '../errors.js';
import { checkObjectStorage, withS3Inputs } from '../apply/object-storage.js';
import type { BackupManifest } from '../backup/manifest.js';
import { defaultQuayRoot } from '../model/scope.js';
import { storageText } from '../model/views.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { ObjectStorage, QuayStorage, Storage } from '../install-spec/spec.js';
import { RESTORE_STEP as S } from '../plan/restore-steps.js';
import type { RestoreFlags } from './flags.js';
import type { RestoreRun } from './run.js';

/** Sets `backedUp`'s storage for this host; resolves with the quayRoot. */
export async function placeOnThisHost(run: RestoreRun, f: RestoreFlags, m: BackupManifest, backedUp: InstallRecord): Promise<string> {
  const { probe, out } = run;
  const quayRoot = f.quayRoot ?? (m.scope === probe.scope ? m.quayRoot : defaultQuayRoot(probe.scope, probe.home));
  // Another host's disks: the storage may go elsewhere (the backup's folders may not exist or be in use here).
  backedUp.spec.quayStorage = objectStorageOnThisHost(backedUp.spec.quayStorage, f.quayStorage, f.s3Files);
  backedUp.spec.pgStorage = f.pgStorage ?? backedUp.spec.pgStorage;
  // An object-storage install's key pair (and CA) must be readable here and open its bucket: checked
  // before anything changes, as up does.
  if (backedUp.spec.quayStorage.kind === 's3') {
    const read = await withS3Inputs(backedUp.spec).catch((err: unknown) => {
      // The path came from the backup, not from a flag: say where else the files may come from.
      if (err instanceof UsageError && f.s3Files.credentialsFile === undefined && f.s3Files.caBundle === undefined) {
        throw new UsageError(err.problems, 'the backed-up install read them there; put them there, or give --s3CredentialsFile FILE (and --s3CaBundle FILE); nothing was changed');
      }
      throw err;
    });
    const s3 = read.quayStorage as ObjectStorage; // the keys read once, for the check
    await out.step(`object storage ${storageText(s3)}`, () => checkObjectStorage(s3, false));
    run.log.did(S.objectStorage);
    out.warn(sharedPrefixWarning(s3, m));
  }
  return quayRoot;
}

/**
 * A restore beside the registry it was taken from (a disaster-recovery test) shares that registry's bucket
 * prefix: each Quay's garbage collection deletes the blobs its own database no longer needs, which the
 * other may still serve. mreg cannot tell a test from a real recovery (the old registry gone), so it says so.
 */
export function sharedPrefixWarning(s3: ObjectStorage, m: Pick<BackupManifest, 'hostname' | 'port'>): string {
  return `the restored registry keeps its blobs where the backed-up one wrote them (${storageText(s3)}): `
    + `if the registry it was taken from (${m.hostname}:${m.port}) still runs on another host, stop it for good before this one deletes anything; two registries on one prefix delete each other's blobs`;
}

/**
 * The blob storage the restored install gets: the backup's, or --quayStorage for a local one. An
 * object-storage install keeps its bucket (its blobs are there, not in the archive), with the key pair
 * and CA files wherever this host keeps them.
 */
function objectStorageOnThisHost(backedUp: QuayStorage, flag: Storage | undefined, files: { credentialsFile?: string; caBundle?: string }): QuayStorage {
  if (backedUp.kind !== 's3') {
    const given = Object.keys(files).map(k => `--s3${k[0]!.toUpperCase()}${k.slice(1)}`);
    if (given.length > 0) throw new UsageError(`${given.join(', ')}: the backed-up install keeps its blobs in ${storageText(backedUp)}, not in object storage`, 'leave it out');
    return flag ?? backedUp;
  }
  if (flag) throw new UsageError(`--quayStorage: the backed-up install keeps its blobs in ${storageText(backedUp)}, and the backup holds none of them`, 'leave it out: the restored registry uses the same bucket');
  return { ...backedUp, ...files };
}
