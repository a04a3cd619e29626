// Up's checks of the flags against this scope's install, its units and its folders: read-only, before the lock.
import { join } from 'node:path';
import type { HostPorts, HostProbe, InspectPorts } from '../actions/ports.js';
import { interruptedAdoptHint, parseAdoptMarker } from '../apply/adopt-marker.js';
import { readCredentials } from '../apply/credentials.js';
import { refuseOtherScope } from '../apply/install-lookup.js';
import { HostError, UsageError } from '../errors.js';
import { quayRootLayout } from '../install-spec/layout.js';
import { parseUpOptions, type RawUpFlags } from '../install-spec/options.js';
import type { InstallRecord } from '../install-spec/record.js';
import { reviewRerun, withRecordedFlags, type RerunReview } from '../install-spec/rerun.js';
import type { InstallSpec, Scope } from '../install-spec/spec.js';
import { mergeTaken, takenDir, takeProblem, type TakenDir } from '../install-spec/taken-dirs.js';
import { COMPONENTS } from '../model/components.js';
import { adoptMarkerPath, systemdUnitDir } from '../model/scope.js';
import { UNITS } from '../model/views.js';
import { layoutProblem, unitDirs } from '../plan/layout-move.js';
import { refuseUnfinishedUpgrade } from '../apply/db-snapshot.js';

/** What checkUp reads through: the install lookup, and file and folder looks. */
interface CheckPorts {
  host: Pick<HostPorts, 'findRecordedInstall' | 'readRecordAt'>;
  look: Pick<InspectPorts, 'exists' | 'dirState' | 'readFile'>;
}

export interface CheckedUp {
  spec: InstallSpec;
  /** This scope's install record, when there is one (also after `mreg down`). */
  previous?: InstallRecord;
  review: RerunReview;
  /** The folders to record as mreg's (spec/taken-dirs.ts); undefined for an install an older mreg made, which never recorded them. */
  taken?: TakenDir[];
}

/**
 * Flags → spec over the scope's one install: left-out flags come from its record, a disagreeing flag
 * is refused or named as a change, and quayRoot and storage folders are checked before any is made.
 * Reads only; every refusal is a UsageError (exit 2, nothing changed). The files the flags name are
 * the caller's to check next (checkInputFiles, then withS3Inputs).
 */
export async function checkUp(ports: CheckPorts, given: RawUpFlags, probe: HostProbe, defaultHost: () => Promise<string>): Promise<CheckedUp> {
  const { host, look } = ports;
  const recorded = await host.findRecordedInstall(probe.scope, probe.home);
  const raw = recorded ? withRecordedFlags(given, recorded.record.spec, recorded.layout) : given;
  const env = { scope: probe.scope, fqdn: raw.quayHostname === undefined ? await defaultHost() : '', home: probe.home };
  let spec = parseUpOptions(raw, env);
  if (recorded && spec.quayRoot !== recorded.layout.root) {
    throw new UsageError(`--quayRoot ${spec.quayRoot}: this host already has a ${probe.scope} mreg install at ${recorded.layout.root}, and mreg keeps one install per scope`,
      `leave --quayRoot out to use that install, or remove it first: mreg down --purge --quayRoot ${recorded.layout.root}`);
  }
  // A quayRoot given by flag whose pointer was lost still holds its record.
  const found = recorded ?? await host.readRecordAt(spec.quayRoot);
  if (found) refuseOtherScope(found, probe.scope);
  if (found && !recorded) spec = parseUpOptions(withRecordedFlags(given, found.record.spec, found.layout), env);
  const previous = found?.record;
  const layout = quayRootLayout(spec.quayRoot);
  // up renders the record's images: after an upgrade killed midway that would start the old Quay on a
  // database the new one may have migrated.
  if (previous) await refuseUnfinishedUpgrade(look.readFile, layout.root, previous.spec.images.quay);
  if (!previous) await refuseInterruptedAdopt(look.readFile, probe);
  if (!previous) await refuseForeignUnits(look.exists, probe.quadletDir, systemdUnitDir(probe.scope, probe.home));
  const refusal = previous && probe.podmanVersion
    ? layoutProblem(previous.files, probe.podmanVersion, unitDirs(probe)) : undefined;
  if (refusal) throw new HostError(refusal, 'nothing was changed; run mreg on podman 5 again (dnf update podman), or back up on that host and restore on one with podman 5');

  const firstUser = previous ? await readCredentials(layout.credentials) : undefined;
  const review = previous ? reviewRerun(spec, previous.spec, !previous.removedAt, firstUser) : { refused: [], changes: [] };
  const problems = [...review.refused];
  const dirs: Array<{ flag: string; path: string; isQuayRoot: boolean; recorded: boolean }> = [
    { flag: '--quayRoot', path: spec.quayRoot, isQuayRoot: true, recorded: previous !== undefined },
  ];
  for (const [flag, s, was] of [['--quayStorage', spec.quayStorage, previous?.spec.quayStorage], ['--pgStorage', spec.pgStorage, previous?.spec.pgStorage]] as const) {
    if (s.kind === 'path') dirs.push({ flag, path: s.path, isQuayRoot: false, recorded: was?.kind === 'path' && was.path === s.path });
  }
  const taken: TakenDir[] = [];
  for (const d of dirs) {
    const state = await look.dirState(d.path);
    const problem = takeProblem({ ...d, state, home: probe.home });
    if (problem) problems.push(problem);
    const t = d.recorded ? undefined : takenDir(d.path, state);
    if (t) taken.push(t);
  }
  if (problems.length > 0) throw new UsageError(problems, 'nothing was changed; see: mreg up --help');
  // The local copy storage migrate left stays mreg's until --cleanup gives it back.
  const inUse = new Set([...dirs.map(d => d.path), ...(previous?.migratedFrom?.kind === 'path' ? [previous.migratedFrom.path] : [])]);
  if (previous && !previous.takenDirs) return { spec, previous, review };
  return { spec, previous, review, taken: mergeTaken(previous?.takenDirs?.filter(d => inUse.has(d.path)), taken) };
}

/** An adopt killed after mirror-registry stopped is finished or undone by adopt, not by up (apply/adopt-marker.ts). */
async function refuseInterruptedAdopt(readFile: InspectPorts['readFile'], who: { scope: Scope; home: string }): Promise<void> {
  const file = adoptMarkerPath(who.scope, who.home);
  const text = await readFile(file);
  if (text === undefined) return;
  throw new HostError(`${file} exists: an mreg adopt stopped midway, with no install record yet`, interruptedAdoptHint(parseAdoptMarker(text, file)));
}

/**
 * Units of a registry mreg has no record of are not taken over: Quadlet files (another tool's, or an
 * install whose quayRoot was lost), or mirror-registry's plain units, which would shadow the generated
 * ones of the same name (a 1.2 uninstall leaves them behind).
 */
async function refuseForeignUnits(exists: InspectPorts['exists'], quadletDir: string, legacyDir: string): Promise<void> {
  const app = join(quadletDir, COMPONENTS.app.quadletFile);
  if (await exists(app)) {
    throw new UsageError(`${app} exists, but this scope has no mreg install record (no pointer, nothing at the default quayRoot)`,
      'if mreg made it, pass its --quayRoot; if mirror-registry did, use mreg adopt; otherwise stop and remove those units first');
  }
  const legacy = join(legacyDir, UNITS.app);
  if (await exists(legacy)) {
    throw new UsageError(`${legacy} exists: a mirror-registry install (or what its uninstall left) whose units would shadow mreg's`,
      `take it over with \`mreg adopt\`; if it was uninstalled, remove ${legacyDir}/quay-*.service and run \`systemctl${legacyDir.startsWith('/etc/') ? '' : ' --user'} daemon-reload\` first`);
  }
}
