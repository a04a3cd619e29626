// The files an upgrade changes: planned, those that differ from what is on disk (or, resuming, from the
// record's plan), written for the switch and written back for a rollback. On a host whose podman moved
// from 4 to 5 under the install, the change is also the move to the .pod layout (layout-move.ts).
import type { InspectPorts } from '../actions/ports.js';
import type { InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import type { KeptConfig } from '../plan/config-keep.js';
import { movesToPodFiles, podman4LayoutFacts, unitDirs } from '../plan/layout-move.js';
import { plan as makePlan, type Plan } from '../plan/plan.js';
import { imageChanges } from '../plan/upgrade-steps.js';
import type { Upgrading } from './read.js';

/** One file's content before and after; undefined: no such file (written new, or removed). */
export interface FileChange { path: string; mode: number; before: string | undefined; after: string | undefined }

type ReadFile = InspectPorts['readFile'];

async function planChanges(readFile: ReadFile, planned: Plan): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  for (const file of planned.files) {
    const before = await readFile(file.path);
    if (before !== file.content) changes.push({ path: file.path, mode: file.mode, before, after: file.content });
  }
  return changes;
}

/**
 * Files that differ between the recorded plan and the new one, with the recorded content as "before";
 * a file only the recorded plan has (the podman 4 pod unit, after the move) is removed.
 */
function recordedChanges(recorded: Plan, planned: Plan): FileChange[] {
  const before = new Map(recorded.files.map(f => [f.path, f.content]));
  const changes = planned.files.filter(f => before.get(f.path) !== f.content).map(f => ({ path: f.path, mode: f.mode, before: before.get(f.path), after: f.content }));
  return [...changes, ...notPlanned(recorded, planned).map(f => ({ path: f.path, mode: f.mode, before: f.content, after: undefined }))];
}

/** The recorded plan's files the new plan no longer has (the podman 4 pod unit, after the move). */
const notPlanned = (recorded: Plan, planned: Plan) => {
  const kept = new Set(planned.files.map(f => f.path));
  return recorded.files.filter(f => !kept.has(f.path));
};

/**
 * The files this upgrade writes, for the run and its dry run alike. When a file the new images change is
 * already on disk as this upgrade writes it but the record names the old images, an earlier upgrade was
 * interrupted after writing it (or all of them): it is resumed, every file of the image change counts
 * (its service restarts, though the disk already holds it), and `recorded` (the plan for the record's
 * images) gives the files to roll back to. Other differences (hand edits) are changes as in any upgrade.
 */
export async function changesToMake(readFile: ReadFile, planned: Plan, recorded: () => Plan, imagesChanged: boolean): Promise<{ changes: FileChange[]; resuming: boolean }> {
  const changes = await planChanges(readFile, planned);
  if (!imagesChanged) return { changes, resuming: false };
  const ofImages = recordedChanges(recorded(), planned);
  const differing = new Set(changes.map(c => c.path));
  if (ofImages.every(c => differing.has(c.path))) return { changes, resuming: false };
  const resumed = new Set(ofImages.map(c => c.path));
  return { changes: [...ofImages, ...changes.filter(c => !resumed.has(c.path))], resuming: true };
}

/**
 * The move to the .pod layout, with or without new images. A unit file on disk as this upgrade writes it (the
 * new images in either layout, or the .pod layout alone: a run killed after its writes, under podman 4 or during
 * the move) is resumed from the recorded podman 4 plan, what a rollback writes back, never from the disk: the
 * disk already matches the plan, so comparing with it would find nothing while the units still run the old files.
 * Otherwise the disk is the install as it runs, hand edits included, and is "before", as in any upgrade; the
 * podman 4 pod unit is removed.
 */
export async function layoutMoveChanges(readFile: ReadFile, plans: { planned: Plan; recorded: Plan; newImagesOn4: Plan }): Promise<{ changes: FileChange[]; resuming: boolean }> {
  const { planned, recorded } = plans;
  const was = new Map(recorded.files.map(f => [f.path, f.content]));
  let written = false;
  for (const f of [...plans.newImagesOn4.files, ...planned.files].filter(f => f.kind !== 'config' && f.content !== was.get(f.path))) {
    if ((await readFile(f.path)) === f.content) { written = true; break; }
  }
  if (written) return { changes: recordedChanges(recorded, planned), resuming: true };
  const removed: FileChange[] = [];
  for (const f of notPlanned(recorded, planned)) {
    const before = await readFile(f.path);
    if (before !== undefined) removed.push({ path: f.path, mode: f.mode, before, after: undefined });
  }
  return { changes: [...(await planChanges(readFile, planned)), ...removed], resuming: false };
}

/** The plan for `spec` and the files it changes, for the run and its dry run alike. */
export async function planFiles(f: Pick<Upgrading, 'probe' | 'record' | 'look'>, spec: InstallSpec, secrets: InstallSecrets, kept: KeptConfig) {
  const planned = makePlan(spec, f.probe, secrets, kept);
  const moving = movesToPodFiles(f.record.files, f.probe.podmanVersion, unitDirs(f.probe));
  const recorded = () => makePlan({ ...spec, images: f.record.spec.images }, moving ? podman4LayoutFacts(f.probe) : f.probe, secrets, kept);
  const imagesChanged = imageChanges(f.record.spec.images, spec.images).length > 0;
  const made = moving
    ? await layoutMoveChanges(f.look.readFile, { planned, recorded: recorded(), newImagesOn4: makePlan(spec, podman4LayoutFacts(f.probe), secrets, kept) })
    : await changesToMake(f.look.readFile, planned, recorded, imagesChanged);
  return { planned, moving, ...made };
}
