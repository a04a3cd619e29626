// What this host already has where the restore goes. Nothing an install holds is replaced unless
// --force says so; a restore of the same backup that was interrupted (kill, power cut) is resumed.
import { executeLocked } from '../actions/execute.js';
import type { Action } from '../actions/action.js';
import type { FoundInstall } from '../actions/ports.js';
import { HostError, UsageError } from '../errors.js';
import { readMarker } from '../backup/restored.js';
import type { InstallRecord } from '../install-spec/record.js';
import { meaningfulEntries, takenDir, takeProblem, type DirState, type TakenDir } from '../install-spec/taken-dirs.js';
import { planDown } from '../plan/down.js';
import { RESTORE_STEP as S } from '../plan/restore-steps.js';
import type { RestoreRun } from './run.js';
import { refuseOtherScope } from '../apply/install-lookup.js';

export interface Existing {
  /** This same backup's restore was interrupted here: every step runs again over what it did. */
  resuming: boolean;
  /** The folders the interrupted run took, when resuming. */
  taken: TakenDir[];
  /** The install --force replaces (never when resuming). */
  install?: FoundInstall;
}

/** Refuses an existing install without --force, before any change. */
export async function findExisting(run: RestoreRun, quayRoot: string, backupId: string, force: boolean): Promise<Existing> {
  const { host, probe, out } = run;
  const marker = await readMarker(quayRoot);
  if (marker?.id === backupId) {
    out.info(`mreg: resuming the interrupted restore of this backup into ${quayRoot}`);
    return { resuming: true, taken: marker.taken };
  }
  const install = await host.findRecordedInstall(probe.scope, probe.home) ?? await host.readRecordAt(quayRoot);
  // --force would purge it as this scope's: another scope's install is never this run's to replace.
  if (install) refuseOtherScope(install, probe.scope);
  if (install && !force) {
    const what = install.record.removedAt ? `an install removed by mreg down whose data was kept` : 'a registry';
    throw new UsageError(`this host already has ${what} at ${install.layout.root} (${probe.scope}); mreg restore never replaces one`,
      `to replace it and delete its data, add --force (or first: mreg down --purge${install.layout.root === quayRoot ? '' : ` --quayRoot ${install.layout.root}`}); or restore on another host`);
  }
  return { resuming: false, taken: [], ...(install ? { install } : {}) };
}

/**
 * A new restore: every folder (and volume) it writes into must be new or empty, counting what --force
 * deletes as gone, so a refusal changes nothing; then the --force install goes, and the folders are read
 * again for what the restore takes. Resolves with those; rejects with every problem at once.
 */
export async function clearTheWay(run: RestoreRun, e: Existing, quayRoot: string, spec: InstallRecord['spec']): Promise<TakenDir[]> {
  const { host, probe, out } = run;
  if (e.resuming) return e.taken;
  // The explicit flag: the install there goes, data and all, as `mreg down --purge --yes` does it.
  const gone = e.install && planDown({ record: e.install.record, layout: e.install.layout, facts: probe, purge: true, quayRootGiven: true });
  const first = await whereItGoes(run, quayRoot, spec, gone?.actions ?? []);
  if (first.problems.length > 0) throw new UsageError(first.problems, 'nothing was changed');
  if (!gone || !e.install) return first.taken;
  out.warn(`--force: replacing the ${probe.scope} registry at ${e.install.layout.root}; deleting ${gone.data.join(', ')} and every image in them`);
  await executeLocked(host, probe, gone.actions, { out, unitFailedHint: 'fix the cause and run mreg restore --force again' },
    { quayRoot: e.install.layout.root, record: e.install.record, again: 'mreg restore --force' });
  run.log.did(S.replace);
  const after = await whereItGoes(run, quayRoot, spec, []);
  if (after.problems.length > 0) {
    throw new HostError(after.problems.join('; '), `the registry at ${e.install.layout.root} was removed (--force); make room, then run mreg restore again (it needs no --force now)`);
  }
  return after.taken;
}

/** A folder's state once `purge` has run: what it gives back loses those names (or all), what lies in an emptied folder is gone. */
function afterPurge(path: string, state: DirState, purge: readonly Action[]): DirState {
  for (const a of purge) {
    if (a.kind !== 'give-back-dir') continue;
    if (a.dir.path === path && state.kind === 'dir') {
      return { ...state, entries: a.only ? state.entries.filter(n => !a.only!.includes(n)) : state.entries.filter(n => a.spare?.includes(n)) };
    }
    const top = path.slice(a.dir.path.length + 1).split('/')[0]!;
    if (!a.only && path.startsWith(`${a.dir.path}/`) && !a.spare?.includes(top)) return { kind: 'missing', firstMissing: path };
  }
  return state;
}

/** The problems of the folders and volumes the restore writes into, and the folders it takes, with `purge` run first. */
async function whereItGoes(run: RestoreRun, quayRoot: string, spec: InstallRecord['spec'], purge: readonly Action[]): Promise<{ problems: string[]; taken: TakenDir[] }> {
  const { host, probe } = run;
  const look = host.inspect(probe);
  const problems: string[] = [];
  const taken: TakenDir[] = [];
  const checkDir = async (flag: string, path: string, isQuayRoot: boolean) => {
    const state = afterPurge(path, await look.dirState(path), purge);
    const problem = takeProblem({ flag, path, state, recorded: false, isQuayRoot, home: probe.home })
      ?? (state.kind === 'dir' && meaningfulEntries(state.entries).length > 0 ? `${flag} ${path}: is not empty; restore writes only into a new or empty folder` : undefined);
    if (problem) problems.push(problem);
    const t = takenDir(path, state);
    if (t) taken.push(t);
  };
  await checkDir('--quayRoot', quayRoot, true);
  const podman = host.podman();
  const removed = new Set(purge.flatMap(a => (a.kind === 'remove-volume' ? [a.name] : [])));
  for (const [name, s] of [['quayStorage', spec.quayStorage], ['pgStorage', spec.pgStorage]] as const) {
    if (s.kind === 'path') await checkDir(`the backup's ${name}`, s.path, false);
    else if (s.kind === 'volume' && !removed.has(s.name) && await podman.volumeExists(s.name)) problems.push(`podman volume ${s.name} (the backup's ${name}) exists; restore writes only into a new one: check what it holds, then \`podman volume rm ${s.name}\``);
  }
  return { problems, taken };
}
