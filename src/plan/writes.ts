// A plan's files as actions: quayRoot and its config folder with their own modes, each other folder only
// when missing (a user's 0700 Quadlet folder stays 0700), then each file, written only when it differs.
import { dirname } from 'node:path';
import { action, type Action } from '../actions/action.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { PlannedFile } from './plan.js';

/** quayRoot (0700) and its config folder (0750, Quay's gid reads it) with their modes, also when they exist. */
export function quayRootDirs(layout: Pick<QuayRootLayout, 'root' | 'configDir'>, progress?: string): Action[] {
  return [
    action({ kind: 'make-dir', path: layout.root, mode: 0o700, exact: true }, progress),
    action({ kind: 'make-dir', path: layout.configDir, mode: 0o750, exact: true }, progress),
  ];
}

/** `progress`: the step's line, when the caller has none of its own. */
export function planWrites(files: readonly PlannedFile[], layout: Pick<QuayRootLayout, 'root' | 'configDir'>, progress?: string): Action[] {
  const made = new Set([layout.root, layout.configDir]);
  const out = quayRootDirs(layout, progress);
  for (const f of files) {
    const dir = dirname(f.path);
    if (!made.has(dir)) out.push(action({ kind: 'make-dir', path: dir, mode: 0o755 }, progress));
    made.add(dir);
    out.push(action({ kind: 'write-file', path: f.path, content: f.content, mode: f.mode }, progress));
  }
  return out;
}

/** The install record, then the pointer that lets down, status and upgrade find quayRoot without flags. */
export function planRecordWrites(record: InstallRecord, layout: Pick<QuayRootLayout, 'record'>, pointer: string): Action[] {
  return [
    action({ kind: 'write-record', path: layout.record, record }),
    action({ kind: 'make-dir', path: dirname(pointer), mode: 0o755 }),
    action({ kind: 'write-file', path: pointer, content: `${record.spec.quayRoot}\n`, mode: 0o644 }),
  ];
}

/**
 * An upgrade's file changes as actions: each file's new content, or for the rollback its previous one
 * back (`which`); no content there: the file is removed. A file already as wanted is not written again.
 */
export function planChangeWrites(changes: readonly { path: string; mode: number; before?: string; after?: string }[], which: 'new' | 'previous'): Action[] {
  return changes.flatMap(c => {
    const content = which === 'new' ? c.after : c.before;
    if (content === undefined) return [action({ kind: 'remove-file', path: c.path })];
    return [action({ kind: 'make-dir', path: dirname(c.path), mode: 0o755 }), action({ kind: 'write-file', path: c.path, content, mode: c.mode })];
  });
}
