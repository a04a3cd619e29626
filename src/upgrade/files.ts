// The files an upgrade changes: planned, those that differ from what is on disk (or, resuming, from the
// record's plan), written for the switch and written back for a rollback.
import { dirname } from 'node:path';
import type { FilePorts, InspectPorts } from '../actions/ports.js';
import type { InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import type { KeptConfig } from '../plan/config-keep.js';
import { plan as makePlan, type Plan, type PlannedFile } from '../plan/plan.js';
import { imageChanges } from '../plan/upgrade-steps.js';
import type { Upgrading } from './read.js';

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

/** The plan for `spec` and the files it changes, for the run and its dry run alike. */
export async function planFiles(f: Pick<Upgrading, 'probe' | 'record' | 'look'>, spec: InstallSpec, secrets: InstallSecrets, kept: KeptConfig) {
  const planned = makePlan(spec, f.probe, secrets, kept);
  const recorded = () => makePlan({ ...spec, images: f.record.spec.images }, f.probe, secrets, kept);
  return { planned, ...(await changesToMake(f.look.readFile, planned, recorded, imageChanges(f.record.spec.images, spec.images).length > 0)) };
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
