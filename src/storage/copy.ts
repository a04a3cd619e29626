// storage migrate's copy, under the lock: the blobs go over while the registry serves (pulls go on from
// the local copy, and pushes land there too), then with quay-app stopped what changed meanwhile.
import type { ActionPorts, FilePorts, Identity } from '../actions/ports.js';
import { UnitFailedError } from '../errors.js';
import { copyFiles, planCopy, type CopyPlan, type CopyResult } from '../apply/blob-migrate.js';
import { UNITS } from '../model/views.js';
import { MIGRATE_STEP as S } from '../plan/migrate-steps.js';
import type { Output } from '../ui/output.js';
import type { StepLog } from '../ui/step-log.js';
import type { Migration } from './source.js';

export const mib = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`;

const size = (fs: readonly { size: number }[]) => fs.reduce((n, f) => n + f.size, 0);

/** What the first pass copies, as the dry run counts it (`--json`) and says it. */
export function copyCounts(first: CopyPlan) {
  const already = first.files.length - first.todo.length;
  return {
    json: { files: first.files.length, bytes: size(first.files), toCopy: first.todo.length, bytesToCopy: size(first.todo) },
    summary: `${first.todo.length} files (${mib(size(first.todo))}) to copy of ${first.files.length} (${mib(size(first.files))}); ${already} blobs already in the bucket`,
  };
}

export interface CopyRun {
  out: Output;
  did: StepLog['did'];
  who: Identity;
  files: FilePorts;
  ports: Pick<ActionPorts, 'systemd' | 'removeTree'>;
  m: Migration;
  scratch: string;
}

export async function copyBlobs(run: CopyRun, first: CopyPlan): Promise<void> {
  const { out, did, who, m, scratch } = run;
  const { systemd, removeTree } = run.ports;
  await removeTree(scratch);
  await run.files.makeDir(scratch, 0o700);
  did(S.scratch); // the last step before the first copy: the VM suite kills a migrate on it
  const started = Date.now();
  let last = 0;
  const progress = (r: CopyResult) => { if (Date.now() - last > 5000) { last = Date.now(); out.info(`    copied ${r.files} files, ${mib(r.bytes)}`); } };
  const copy = (todo: CopyPlan['todo']) => copyFiles(m.root, who.scope, m.s3, m.to.prefix, todo, scratch, progress);
  // While the registry serves: pulls go on from the local copy, and pushes land there too.
  const copied = await out.step('copy the blobs (the registry keeps serving)', () => copy(first.todo));
  did(S.copy);
  // Only Quay writes blobs: with it stopped, what was pushed meanwhile (and the tag links) goes over last.
  const stopped = await out.step('stop quay-app for the last pass', () => systemd.stopUnit(UNITS.app));
  if (stopped !== 'done' && stopped !== 'skipped') throw new UnitFailedError(UNITS.app, stopped, [], 'run mreg storage migrate again: it resumes');
  did(S.stopApp);
  try {
    const rest = await out.step('copy what changed meanwhile', async () => copy((await planCopy(m.root, who.scope, m.s3, m.to.prefix)).todo));
    copied.files += rest.files;
    copied.bytes += rest.bytes;
  } catch (err) {
    await systemd.startUnit(UNITS.app).catch(() => undefined); // the old config still points at the local copy
    throw err;
  }
  did(S.copyChanged);
  const seconds = (Date.now() - started) / 1000;
  out.info(`    copied ${copied.files} files, ${mib(copied.bytes)} in ${seconds.toFixed(1)} s (${mib(copied.bytes / Math.max(seconds, 0.001))}/s)`);
}
