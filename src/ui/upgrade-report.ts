// What upgrade prints: the dry run's diff and steps, and the result of a run (or, with --json, the same as one document).
import type { FileChange } from '../upgrade/files.js';
import type { Switched } from '../upgrade/switch.js';
import { unifiedDiff } from '../apply/unit-diff.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { Images, InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import type { Plan } from '../plan/plan.js';
import { redact } from '../plan/redact.js';
import { describeSelinuxLabels } from '../plan/selinux.js';
import { imageChanges, restartedWith, restartRoots, servicesToRestart, snapshotsDatabase, upgradeSteps } from '../plan/upgrade-steps.js';
import type { Output } from './output.js';

export interface UpgradePlan {
  spec: InstallSpec;
  /** The images the install record names. */
  recorded: Images;
  layout: QuayRootLayout;
  secrets: InstallSecrets;
  planned: Plan;
  changes: readonly FileChange[];
  /** Planned files the record does not list yet (upgradeSteps' newFiles). */
  newFiles: readonly string[];
  resuming: boolean;
  /** The install moves from the podman 4 pod unit to quay.pod (layout-move.ts). */
  moving: boolean;
  podmanVersion?: readonly number[];
  /** Where the database dump would go. */
  dbSnapshot: string;
  timeoutMs: number;
}

/** --dry-run: each file's diff (secrets redacted) and what would restart, or with --json the steps it would take. */
export function printUpgradePlan(out: Output, p: UpgradePlan): void {
  const { spec, planned, changes } = p;
  if (p.resuming) out.info('mreg: an upgrade stopped after writing the unit files; it would be resumed');
  if (p.moving) out.info(movingText(p.podmanVersion));
  const paths = changes.map(c => c.path);
  const show = (text: string | undefined) => (text === undefined ? undefined : redact(text, p.secrets, spec));
  const diff = changes.map(c => unifiedDiff(c.path, show(c.before), show(c.after))).join('\n');
  // Every unit the restart jobs restart: those of the changed files, and what depends on them (quay-app).
  const restart = restartedWith(restartRoots(servicesToRestart(paths)));
  const dump = snapshotsDatabase(p.recorded, spec.images) ? p.dbSnapshot : undefined;
  if (out.json) {
    // `plan` carries each step's id, as up's does: `upgrade --json` names the steps it took with them.
    const steps = upgradeSteps({ spec, recorded: p.recorded, files: changes.map(c => ({ path: c.path, mode: c.mode, removed: c.after === undefined })), newFiles: p.newFiles, selinuxLabels: planned.selinuxLabels,
      layout: p.layout, dbSnapshot: p.dbSnapshot, timeoutMs: p.timeoutMs });
    out.resultJson({ dryRun: true, images: imageChanges(p.recorded, spec.images), changed: paths, restart, diff, ...(dump ? { dbSnapshot: dump } : {}),
      ...(changes.length > 0 && planned.selinuxLabels.length > 0 ? { selinuxLabels: planned.selinuxLabels } : {}), plan: steps });
    return;
  }
  if (spec.imageArchive) out.result(`would load ${spec.imageArchive} (podman load, or podman image import of each member of mirror-registry's image-archive.tar)`);
  if (changes.length > 0) for (const line of describeSelinuxLabels(planned)) out.result(`would ${line}`);
  if (dump) out.result(`would dump the database to ${dump} before restarting quay-app (a rollback restores it)`);
  if (changes.length === 0) out.result('nothing to change');
  else out.result(`${diff}\n--- would restart: ${restart.join(', ') || 'nothing'}`);
  out.info('dry run: nothing was changed');
}

/** The move to quay.pod, said by the run and its dry run. */
export function movingText(podmanVersion: readonly number[] | undefined): string {
  return `mreg: this host's podman ${podmanVersion?.join('.') ?? ''} reads .pod files: the install moves from the podman 4 pod unit to quay.pod`;
}

export function reportNothingToChange(out: Output, durationMs: number, steps: readonly string[]): void {
  if (out.json) out.resultJson({ changed: [], restarted: [], rolledBack: false, durationMs, steps });
  else out.info('mreg: nothing to change; the install already runs these images');
}

/** A run's result: what changed and restarted, how long it took and the registry was down, the snapshot kept. */
export function reportUpgraded(out: Output, s: Switched, r: { changed: string[]; images: string[]; durationMs: number; steps: readonly string[] }): void {
  const { units, snapshot, downtimeMs } = s;
  if (out.json) {
    out.resultJson({ changed: r.changed, restarted: units, rolledBack: false, durationMs: r.durationMs, downtimeMs, images: r.images,
      ...(snapshot ? { dbSnapshot: snapshot.path } : {}), steps: r.steps });
    return;
  }
  out.info(`mreg: upgraded in ${(r.durationMs / 1000).toFixed(1)} s`);
  out.result([
    ...(r.images.length ? r.images.map(c => `image      ${c}`) : ['images     unchanged (unit files from this mreg version)']),
    `restarted  ${units.join(', ') || 'nothing'}`,
    `downtime   ${(downtimeMs / 1000).toFixed(1)} s (restart until /health/instance answered 200)`,
    ...(snapshot ? [`database   ${snapshot.path}: as it was before this upgrade (kept until the next Quay image change)`] : []),
  ].join('\n'));
}
