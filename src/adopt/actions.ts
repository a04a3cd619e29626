// What `mreg adopt` will do, in order, as text for --dry-run (and the man page's description). Pure.
import { join } from 'node:path';
import { describeSelinuxLabels } from '../apply/selinux-step.js';
import type { Plan } from '../plan/plan.js';
import { PG_USER } from '../spec/defaults.js';
import { COMPONENTS } from '../model/components.js';
import { ALL_SECRET_NAMES, CONTAINER_NAMES, STOP_ORDER } from '../model/views.js';
import type { Storage } from '../spec/spec.js';
import { BACKUP_DIR_NAME, type FoundLegacy } from './find.js';
import type { Adoption } from './spec.js';

function storageText(s: Storage): string {
  return s.kind === 'volume' ? `podman volume ${s.name}` : s.path;
}

export function adoptActions(found: FoundLegacy, adoption: Adoption, planned: Plan): string[] {
  const { spec } = adoption;
  const backup = join(spec.quayRoot, BACKUP_DIR_NAME);
  return [
    `found mirror-registry units in ${found.unitDir}: ${found.unitPaths.map(p => p.split('/').pop()).join(', ')}`,
    `keep hostname ${spec.hostname}:${spec.port}, quayRoot ${spec.quayRoot}, images ${spec.images.quay}, ${spec.images.postgres}, ${spec.images.redis}`,
    `keep data in place (not copied): Quay storage ${storageText(spec.quayStorage)}, Postgres ${storageText(spec.pgStorage)}`,
    ...(spec.imageArchive ? [`load images from ${spec.imageArchive} (podman load; mirror-registry's image-archive.tar: podman image import of each member)`] : []),
    'check the images are present and validate the units with /usr/libexec/podman/quadlet -dryrun',
    ...describeSelinuxLabels(planned),
    ...STOP_ORDER.map(u => `stop ${u} (mirror-registry's)`),
    `remove leftover containers ${CONTAINER_NAMES.join(', ')} and pod ${COMPONENTS.pod.podmanName}`,
    ...(adoption.pgUser !== PG_USER ? [`rename the Postgres role "${adoption.pgUser}" to "${PG_USER}" (one-off podman run over the same data)`] : []),
    `copy config.yaml to ${backup}/config.yaml (mode 0600)`,
    ...found.wantsLinks.map(l => `remove enable link ${l} (recorded in ${backup}/links.txt)`),
    ...found.unitPaths.map(p => `move ${p} to ${backup}/`),
    spec.tls.kind === 'generate' ? `keep the root CA in ${join(spec.quayRoot, 'quay-rootCA')}; keep ssl.cert unless it is expiring or invalid (then reissue from that CA)`
      : `keep the provided ssl.cert/ssl.key in ${join(spec.quayRoot, 'quay-config')}`,
    `create podman secrets ${ALL_SECRET_NAMES.join(', ')} (values from the old config.yaml; the Postgres admin password is new)`,
    ...planned.files.map(f => `write ${f.path}`),
    'systemd Reload',
    ...planned.services.map(s => `start ${s} and wait for its job`),
    `wait for https://${spec.hostname}:${spec.port}/health/instance`,
    ...adoption.legacySecrets.map(s => `remove the old podman secret ${s}`),
    `write ${join(spec.quayRoot, 'mreg-install.json')}`,
  ];
}
