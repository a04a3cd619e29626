// The install record up writes (before it creates anything, with every file it will write, and at the
// end), and the pointer that lets down/status/upgrade find quayRoot without flags.
import type { FilePorts, HostProbe, InspectPorts } from '../actions/ports.js';
import { markerPath, unfinishedRestoreProblem } from '../backup/restored.js';
import { executeActions, filesOnly } from '../actions/execute.js';
import { HostError } from '../errors.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { PgVerified } from '../install-spec/pg-version.js';
import { recordSpec, RECORD_SCHEMA_VERSION, type InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';
import type { TakenDir } from '../install-spec/taken-dirs.js';
import { pointerPath } from '../model/scope.js';
import { ALL_SECRET_NAMES } from '../model/views.js';
import { UP_STEP } from '../plan/up-steps.js';
import { planRecordWrites } from '../plan/writes.js';
import type { Output } from '../ui/output.js';
import { VERSION } from '../version.js';
import type { UpRun } from './run.js';

/** What every record of a run holds, known once its checks passed. */
export interface RecordBase {
  spec: InstallSpec;
  previous?: InstallRecord;
  layout: QuayRootLayout;
  probe: Pick<HostProbe, 'now' | 'home'>;
  taken?: TakenDir[];
  pgData?: PgVerified;
  lingerEnabledByMreg: boolean;
}

/** What a record holds at one point of the run: the files and volumes planned so far, and what the run has learnt. */
export interface RecordAt {
  updatedAt: string;
  files: readonly string[];
  volumes: readonly string[];
  /** Stale unit files this run deleted: no longer mreg's to remove. */
  dropped?: readonly string[];
  /** Where podman keeps each volume (for status), asked once. */
  mountpoints?: Record<string, string>;
  /** Where podman keeps the secrets' values, when it confirmed one (secrets step). */
  secretStore?: string;
}

function upRecord(b: RecordBase, at: RecordAt): InstallRecord {
  const { spec, previous, layout } = b;
  const dropped = at.dropped ?? [];
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    mregVersion: VERSION,
    createdAt: previous?.createdAt ?? b.probe.now.toISOString(),
    updatedAt: at.updatedAt,
    spec: recordSpec(spec),
    // Keep what other commands recorded (cert trust's ca.crt) so down --purge still removes it.
    files: [...new Set([...(previous ? previous.files.filter(f => !dropped.includes(f)) : []), ...at.files, layout.sslCert, layout.sslKey, layout.credentials,
      ...(spec.tls.kind === 'generate' ? [layout.caCert, layout.caKey] : [])])].sort(),
    secrets: ALL_SECRET_NAMES,
    volumes: [...at.volumes],
    lingerEnabledByMreg: b.lingerEnabledByMreg,
    pgData: b.pgData, // undefined (nothing verified) is left out of the JSON
    takenDirs: b.taken,
    volumeMountpoints: at.mountpoints,
    secretStore: at.secretStore,
    migratedFrom: previous?.migratedFrom, // undefined is left out of the JSON
  };
}

/** A new install, or one `mreg down` removed: it records itself before it creates anything. */
export function isFresh(previous: InstallRecord | undefined): boolean {
  return !previous || Boolean(previous.removedAt);
}

/** The install record as it stands `at` this point, and the pointer that lets down/status/upgrade find quayRoot without flags. */
export async function writeRecord(run: RecordBase & { host: { files: FilePorts }; out: Output }, at: RecordAt): Promise<void> {
  await executeActions(planRecordWrites(upRecord(run, at), run.layout, pointerPath(run.spec.scope, run.probe.home)), filesOnly(run.host.files), { out: run.out });
}

/**
 * A first install records itself (and the folders it takes) before it creates anything, so an
 * interrupted run is resumed by up, or removed by down, and --purge knows what is mreg's.
 */
export async function writeFirstRecord(run: UpRun): Promise<void> {
  const { previous, probe } = run;
  if (!isFresh(previous)) return;
  await run.host.files.makeDir(run.layout.root, 0o700);
  await writeRecord(run, { updatedAt: probe.now.toISOString(), files: [], volumes: [], mountpoints: previous?.volumeMountpoints });
  run.did(UP_STEP.firstRecord);
}

/**
 * A restore that failed before its end leaves its marker, so a rerun of it resumes. Once an up of its own
 * brings the registry to health, the registry is in use: a later restore of that backup must not resume
 * over what it holds now (restore's own up leaves the marker to restore).
 */
export async function forgetRestoreMarker(host: { files: Pick<FilePorts, 'remove'> }, look: Pick<InspectPorts, 'exists'>, root: string): Promise<void> {
  const marker = markerPath(root);
  if (await look.exists(marker)) await host.files.remove(marker);
}

/** Refuses (HostError, nothing changed) an up over a restore stopped before its data was back. */
export async function refuseUnfinishedRestore(look: Pick<InspectPorts, 'readFile'>, root: string): Promise<void> {
  const problem = unfinishedRestoreProblem(await look.readFile(markerPath(root)), root);
  if (problem) throw new HostError(problem.message, problem.hint);
}
