// Units on the host: validate with Quadlet's generator, write what changed, start/restart what it affects.
// Shared by up and upgrade so both restart exactly the services whose files changed.
import { dirname, join } from 'node:path';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Output } from '../ui/output.js';
import { HostError, UnitFailedError } from '../errors.js';
import type { Plan } from '../plan/plan.js';
import { systemctlCommand } from '../model/scope.js';
import { serviceName, serviceOf, UNITS } from '../model/views.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallSpec } from '../install-spec/spec.js';
import type { Podman } from '../host/podman.js';
import type { JobMode, Systemd, UnitState } from '../host/systemd.js';
import { ensureDir, makeDirIfMissing, ensureMode, readIfExists, removeIfExists, writeFileAtomic } from '../host/fs.js';
import { journalTail } from '../host/journal.js';

export const START_TIMEOUT_MS = 15 * 60_000;

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

export async function writeIfChanged(path: string, content: string, mode: number): Promise<boolean> {
  // Same content: only the mode may have drifted, and a chmod needs no restart.
  if ((await readIfExists(path)) === content) { await ensureMode(path, mode); return false; }
  await writeFileAtomic(path, content, mode);
  return true;
}

export async function writePlan(planned: Plan, layout: QuayRootLayout): Promise<string[]> {
  const changed: string[] = [];
  await ensureDir(layout.root, 0o700);
  await ensureDir(layout.configDir, 0o750);
  for (const f of planned.files) {
    await makeDirIfMissing(dirname(f.path), 0o755); // the Quadlet folder may be the user's own, and 0700
    if (await writeIfChanged(f.path, f.content, f.mode)) changed.push(f.path);
  }
  return changed;
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

/**
 * Starts what is not running and restarts what ran before this `up` with a file that changed.
 * A unit that another start just pulled in (the pod wants all three) is not restarted again.
 * All jobs are enqueued at once: the units' After= lines make systemd run postgres and redis side by
 * side and quay-app after both, instead of mreg waiting for each job before it asks for the next.
 * `hold`: a service this run does not start (restore starts quay-app once its data is back).
 */
export async function startUnits(systemd: Pick<Systemd, 'unitState' | 'restartUnit' | 'resetFailed' | 'startUnit'>, planned: Plan, changed: string[], wasActive: Set<string>, spec: InstallSpec, out: Output, hold?: string): Promise<void> {
  const touched = new Set(changed.map(serviceOf).filter((s): s is string => s !== undefined && wasActive.has(s)));
  // A changed pod (a new published port, the move to quay.pod) only takes effect when the pod is made
  // again. Its restart stops every container bound to it, so the jobs below start them on their new files.
  // (The pod is not among the services up samples before the reload, so its own state decides.)
  if (changed.some(f => serviceOf(f) === UNITS.pod) && (await systemd.unitState(UNITS.pod)).activeState === 'active') {
    out.info(`    restarting ${UNITS.pod}`);
    const result = await systemd.restartUnit(UNITS.pod, { timeoutMs: START_TIMEOUT_MS });
    if (result !== 'done') throw await unitFailed(UNITS.pod, result, spec);
    touched.clear();
  }
  const jobs: { service: string; restart: boolean }[] = [];
  const states = await Promise.all(planned.services.map(s => systemd.unitState(s)));
  for (const [i, service] of planned.services.entries()) {
    const state = states[i]!;
    if (state.loadState !== 'loaded') {
      throw new HostError(`${service} was not generated (LoadState=${state.loadState})`, 'run `/usr/libexec/podman/quadlet -dryrun' + (spec.scope === 'rootless' ? ' -user' : '') + '` to see why');
    }
    if (state.activeState === 'failed') await systemd.resetFailed(service);
    if (service === hold) continue;
    const restart = state.activeState === 'active' && touched.has(service);
    if (state.activeState === 'active' && !restart) continue;
    out.info(`    ${restart ? 'restarting' : 'starting'} ${service}`);
    jobs.push({ service, restart });
  }
  const opts = { timeoutMs: START_TIMEOUT_MS };
  if (hold !== undefined && jobs.length > 0) await startAllBut(systemd, planned, hold, spec, out);
  const results = await Promise.all(jobs.map(j => j.restart ? systemd.restartUnit(j.service, opts) : systemd.startUnit(j.service, opts)));
  // The first failure in start order is the cause: quay-app's job only says "dependency" when postgres failed.
  const failed = jobs.findIndex((_, i) => results[i] !== 'done' && results[i] !== 'skipped');
  if (failed >= 0) throw await unitFailed(jobs[failed]!.service, results[failed]!, spec);
}

/**
 * What the containers' jobs need started first when `hold` is not to start. A container's start pulls in
 * the pod (BindsTo=), and the pod's Wants= the held service: so the pod starts first, alone; once it is
 * active, systemd drops its job from a container's start, Wants= and all. And the volumes, which the held
 * service's Requires= would have made (NAME.volume → NAME-volume.service): its data goes into them first.
 */
async function startAllBut(systemd: Pick<Systemd, 'unitState' | 'startUnit'>, planned: Plan, hold: string, spec: InstallSpec, out: Output): Promise<void> {
  const opts = { timeoutMs: START_TIMEOUT_MS };
  const jobs: { unit: string; mode: JobMode }[] = planned.volumes.map(v => ({ unit: serviceName(`${v}.volume`), mode: 'replace' }));
  if ((await systemd.unitState(UNITS.pod)).activeState !== 'active') {
    out.info(`    starting ${UNITS.pod} (without ${hold})`);
    jobs.unshift({ unit: UNITS.pod, mode: 'ignore-requirements' });
  }
  // Side by side: neither needs the other.
  const results = await Promise.all(jobs.map(j => systemd.startUnit(j.unit, { ...opts, mode: j.mode })));
  const failed = results.findIndex(r => r !== 'done');
  if (failed >= 0) throw await unitFailed(jobs[failed]!.unit, results[failed]!, spec);
}

/** A start or restart job that ended other than "done", with the unit's journal tail. */
async function unitFailed(service: string, result: string, spec: InstallSpec): Promise<UnitFailedError> {
  return new UnitFailedError(service, result, await journalTail(service, spec.scope, 20).catch(() => []), `see: ${systemctlCommand(spec.scope)} status ${service}`);
}
