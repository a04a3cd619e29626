// What `upgrade --dry-run` shows: the files that change and the steps a run would take, from reads only.
import { dbSnapshotPaths, refuseUnfinishedUpgrade } from '../apply/db-snapshot.js';
import { existingSecrets } from '../apply/existing-secrets.js';
import { archiveImagesUnloaded } from '../apply/image-archive.js';
import { readKeptConfig } from '../apply/kept-config.js';
import type { Images } from '../install-spec/spec.js';
import { checksPgDataOnUpgrade } from '../plan/upgrade-steps.js';
import type { Output } from '../ui/output.js';
import { printUpgradePlan } from '../ui/upgrade-report.js';
import { planFiles } from './files.js';
import type { Upgrading } from './read.js';
import { unrecordedFiles } from './spec.js';

/** Refuses what the run would refuse before its first change, then prints its plan. */
export async function upgradeDryRun(out: Output, f: Upgrading, given: Partial<Images>, timeoutMs: number): Promise<void> {
  const { record, layout, podman } = f;
  // mirror-registry's archive names its images by content: hashed, not loaded, the plan names them as the run will.
  const spec = f.spec.imageArchive ? await archiveImagesUnloaded(f.spec, f.spec.imageArchive, given) : f.spec;
  await refuseUnfinishedUpgrade(f.look.readFile, layout.root, record.spec.images.quay, spec.images.quay);
  // A PostgreSQL image that cannot open the data is the run's first refusal: said now, before a window is booked.
  // An image only in the archive is checked by the run, once loaded.
  if (checksPgDataOnUpgrade(record.spec.images, spec.images) && (await podman.missingImages([spec.images.postgres])).length === 0) {
    await f.look.assertPgMajorCompatible(spec.pgStorage, spec.images.postgres, record.pgData, record.volumeMountpoints);
  }
  const config = await readKeptConfig(layout.configYaml);
  const secrets = await existingSecrets(podman, layout.credentials, config.text);
  const files = await planFiles(f, spec, secrets, config.kept);
  printUpgradePlan(out, { ...f, spec, ...files, podmanVersion: f.probe.podmanVersion, newFiles: unrecordedFiles(record, files.changes), recorded: record.spec.images,
    secrets, dbSnapshot: dbSnapshotPaths(layout.root).dump, timeoutMs });
}
