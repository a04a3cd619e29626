// Which of an install's images this host lacks, named as the flag that sets each (mreg never pulls).
import { HostError } from '../errors.js';
import type { Podman } from '../host/podman.js';
import { imageRefs } from '../model/views.js';
import type { InstallSpec } from '../spec/spec.js';

/** `--quayImage REF` for each image podman does not hold, the pod's infra image too; empty when all are there (one podman call). */
export async function missingImages(podman: Podman, spec: Pick<InstallSpec, 'images' | 'infraImage'>): Promise<string[]> {
  const refs = [...imageRefs(spec.images), ...(spec.infraImage === undefined ? [] : [['--infraImage', spec.infraImage] as [string, string]])];
  const missing = new Set(await podman.missingImages(refs.map(([, ref]) => ref)));
  return refs.filter(([, ref]) => missing.has(ref)).map(([flag, ref]) => `${flag} ${ref}`);
}

/** Throws HostError naming each missing image by its flag; `hint` says how this command gets them. */
export async function requireImages(podman: Podman, spec: Pick<InstallSpec, 'images' | 'infraImage'>, hint: string): Promise<void> {
  const missing = await missingImages(podman, spec);
  if (missing.length > 0) throw new HostError(`image not present on this host: ${missing.join(', ')}`, hint);
}
