// The steps `mreg restore` takes, in its order. Pure; commands/restore.ts and the src/restore/ phases
// name each step they finish with the same id (--verbose prints "step ID"). Between `before` and `data`
// run up's own steps (up-steps.ts) but quay-app's start and the health wait, in one step log with
// restore's: `restore --json` (up's report) lists them all as `steps`. `data` runs in place of up's
// health wait, before up's first user and record: Quay first starts on the restored database.
// The VM suite kills a restore as its pg_restore runs, after `restore-blobs`.
import type { QuayStorage } from '../install-spec/spec.js';
import { storageText, UNITS } from '../model/views.js';
import { BACKUP_STEP } from './backup-steps.js';
import { healthUrl, step, UP_STEP, UP_TEXT, type UpStep } from './up-steps.js';

/** The ids of restore's steps: up's, backup's and down's (`stop-unit:`) where the step is the same kind. */
export const RESTORE_STEP = {
  verify: BACKUP_STEP.verify,
  objectStorage: UP_STEP.objectStorage,
  loadImages: UP_STEP.loadImages,
  images: UP_STEP.images,
  replace: 'replace-install',
  installFiles: 'restore-install-files',
  stopApp: `stop-unit:${UNITS.app}`,
  blobs: 'restore-blobs',
  database: 'restore-database',
  startApp: UP_STEP.start(UNITS.app),
  health: UP_STEP.health,
  marker: 'remove-restore-marker',
} as const;

export interface RestoreStepsInput {
  /** The chain, full backup first. */
  archives: readonly string[];
  quayRoot: string;
  /** Where the restored registry answers (the backup's hostname, or --quayHostname's), as up's health step names it. */
  hostname: string;
  port: number;
  /** Where the restored install keeps its blobs: an object store's stay there, the backup holds none. */
  quayStorage: QuayStorage;
  imageArchive?: string;
  /** --force over this install (none when resuming). */
  replaces?: string;
  /** The images the backup's registry ran. */
  images: readonly string[];
}

export function restoreSteps(i: RestoreStepsInput): { before: UpStep[]; data: UpStep[] } {
  const S = RESTORE_STEP;
  const s3 = i.quayStorage.kind === 's3';
  return {
    before: [
      ...i.archives.map(f => step(S.verify(f), `read ${f} through and check it against its manifest`)),
      ...(s3 ? [step(S.objectStorage, `check the object store ${storageText(i.quayStorage)}: the key pair opens the bucket`)] : []),
      ...(i.imageArchive === undefined ? [] : [step(S.loadImages, UP_TEXT.loadImages(i.imageArchive))]),
      step(S.images, `check that the images are present: ${i.images.join(', ')}`),
      ...(i.replaces === undefined ? [] : [step(S.replace, `--force: remove the install at ${i.replaces} with its data, as mreg down --purge`)]),
      step(S.installFiles, `put the install's files into ${i.quayRoot} and create its podman secrets`),
    ],
    data: [
      step(S.stopApp, `stop ${UNITS.app}`),
      ...(s3 ? [] : [step(S.blobs, `extract the blobs into ${storageText(i.quayStorage)}`)]),
      step(S.database, 'restore the database dump (pg_restore in quay-postgres)'),
      step(S.startApp, `start ${UNITS.app} and wait for its job`),
      step(S.health, `wait for ${healthUrl(i)}`),
      step(S.marker, `remove ${i.quayRoot}/restore-in-progress.json`),
    ],
  };
}
