// Lists the rest of mreg uses, each derived from the components table (model/components.ts).
import { posix } from 'node:path';
import type { Images, QuayStorage } from '../install-spec/spec.js';
import { COMPONENTS, IMAGE_FLAGS, SECRET_NAMES, START_ORDER, type ComponentId, type SecretKey, type StorageMount } from './components.js';

type Services = { [K in ComponentId]: (typeof COMPONENTS)[K]['service'] };
export type ServiceName = Services[ComponentId];

/** Each component's service: `UNITS.app` is quay-app.service. */
export const UNITS = Object.fromEntries(START_ORDER.map(id => [id, COMPONENTS[id].service])) as Services;

/** Every service in start order. */
export const ALL_UNITS: readonly ServiceName[] = START_ORDER.map(id => UNITS[id]);

/** Every service in stop order: Quay first, then its backends, then the pod. */
export const STOP_ORDER: readonly ServiceName[] = [...ALL_UNITS].reverse();

/** The containers (not the pod), in start order. */
export const CONTAINER_IDS = START_ORDER.filter(id => id !== 'pod');

/** The containers in stop order. */
export const CONTAINER_STOP_IDS = [...CONTAINER_IDS].reverse();

/** Container names in stop order, for removing what a crash left. */
export const CONTAINER_NAMES = CONTAINER_STOP_IDS.map(id => COMPONENTS[id].podmanName);

/** The unit name without `.service`, as `mreg logs` takes it. */
export function shortUnitName(service: string): string {
  return service.replace(/\.service$/, '');
}

/** The secrets some container reads (Secret=), in start order. */
export const CONTAINER_SECRETS: readonly SecretKey[] = CONTAINER_IDS.flatMap(id => COMPONENTS[id].secrets);

/** The storage each component mounts (a volume or a bind folder), in start order. */
export const STORAGE_MOUNTS: readonly StorageMount[] = START_ORDER.flatMap(id => {
  const c = COMPONENTS[id];
  return 'storage' in c ? [c.storage as StorageMount] : [];
});

/** Every secret's podman name, in SECRET_NAMES order. */
export const ALL_SECRET_NAMES: string[] = Object.values(SECRET_NAMES);

/** [flag, image reference] for each image, in IMAGE_FLAGS order. */
export function imageRefs(images: Images): Array<[string, string]> {
  return (Object.keys(IMAGE_FLAGS) as (keyof Images)[]).map(k => [IMAGE_FLAGS[k], images[k]]);
}

/** The service Quadlet generates for a Quadlet file: x.pod → x-pod.service, x.volume → x-volume.service. */
export function serviceName(file: string): string {
  const m = /^(.+)\.(container|pod|volume)$/.exec(file);
  if (!m) throw new Error(`not a Quadlet file name mreg writes: ${file}`);
  return m[2] === 'container' ? `${m[1]}.service` : `${m[1]}-${m[2]}.service`;
}

/**
 * The service a file mreg writes belongs to: a component's Quadlet file or unit, or a file in a folder
 * of quayRoot it mounts; a volume's file its volume service. Undefined for any other file (the CA).
 */
export function serviceOf(path: string): string | undefined {
  const base = posix.basename(path);
  const folder = posix.basename(posix.dirname(path));
  for (const id of START_ORDER) {
    const c: (typeof COMPONENTS)[ComponentId] = COMPONENTS[id];
    if (base === c.quadletFile || base === c.service) return c.service;
    if (c.quayRootMounts.some(m => m.dir === folder)) return c.service;
  }
  return base.endsWith('.volume') ? serviceName(base) : undefined;
}

/** A storage as messages name it: a bind path, `podman volume NAME`, or `s3://BUCKET/PREFIX at ENDPOINT`. */
export function storageText(s: QuayStorage): string {
  if (s.kind === 'path') return s.path;
  if (s.kind === 'volume') return `podman volume ${s.name}`;
  return `s3://${s.bucket}${s.prefix ? `/${s.prefix}` : ''} at ${s.endpoint}`;
}
