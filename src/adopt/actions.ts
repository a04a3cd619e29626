// What `mreg adopt` will do, in order, as text for --dry-run (and the man page's description). Pure.
import { join } from 'node:path';
import { describeSelinuxLabels } from '../plan/selinux.js';
import { dbSnapshotPaths } from '../apply/db-snapshot.js';
import type { Plan } from '../plan/plan.js';
import { PG_USER } from '../install-spec/defaults.js';
import { COMPONENTS } from '../model/components.js';
import { ALL_SECRET_NAMES, CONTAINER_NAMES, STOP_ORDER, storageText } from '../model/views.js';
import { BACKUP_DIR_NAME, type FoundLegacy } from './find.js';
import type { Adoption } from './spec.js';


/** `adoption.spec` is the final one (its TLS as chooseAdoptTls decided); `newCa` as --new-ca asked. */
export function adoptActions(found: FoundLegacy, adoption: Adoption, planned: Plan, newCa = false): string[] {
  const { spec } = adoption;
  const backup = join(spec.quayRoot, BACKUP_DIR_NAME);
  const dump = dbSnapshotPaths(spec.quayRoot).dump;
  return [
    `found mirror-registry units in ${found.unitDir}: ${found.unitPaths.map(p => p.split('/').pop()).join(', ')}`,
    `keep hostname ${spec.hostname}:${spec.port}, quayRoot ${spec.quayRoot}, images ${spec.images.quay}, ${spec.images.postgres}, ${spec.images.redis}`,
    `keep data in place (not copied): Quay storage ${storageText(spec.quayStorage)}, Postgres ${storageText(spec.pgStorage)}`,
    ...(spec.imageArchive ? [`load images from ${spec.imageArchive} (podman load; mirror-registry's image-archive.tar: podman image import of each member)`] : []),
    'check the images are present and validate the units with /usr/libexec/podman/quadlet -dryrun',
    ...describeSelinuxLabels(planned),
    ...(adoption.previousQuayImage !== spec.images.quay
      ? [`dump the database to ${dump} (the new Quay image migrates it; a rollback puts it back)`] : []),
    `create podman secrets ${ALL_SECRET_NAMES.join(', ')} (SECRET_KEY and DATABASE_SECRET_KEY from the old config.yaml; new PostgreSQL, Redis and admin passwords), while mirror-registry still serves`,
    ...STOP_ORDER.map(u => `stop ${u} (mirror-registry's)`),
    `remove leftover containers ${CONTAINER_NAMES.join(', ')} and pod ${COMPONENTS.pod.podmanName}`,
    ...(adoption.pgUser !== PG_USER ? [`rename the Postgres role "${adoption.pgUser}" to "${PG_USER}" (one-off podman run over the same data)`] : []),
    `copy config.yaml, ssl.cert and ssl.key to ${backup}/ (mode 0600)${newCa ? `; move ${join(spec.quayRoot, 'quay-rootCA')} there` : ''}`,
    ...found.wantsLinks.map(l => `remove enable link ${l} (recorded in ${backup}/links.txt)`),
    ...found.unitPaths.map(p => `move ${p} to ${backup}/`),
    newCa ? `make a new root CA in ${join(spec.quayRoot, 'quay-rootCA')} and issue ssl.cert from it (clients must trust it)`
      : spec.tls.kind === 'generate' ? `keep the root CA in ${join(spec.quayRoot, 'quay-rootCA')}; keep ssl.cert unless it is expiring or invalid (then reissue from that CA)`
        : `serve ${spec.tls.certPath} as ssl.cert in ${join(spec.quayRoot, 'quay-config')}`,
    ...planned.files.map(f => `write ${f.path}`),
    'systemd Reload',
    ...planned.services.map(s => `start ${s} and wait for its job`),
    `wait for https://${spec.hostname}:${spec.port}/health/instance; if it fails, put mirror-registry back as it was${adoption.previousQuayImage !== spec.images.quay ? ' (with the database dump)' : ''}`,
    ...adoption.legacySecrets.map(s => `remove the old podman secret ${s}`),
    `write ${join(spec.quayRoot, 'mreg-install.json')}`,
  ];
}
