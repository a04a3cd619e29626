// The steps `mreg upgrade` takes, as `upgrade --dry-run --json` lists them (`plan`): in upgrade's order,
// from what it knows before its first change. Pure; commands/upgrade.ts reads the inputs, and it and the
// src/upgrade/ steps it calls name each step they finish with the same id (`upgrade --json` reports
// them as `steps`), as up does (up-steps.ts).
// Rollback is not a step: it runs only when a restart or the health wait fails, undoes what the steps
// from the snapshot to the restarts did (previous files, reload, the dump restored, the same restarts),
// and the run then fails; its `steps` end with the last step that finished before the failure.
import { action, type Action } from '../actions/action.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { Images, InstallSpec } from '../install-spec/spec.js';
import { ALL_UNITS, serviceOf, UNITS } from '../model/views.js';
import { describeSelinuxLabel } from './selinux.js';
import { healthUrl, step, UP_STEP, UP_TEXT, type UpStep } from './up-steps.js';

/** The ids of upgrade's steps: up's where the step is the same kind, so the two read alike. */
export const UPGRADE_STEP = {
  loadImages: UP_STEP.loadImages,
  images: UP_STEP.images,
  pgData: UP_STEP.pgData,
  secrets: 'existing-secrets',
  validate: UP_STEP.validate,
  selinuxLabel: UP_STEP.selinuxLabel,
  dbSnapshot: 'db-snapshot',
  recordFiles: UP_STEP.recordFiles,
  write: UP_STEP.write,
  removeFile: UP_STEP.removeStale,
  reload: UP_STEP.reload,
  restart: (service: string) => `restart:${service}`,
  health: UP_STEP.health,
  record: UP_STEP.record,
} as const;

export interface UpgradeStepsInput {
  /**
   * The recorded inputs with the new images (and archive). mirror-registry's image-archive.tar names the
   * images it holds only as it is imported, so before that, the flags' (or recorded) images stand in.
   */
  spec: InstallSpec;
  /** The images the install record names. */
  recorded: Images;
  /** The files whose content changes, in plan order (`removed`: the podman 4 pod unit after the move); none: nothing to change. */
  files: readonly { path: string; mode: number; removed?: boolean }[];
  /** Files the plan writes that the record does not list yet (the move to quay.pod): recorded before they are written. */
  newFiles?: readonly string[];
  /** The bind paths the plan labels for SELinux. */
  selinuxLabels: readonly string[];
  layout: QuayRootLayout;
  /** Where the database dump goes (apply/db-snapshot.ts). */
  dbSnapshot: string;
  timeoutMs: number;
}

/** "quay: a → b" for each image that differs. */
export function imageChanges(before: Images, after: Images): string[] {
  return (Object.keys(before) as (keyof Images)[]).filter(k => before[k] !== after[k]).map(k => `${k}: ${before[k]} → ${after[k]}`);
}

/** A new Quay migrates the database on its first start, and the old one cannot run on the result: it is dumped first. */
export function snapshotsDatabase(recorded: Images, images: Images): boolean {
  return recorded.quay !== images.quay;
}

/**
 * The Quay image an upgrade from `recordedQuay` was switching to when it stopped, from the dump's
 * description (`metaText`, quay.dump.json): an upgrade that ends writes the record (its image is then
 * no longer `recordedQuay`), and a rollback that put the dump back removes the description. Still there,
 * the run was killed before either, and the database may already be that image's.
 */
export function unfinishedUpgrade(metaText: string | undefined, recordedQuay: string): string | undefined {
  if (metaText === undefined) return undefined;
  let meta: { fromImage?: unknown; toImage?: unknown };
  try { meta = JSON.parse(metaText) as typeof meta; } catch { return undefined; }
  return meta.fromImage === recordedQuay && typeof meta.toImage === 'string' && meta.toImage !== recordedQuay ? meta.toImage : undefined;
}

/** The refusal of any other change while an upgrade to `to` is unfinished; its fix finishes or rolls it back. */
export function unfinishedUpgradeProblem(to: string, from: string): { message: string; hint: string } {
  return {
    message: `an upgrade of Quay from ${from} to ${to} did not finish (killed, or its rollback was): the database may already be ${to}'s, and ${from} cannot start on it`,
    // The same command: one that named more images (or an archive) would otherwise leave them half switched.
    hint: `run the interrupted mreg upgrade again with the same flags (it took Quay to ${to}): it finishes the upgrade, or puts ${from} and its database back by itself; nothing was changed`,
  };
}

/** A new PostgreSQL image must be of the data's major version. */
export function checksPgDataOnUpgrade(recorded: Images, images: Images): boolean {
  return recorded.postgres !== images.postgres;
}

/** Services whose files changed, in start order (pod, postgres, redis, app); volumes need no restart. */
export function servicesToRestart(changedPaths: readonly string[]): string[] {
  const touched = new Set(changedPaths.map(serviceOf));
  return ALL_UNITS.filter(u => touched.has(u));
}

/**
 * The restart jobs to ask for, given the changed services: systemd carries a restart to the units that
 * depend on it, once, in order (a restart of the pod restarts its containers, bound to it; one of postgres
 * or redis restarts quay-app, which Requires= both). Asking for a dependent's restart too would re-run its
 * job while it starts ("Merged into running job, re-running"): Quay started twice, mid-migration.
 */
export function restartRoots(services: readonly string[]): string[] {
  if (services.includes(UNITS.pod)) return [UNITS.pod];
  const backends = services.filter(u => u === UNITS.postgres || u === UNITS.redis);
  return backends.length > 0 ? backends : services.filter(u => u === UNITS.app);
}

/** Every service the restart of `roots` restarts, in start order. */
export function restartedWith(roots: readonly string[]): string[] {
  if (roots.length === 0) return [];
  if (roots.includes(UNITS.pod)) return [...ALL_UNITS];
  return ALL_UNITS.filter(u => roots.includes(u) || u === UNITS.app);
}

/**
 * The restart of `roots` (restartRoots) and quay-app's start, asked for together (the start merges into the
 * restart its dependencies give it, or starts an app that was not running), then the health wait: one run
 * on one deadline. Without roots: quay-app's start and the wait.
 */
export function planRestart(roots: readonly string[], ep: { hostname: string; port: number }, progress: string): Action[] {
  return [
    ...roots.map(unit => action({ kind: 'start-unit', unit, restart: true }, progress)),
    ...(roots.includes(UNITS.app) ? [] : [action({ kind: 'start-unit', unit: UNITS.app }, progress)]),
    action({ kind: 'wait-health', url: healthUrl(ep) }, progress),
  ];
}

function restartSteps(services: readonly string[]): UpStep[] {
  const roots = restartRoots(services);
  const carried = restartedWith(roots).filter(u => !roots.includes(u));
  const last = roots.length - 1;
  const along = carried.length === 0 ? '' : `; ${carried.join(', ')} restart${carried.length === 1 ? 's' : ''} with ${roots.length > 1 ? 'them' : 'it'}, once`;
  return roots.map((s, i) => step(UPGRADE_STEP.restart(s), `restart ${s}${i === last ? along : ''}`));
}

export function upgradeSteps(i: UpgradeStepsInput): UpStep[] {
  const { spec, recorded, layout } = i;
  const S = UPGRADE_STEP;
  const checks = [
    ...(spec.imageArchive ? [step(S.loadImages, UP_TEXT.loadImages(spec.imageArchive))] : []),
    step(S.images, UP_TEXT.images(spec.images)),
    ...(checksPgDataOnUpgrade(recorded, spec.images) ? [step(S.pgData, UP_TEXT.pgData(spec))] : []),
    step(S.secrets, 'read the install\'s podman secrets (an upgrade reuses them and never makes new ones)'),
  ];
  if (i.files.length === 0) return checks;
  return [
    ...checks,
    step(S.validate, 'validate the units with /usr/libexec/podman/quadlet -dryrun'),
    ...i.selinuxLabels.map(p => step(S.selinuxLabel(p), describeSelinuxLabel(p))),
    ...(i.newFiles?.length ? [step(S.recordFiles, `add ${i.newFiles.join(', ')} to ${layout.record}, so down removes them even if this run is killed`)] : []),
    ...(snapshotsDatabase(recorded, spec.images)
      ? [step(S.dbSnapshot, `dump the database to ${i.dbSnapshot} before restarting quay-app, unless a killed run of this upgrade already did (a rollback restores it)`)] : []),
    ...i.files.map(f => (f.removed ? step(S.removeFile(f.path), `remove ${f.path} (the podman 4 pod unit; quay.pod replaces it)`) : step(S.write(f.path), UP_TEXT.write(f)))),
    step(S.reload, UP_TEXT.reload),
    ...restartSteps(servicesToRestart(i.files.map(f => f.path))),
    step(S.health, `wait for ${healthUrl(spec)}, up to ${i.timeoutMs / 1000} s from the first restart; else roll back`),
    step(S.record, `write ${layout.record} with the new images`),
  ];
}
