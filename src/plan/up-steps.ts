// The steps `mreg up` takes, as `up --dry-run` lists them: in up's order, from what up knows before its
// first change. Pure; up (commands/up.ts, its steps in src/up/) reads the inputs, prints the list, and names
// each step it runs with the same id (`up --json` reports them), so a run and its dry run can be compared.
import { pointerPath } from '../model/scope.js';
import { ALL_SECRET_NAMES, STORAGE_MOUNTS, storageText } from '../model/views.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { Images, InstallSpec } from '../install-spec/spec.js';
import { unrecordedVolumes } from '../install-spec/taken-dirs.js';
import { staleUnits, type UnitDirs } from './layout-move.js';
import type { Plan } from './plan.js';
import { describeSelinuxLabel } from './selinux.js';

/** One step of up: `id` is stable (kind, then its target), `text` is the dry-run line. */
export interface UpStep { id: string; text: string }

/** A step of any command's list (every *-steps.ts builds its steps with it). */
export const step = (id: string, text: string): UpStep => ({ id, text });

/** The ids of up's steps, built in one place for the dry run and the run. */
export const UP_STEP = {
  change: (what: string) => `change:${what}`,
  preflight: 'preflight',
  loadImages: 'load-images',
  images: 'images-present',
  pgData: 'pg-data-version',
  objectStorage: 'object-storage',
  linger: 'enable-linger',
  firstRecord: 'first-record',
  tls: 'tls',
  secret: (name: string) => `secret:${name}`,
  bindDir: (path: string) => `bind-dir:${path}`,
  selinuxLabel: (path: string) => `selinux-label:${path}`,
  validate: 'validate-units',
  recordFiles: 'record-files',
  write: (path: string) => `write:${path}`,
  removeStale: (path: string) => `remove-file:${path}`,
  reload: 'daemon-reload',
  start: (service: string) => `start:${service}`,
  health: 'health',
  firstUser: 'first-user',
  keepFirstUser: 'keep-first-user',
  record: 'record',
} as const;

/** The registry's health endpoint, as the steps and a wait-health action name it. */
export function healthUrl(ep: { hostname: string; port: number }): string {
  return `https://${ep.hostname}:${ep.port}/health/instance`;
}

/** The dry-run text of the steps upgrade shares with up (plan/upgrade-steps.ts). */
export const UP_TEXT = {
  loadImages: (archive: string) => `load images from ${archive} (podman load, or podman image import of each member of mirror-registry's image-archive.tar)`,
  images: (images: Images) => `check that the images are present: ${[images.quay, images.postgres, images.redis].join(', ')}`,
  pgData: (spec: Pick<InstallSpec, 'pgStorage' | 'images'>) => `check that PostgreSQL data already in ${storageText(spec.pgStorage)} is of ${spec.images.postgres}'s major version`,
  write: (f: { path: string; mode: number }) => `write ${f.path} (mode 0${f.mode.toString(8)})`,
  reload: 'systemd Reload',
} as const;

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

/** Whether up checks the PostgreSQL data's major: a new install, or a new PostgreSQL image. */
export function checksPgData(spec: InstallSpec, previous: InstallRecord | undefined): boolean {
  return !previous || Boolean(previous.removedAt) || previous.spec.images.postgres !== spec.images.postgres;
}

/** The preflight's word on volumes the record does not name: they must be new or empty (taken-dirs.ts). */
function newVolumesText(spec: InstallSpec, previous: InstallRecord | undefined): string {
  const names = unrecordedVolumes(spec, previous).map(v => v.name);
  return names.length === 0 ? '' : `, podman volume${names.length > 1 ? 's' : ''} ${names.join(', ')} new or empty`;
}

export function upSteps(i: UpStepsInput): UpStep[] {
  const { spec, previous, layout, planned } = i;
  const S = UP_STEP;
  const fresh = !previous || Boolean(previous.removedAt);
  const files = planned.files.map(f => f.path);
  const stale = previous ? staleUnits(previous.files, files, i.host.unitDirs) : [];
  return [
    ...i.changes.map(c => step(S.change(c), `change ${c}`)),
    step(S.preflight, `check the host: podman, systemd, port ${spec.port} free (or this install's), ${spec.hostname} resolves, free space${newVolumesText(spec, previous)}`),
    ...(spec.imageArchive ? [step(S.loadImages, UP_TEXT.loadImages(spec.imageArchive))] : []),
    step(S.images, UP_TEXT.images(spec.images)),
    ...(checksPgData(spec, previous) ? [step(S.pgData, UP_TEXT.pgData(spec))] : []),
    step(S.validate, 'validate the units with /usr/libexec/podman/quadlet -dryrun (when one differs from the file on disk)'),
    ...(spec.quayStorage.kind === 's3' ? [step(S.objectStorage, `check the object store ${storageText(spec.quayStorage)}: the key pair in ${spec.quayStorage.credentialsFile} is accepted, the bucket exists${i.createBucket ? ' (created if not)' : ''}, the prefix holds no other registry's blobs, a test object can be written, read and deleted`)] : []),
    ...(spec.scope === 'rootless' && !i.host.lingerEnabled ? [step(S.linger, `enable linger for ${i.host.user}`)] : []),
    ...(fresh ? [step(S.firstRecord, `create ${layout.root} (mode 0700); write the install record ${layout.record} and the pointer ${pointerPath(spec.scope, i.host.home)}`)] : []),
    step(S.tls, spec.tls.kind === 'generate' ? `create or reuse the root CA in ${layout.caDir}; issue ${layout.sslCert}` : `check and install ${spec.tls.certPath} as ${layout.sslCert}`),
    ...ALL_SECRET_NAMES.map(s => step(S.secret(s), `create podman secret ${s} (unless it exists)`)),
    ...bindFolders(spec),
    ...planned.selinuxLabels.map(p => step(S.selinuxLabel(p), describeSelinuxLabel(p))),
    step(S.recordFiles, `write the install record ${layout.record} with every file below${fresh ? '' : ' (when one is new to it)'}`),
    ...planned.files.map(f => step(S.write(f.path), UP_TEXT.write(f))),
    ...stale.map(f => step(S.removeStale(f), `remove ${f} (not one of the units for podman ${i.host.podmanVersion.join('.')})`)),
    step(S.reload, UP_TEXT.reload),
    ...planned.services.map(s => step(S.start(s), `start ${s} and wait for its job (restart it if a file it runs changed)`)),
    step(S.health, `wait for ${healthUrl(spec)}`),
    i.credentialsUser === spec.initUser ? step(S.keepFirstUser, `keep the first user ${spec.initUser} (${layout.credentials})`)
      : step(S.firstUser, `create the first user ${spec.initUser}: its password goes to ${layout.credentialsPending} first, then ${layout.credentials}`),
    step(S.record, `write ${layout.record}`),
  ];
}

/** The storage mounts on a host folder, which the storage step makes (or takes). */
export function bindMounts(spec: InstallSpec) {
  return STORAGE_MOUNTS.flatMap(mount => {
    const s = spec[mount.spec];
    return s.kind === 'path' ? [{ mount, path: s.path }] : [];
  });
}

/** The bind folders the storage step makes (or takes), with the mode and owner it gives them. */
function bindFolders(spec: InstallSpec): UpStep[] {
  return bindMounts(spec).map(({ mount, path }) => {
    const owner = mount.owner ? `, owner ${mount.owner.uid}:${mount.owner.gid}${spec.scope === 'rootless' ? ' in the user namespace' : ''}` : '';
    return step(UP_STEP.bindDir(path), `make ${path} (mode 0${mount.mode.toString(8)}${owner}) for --${mount.spec}`);
  });
}
