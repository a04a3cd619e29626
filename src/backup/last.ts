// When the install was last backed up: written by mreg backup, shown by mreg status.
import { join } from 'node:path';

export interface LastBackup {
  at: string; file: string; bytes: number; files: number; blobs: number;
  /** An incremental backup: when the one it builds on was made, and how many blobs it left to that one. */
  since?: string; inheritedBlobs?: number;
}

export function lastBackupPath(quayRoot: string): string {
  return join(quayRoot, 'last-backup.json');
}

export function parseLastBackup(text: string | undefined): LastBackup | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<LastBackup>;
    return typeof v.at === 'string' && typeof v.file === 'string' ? v as LastBackup : undefined;
  } catch { return undefined; }
}
