// Units on the host: validate with Quadlet's generator, and which running services run an older file
// (what to write is plan/writes.ts, what to start and restart plan/start.ts).
import { join } from 'node:path';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { HostError } from '../errors.js';
import type { Plan } from '../plan/plan.js';
import { serviceOf } from '../model/views.js';
import type { InstallSpec } from '../install-spec/spec.js';
import type { Podman } from '../host/podman.js';
import type { UnitState } from '../host/systemd.js';
import { readIfExists, removeIfExists, writeFileAtomic } from '../host/fs.js';

/** Runs podman's own generator on the rendered units in a scratch folder before anything is moved into place. */
export async function validateUnits(podman: Podman, planned: Plan, spec: InstallSpec): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mreg-units-'));
  try {
    for (const f of planned.files.filter(f => f.kind === 'quadlet')) {
      await writeFileAtomic(join(dir, f.path.split('/').pop()!), f.content, 0o644);
    }
    const r = await podman.quadletDryRun(dir, spec.scope);
    if (!r.ok) throw new HostError(`podman's Quadlet generator rejected the units:\n${r.output}`, 'nothing was changed; please report this as an mreg bug with `mreg up --dry-run` output');
  } finally {
    await removeIfExists(dir);
  }
}

/** Whether any planned Quadlet file is missing or differs from the one on disk. */
export async function quadletFilesDiffer(planned: Plan): Promise<boolean> {
  const same = await Promise.all(planned.files.filter(f => f.kind === 'quadlet').map(async f => (await readIfExists(f.path)) === f.content));
  return same.includes(false);
}

/** Whether a file was written after its service last became active: the service runs an older copy. */
export function isOutdated(mtimeMs: number | undefined, state: UnitState | undefined): boolean {
  return mtimeMs !== undefined && state?.activeState === 'active' && state.activeEnterTimestamp !== undefined && mtimeMs > state.activeEnterTimestamp;
}

/**
 * Files whose running service started before they were written. An up killed between writing a changed
 * file and restarting its service leaves exactly that, and the next up finds the file unchanged: without
 * this its service keeps the old definition (a new port is never published, a new hostname never served).
 * Only files of the services in `states` count (the pod and the containers, read once by the caller): a
 * volume's unit is never restarted (its volume exists), so its rewritten file (the move to podman 5)
 * would count on every run.
 */
export async function outdatedFiles(states: ReadonlyMap<string, UnitState>, paths: readonly string[]): Promise<string[]> {
  paths = paths.filter(p => states.has(serviceOf(p) ?? ''));
  const mtimes = await Promise.all(paths.map(p => stat(p).then(st => st.mtimeMs, () => undefined)));
  return paths.filter((p, i) => isOutdated(mtimes[i], states.get(serviceOf(p) ?? '')));
}
