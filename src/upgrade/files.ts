// The files an upgrade changes: which differ from what is on disk (or, resuming, from the record's
// plan), written for the switch and written back for a rollback.
import { dirname } from 'node:path';
import type { FilePorts, InspectPorts } from '../actions/ports.js';
import type { Plan, PlannedFile } from '../plan/plan.js';

export interface FileChange { file: PlannedFile; before: string | undefined }

type ReadFile = InspectPorts['readFile'];

async function planChanges(readFile: ReadFile, planned: Plan): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  for (const file of planned.files) {
    const before = await readFile(file.path);
    if (before !== file.content) changes.push({ file, before });
  }
  return changes;
}

/** Files that differ between the recorded plan and the new one, with the recorded content as "before". */
function recordedChanges(recorded: Plan, planned: Plan): FileChange[] {
  const before = new Map(recorded.files.map(f => [f.path, f.content]));
  return planned.files.filter(f => before.get(f.path) !== f.content).map(file => ({ file, before: before.get(file.path) }));
}

/**
 * The files this upgrade writes, for the run and its dry run alike. When the files already name the new
 * images but the record does not, an earlier upgrade was interrupted after writing them: it is resumed,
 * and `recorded` (the plan for the record's images) gives the files to roll back to.
 */
export async function changesToMake(readFile: ReadFile, planned: Plan, recorded: () => Plan, imagesChanged: boolean): Promise<{ changes: FileChange[]; resuming: boolean }> {
  const changes = await planChanges(readFile, planned);
  if (changes.length > 0 || !imagesChanged) return { changes, resuming: false };
  return { changes: recordedChanges(recorded(), planned), resuming: true };
}

/** Writes each file's new content, or its previous one back; a file that had none is removed. */
export async function writeChanges(fs: FilePorts, changes: readonly FileChange[], which: 'new' | 'previous'): Promise<void> {
  for (const { file, before } of changes) {
    const content = which === 'new' ? file.content : before;
    if (content === undefined) { await fs.remove(file.path); continue; }
    await fs.makeDir(dirname(file.path), 0o755);
    await fs.write(file.path, content, file.mode);
  }
}
