// The images the backup's registry ran must be on this host before anything changes (a --force must not
// delete an install for a restore that cannot start): loaded from -i ARCHIVE first when given.
import { UsageError } from '../errors.js';
import { loadImageArchive } from '../apply/image-archive.js';
import type { BackupManifest } from '../backup/manifest.js';
import type { InstallRecord } from '../install-spec/record.js';
import { RESTORE_STEP as S } from '../plan/restore-steps.js';
import type { RestoreRun } from './run.js';

/** Drops the backup's infra image from `backedUp` when this host lacks it; rejects naming any other missing one. */
export async function checkImages(run: RestoreRun, m: BackupManifest, backedUp: InstallRecord, imageArchive: string | undefined): Promise<void> {
  const { out } = run;
  const podman = run.host.podman();
  if (imageArchive !== undefined) {
    const loaded = await out.step(`load images from ${imageArchive}`, () => loadImageArchive(podman, imageArchive, {}));
    for (const l of loaded.lines) out.info(`    ${l}`);
    run.log.did(S.loadImages);
  }
  // The pod's infra image (adopt keeps mirror-registry's) is no reason to refuse: podman's own serves.
  const infra = backedUp.spec.infraImage;
  const found = await podman.missingImages([m.images.quay, m.images.postgres, m.images.redis, ...(infra === undefined ? [] : [infra])]);
  const missing = found.filter(ref => ref !== infra);
  if (infra !== undefined && found.includes(infra)) {
    out.info(`mreg: the backup's pod ran the infra image ${infra}, which this host lacks: the pod uses podman's own`);
    delete backedUp.spec.infraImage;
  }
  if (missing.length > 0) {
    throw new UsageError(`image not present on this host: ${missing.join(', ')}; the backup's registry ran ${missing.length === 1 ? 'it' : 'them'}`,
      `${imageArchive === undefined ? 'give an' : 'give another'} image archive that holds ${missing.length === 1 ? 'it' : 'them'}: mreg restore -i ARCHIVE ...; nothing was changed`);
  }
  run.log.did(S.images);
}
