// The steps `mreg storage migrate` takes, as `storage migrate --dry-run --json` lists them (`plan`), in its
// order. Pure; commands/storage.ts and the src/storage/ phases name each step they finish with the same
// id. The last, `up`, stands for up's own steps (up-steps.ts; `mreg up --dry-run` lists them once the
// record names the bucket): a run continues its step log with them, so `migrate --json` (up's report)
// lists migrate's steps, then up's, as `steps`.
// The VM suite kills a migrate on `migrate-scratch`, the step that ends right before the first copy.
import type { ObjectStorage, QuayStorage } from '../install-spec/spec.js';
import { storageText, UNITS } from '../model/views.js';
import { RESTORE_STEP } from './restore-steps.js';
import { step, UP_STEP, type UpStep } from './up-steps.js';

export const MIGRATE_STEP = {
  objectStorage: UP_STEP.objectStorage,
  compare: 'compare-bucket',
  scratch: 'migrate-scratch',
  copy: 'copy-blobs',
  stopApp: RESTORE_STEP.stopApp,
  copyChanged: 'copy-changed',
  record: 'record-bucket',
  up: 'up',
} as const;

export interface MigrateStepsInput {
  from: Exclude<QuayStorage, ObjectStorage>;
  to: ObjectStorage;
  /** The local copy's folder. */
  root: string;
  scratch: string;
  record: string;
  createBucket: boolean;
}

export function migrateSteps(i: MigrateStepsInput): UpStep[] {
  const S = MIGRATE_STEP;
  const to = storageText(i.to);
  return [
    step(S.objectStorage, `check the object store ${to}: the key pair in ${i.to.credentialsFile} is accepted, the bucket exists${i.createBucket ? ' (created if not)' : ''}, a test object can be written, read and deleted`),
    step(S.compare, `compare ${i.root} with the bucket: what is not there yet, or differs`),
    step(S.scratch, `empty the scratch folder ${i.scratch}`),
    step(S.copy, `copy those files into ${to} while the registry keeps serving`),
    step(S.stopApp, `stop ${UNITS.app} for the last pass (started again if the pass fails)`),
    step(S.copyChanged, 'copy what changed meanwhile, and the tag links'),
    step(S.record, `write ${i.record} naming ${to}, and ${storageText(i.from)} as the local copy to delete with --cleanup`),
    step(S.up, `mreg up --quayRoot over that record: config.yaml and ${UNITS.app} for the bucket, ${UNITS.app} restarted, health (its own steps follow)`),
  ];
}
