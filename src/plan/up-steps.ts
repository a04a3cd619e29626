// The steps `mreg up` takes, as the lines `up --dry-run` prints: in up's order, from what up knows
// before its first change. Pure; commands/up.ts reads the inputs and prints.
import { pointerPath } from '../model/scope.js';
import { ALL_SECRET_NAMES, STORAGE_MOUNTS, storageText } from '../model/views.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { staleUnits, type UnitDirs } from './layout-move.js';
import type { Plan } from './plan.js';
import { describeSelinuxLabels } from './selinux.js';

export interface UpStepsInput {
  spec: InstallSpec;
  /** This scope's install record, when there is one (also after `mreg down`). */
  previous?: InstallRecord;
  /** What a re-run changes (spec/rerun.ts). */
  changes: readonly string[];
  planned: Pick<Plan, 'files' | 'services' | 'selinuxLabels'>;
  layout: QuayRootLayout;
  host: { user: string; home: string; lingerEnabled: boolean; podmanVersion: readonly number[]; unitDirs: UnitDirs };
  /** --s3CreateBucket: a missing bucket is made instead of refused. */
  createBucket?: boolean;
  /** The user the credentials file names, when it exists. */
  credentialsUser?: string;
}

export function upSteps(i: UpStepsInput): string[] {
  const { spec, previous, layout, planned } = i;
  const fresh = !previous || Boolean(previous.removedAt);
  const files = planned.files.map(f => f.path);
  const stale = previous ? staleUnits(previous.files, files, i.host.unitDirs) : [];
  return [
    ...i.changes.map(c => `change ${c}`),
    `check the host: podman, systemd, port ${spec.port} free (or this install's), ${spec.hostname} resolves, free space`,
    ...(spec.imageArchive ? [`load images from ${spec.imageArchive} (podman load, or podman image import of each member of mirror-registry's image-archive.tar)`] : []),
    `check that the images are present: ${[spec.images.quay, spec.images.postgres, spec.images.redis].join(', ')}`,
    ...(fresh || previous.spec.images.postgres !== spec.images.postgres ? [`check that PostgreSQL data already in ${storageText(spec.pgStorage)} is of ${spec.images.postgres}'s major version`] : []),
    ...(spec.quayStorage.kind === 's3' ? [`check the object store ${storageText(spec.quayStorage)}: the key pair in ${spec.quayStorage.credentialsFile} is accepted, the bucket exists${i.createBucket ? ' (created if not)' : ''}, a test object can be written, read and deleted`] : []),
    ...(spec.scope === 'rootless' && !i.host.lingerEnabled ? [`enable linger for ${i.host.user}`] : []),
    ...(fresh ? [`create ${layout.root} (mode 0700); write the install record ${layout.record} and the pointer ${pointerPath(spec.scope, i.host.home)}`] : []),
    spec.tls.kind === 'generate' ? `create or reuse the root CA in ${layout.caDir}; issue ${layout.sslCert}` : `check and install ${spec.tls.certPath} as ${layout.sslCert}`,
    ...ALL_SECRET_NAMES.map(s => `create podman secret ${s} (unless it exists)`),
    ...bindFolders(spec),
    ...describeSelinuxLabels(planned),
    'validate the units with /usr/libexec/podman/quadlet -dryrun (when one differs from the file on disk)',
    `write the install record ${layout.record} with every file below${fresh ? '' : ' (when one is new to it)'}`,
    ...planned.files.map(f => `write ${f.path} (mode 0${f.mode.toString(8)})`),
    ...stale.map(f => `remove ${f} (not one of the units for podman ${i.host.podmanVersion.join('.')})`),
    'systemd Reload',
    ...planned.services.map(s => `start ${s} and wait for its job (restart it if a file it runs changed)`),
    `wait for https://${spec.hostname}:${spec.port}/health/instance`,
    i.credentialsUser === spec.initUser ? `keep the first user ${spec.initUser} (${layout.credentials})`
      : `create the first user ${spec.initUser}: its password goes to ${layout.credentialsPending} first, then ${layout.credentials}`,
    `write ${layout.record}`,
  ];
}

/** The bind folders the storage step makes (or takes), with the mode and owner it gives them. */
function bindFolders(spec: InstallSpec): string[] {
  return STORAGE_MOUNTS.flatMap(mount => {
    const s = spec[mount.spec];
    if (s.kind !== 'path') return [];
    const owner = mount.owner ? `, owner ${mount.owner.uid}:${mount.owner.gid}${spec.scope === 'rootless' ? ' in the user namespace' : ''}` : '';
    return [`make ${s.path} (mode 0${mount.mode.toString(8)}${owner}) for --${mount.spec}`];
  });
}

