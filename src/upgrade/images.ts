// The images an upgrade switches to, on this host before anything changes: loaded from --image-archive,
// present (mreg never pulls), and a PostgreSQL image of the data's major version.
import type { InspectPorts, Podman } from '../actions/ports.js';
import { loadArchiveStep } from '../apply/image-archive.js';
import { requireImages } from '../apply/images.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { Images, InstallSpec } from '../install-spec/spec.js';
import { checksPgDataOnUpgrade, UPGRADE_STEP as S } from '../plan/upgrade-steps.js';
import type { Output } from '../ui/output.js';
import type { StepLog } from '../ui/step-log.js';

interface ImagePorts { podman: Podman; look: Pick<InspectPorts, 'assertPgMajorCompatible'> }

/**
 * Loads and checks the new images; resolves with the spec naming the images the archive held, and the
 * PostgreSQL data check for the install record. `given`: the image flags of this command line.
 */
export async function loadAndCheckImages(out: Output, ports: ImagePorts, record: InstallRecord, spec: InstallSpec, given: Partial<Images>,
  did: StepLog['did']): Promise<{ spec: InstallSpec; pgData: InstallRecord['pgData'] }> {
  const { podman, look } = ports;
  if (spec.imageArchive) {
    spec = await loadArchiveStep(out, podman, spec, spec.imageArchive, given);
    did(S.loadImages);
  }
  await out.step('images present', () => requireImages(podman, spec, 'load them with --image-archive FILE; nothing was changed and mreg never pulls (air-gapped)'));
  did(S.images);
  if (!checksPgDataOnUpgrade(record.spec.images, spec.images)) return { spec, pgData: record.pgData };
  const pgData = await out.step('PostgreSQL data version', () => look.assertPgMajorCompatible(spec.pgStorage, spec.images.postgres, record.pgData, record.volumeMountpoints));
  did(S.pgData);
  return { spec, pgData };
}
