// Which of an install's images this host lacks, named as the flag that sets each (mreg never pulls).
import { HostError } from '../errors.js';
import type { Podman } from '../host/podman.js';
import { imageRefs } from '../model/views.js';
import type { InstallSpec } from '../install-spec/spec.js';

const INFRA_FLAG = '--infraImage';

/** [flag, ref] of each image podman does not hold, the pod's infra image too (one podman call). */
async function missingRefs(podman: Podman, spec: Pick<InstallSpec, 'images' | 'infraImage'>): Promise<Array<[string, string]>> {
  const refs = [...imageRefs(spec.images), ...(spec.infraImage === undefined ? [] : [[INFRA_FLAG, spec.infraImage] as [string, string]])];
  const missing = new Set(await podman.missingImages(refs.map(([, ref]) => ref)));
  return refs.filter(([, ref]) => missing.has(ref));
}

/** `--quayImage REF` for each image podman does not hold, the pod's infra image too; empty when all are there. */
export async function missingImages(podman: Podman, spec: Pick<InstallSpec, 'images' | 'infraImage'>): Promise<string[]> {
  return (await missingRefs(podman, spec)).map(([flag, ref]) => `${flag} ${ref}`);
}

/**
 * Throws HostError naming each missing image by its flag; `hint` says how this command gets them.
 * `infraOptional`: a missing infra image is not refused. Returns whether the infra image (if named) is there.
 */
export async function requireImages(podman: Podman, spec: Pick<InstallSpec, 'images' | 'infraImage'>, hint: string,
  opts: { infraOptional?: boolean } = {}): Promise<boolean> {
  const missing = await missingRefs(podman, spec);
  const refused = missing.filter(([flag]) => !(opts.infraOptional && flag === INFRA_FLAG));
  if (refused.length > 0) throw new HostError(`image not present on this host: ${refused.map(([flag, ref]) => `${flag} ${ref}`).join(', ')}`, hint);
  return !missing.some(([flag]) => flag === INFRA_FLAG);
}
