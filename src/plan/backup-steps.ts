// The steps `mreg backup` (and `backup --verify`) takes, in its order. Pure; commands/backup.ts and the
// src/backup/ phases it calls name each step they finish with the same id (`backup --json` reports them as
// `steps`, --verbose prints "step ID"), as up does (up-steps.ts). The VM suite kills a backup on
// `manifest`, the step that ends right before the archive is written.
import type { QuayStorage } from '../install-spec/spec.js';
import { storageText } from '../model/views.js';
import { step, UP_STEP, type UpStep } from './up-steps.js';

/** The ids of backup's steps; `write:OUTPUT` is up's kind of id (`write:-` for stdout). */
export const BACKUP_STEP = {
  verify: (file: string) => `verify:${file}`,
  dump: 'db-dump',
  installFiles: 'install-files',
  storage: 'list-storage',
  space: 'free-space',
  manifest: 'manifest',
  write: UP_STEP.write,
  lastBackup: 'last-backup',
} as const;

export interface BackupStepsInput {
  /** The backup file, or `-` for stdout. */
  output: string;
  staging: string;
  quayStorage: QuayStorage;
  /** Where status reads the last backup from (backup/last.ts). */
  lastBackup: string;
  encrypted: boolean;
}

export function backupSteps(i: BackupStepsInput): UpStep[] {
  const S = BACKUP_STEP;
  const toFile = i.output !== '-';
  return [
    step(S.dump, `dump the database (pg_dump in quay-postgres) into ${i.staging}`),
    step(S.installFiles, `copy the install's files and podman secrets into ${i.staging}`),
    step(S.storage, i.quayStorage.kind === 's3'
      ? `no blobs: they stay in ${storageText(i.quayStorage)}`
      : `list the blob storage ${storageText(i.quayStorage)}, after the dump so that every blob it refers to is listed`),
    ...(toFile ? [step(S.space, `check that the folder of ${i.output} has room for the backup`)] : []),
    step(S.manifest, 'write the manifest: every file with its size and sha256'),
    step(S.write(i.output), `write the archive${i.encrypted ? ' (encrypted with gpg)' : ''} to ${toFile ? `${i.output}.partial, then rename it to ${i.output}` : 'stdout'}`),
    step(S.lastBackup, `write ${i.lastBackup} for mreg status`),
  ];
}
