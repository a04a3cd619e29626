// Which of an install's images this host lacks, named as the flag that sets each (mreg never pulls).
import type { Podman } from '../host/podman.js';
import { imageRefs } from '../model/views.js';
import type { Images } from '../spec/spec.js';

/** `--quayImage REF` for each image podman does not hold; empty when all are there (one podman call). */
export async function missingImages(podman: Podman, images: Images): Promise<string[]> {
  const refs = imageRefs(images);
  const missing = new Set(await podman.missingImages(refs.map(([, ref]) => ref)));
  return refs.filter(([, ref]) => missing.has(ref)).map(([flag, ref]) => `${flag} ${ref}`);
}
