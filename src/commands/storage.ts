// mreg storage migrate --to s3://…: moves an install's blobs from its volume or bind folder into a bucket.
// Its steps are plan/migrate-steps.ts, then up's; the phases live in src/storage/.
import { join } from 'node:path';
import { lockAsRead } from '../actions/lock-as-read.js';
import type { Identity } from '../actions/ports.js';
import type { CommandContext } from '../cli.js';
import { UsageError } from '../errors.js';
import { checkObjectStorage, refuseForeignBlobs } from '../apply/object-storage.js';
import { planCopy } from '../apply/blob-migrate.js';
import { recordSpec, serializeRecord } from '../install-spec/record.js';
import { storageText } from '../model/views.js';
import { MIGRATE_STEP as S, migrateSteps } from '../plan/migrate-steps.js';
import { cleanup } from '../storage/cleanup.js';
import { copyBlobs, copyCounts } from '../storage/copy.js';
import { readMigration, type SwitchedAlready } from '../storage/source.js';
import { stepLog } from '../ui/step-log.js';
import { up } from './up.js';

const SCRATCH = 'migrate-scratch';

export async function storage(ctx: CommandContext): Promise<void> {
  const { out, flags, args, host } = ctx;
  if (args[0] !== 'migrate') {
    throw new UsageError(args[0] === undefined ? 'mreg storage needs an action: migrate' : `unknown storage action "${args[0]}": the action is migrate`, 'see: mreg storage --help, man mreg-storage');
  }
  if (args.length > 1) throw new UsageError(`mreg storage migrate takes no further arguments (got "${args.slice(1).join(' ')}")`);
  const probe = host.identify();
  if (flags.cleanup) return cleanup(ctx, probe);
  const read = await readMigration(ctx, probe);
  if ('finish' in read) return finishSwitch(ctx, probe, read);
  const m = read;
  const { layout, record, from, to } = m;
  const createBucket = flags.s3CreateBucket === true;
  const scratch = join(layout.root, SCRATCH);
  // The ids of the steps this run took, in migrateSteps' order; up continues the log.
  const log = stepLog(out);
  const release = await lockAsRead(host, probe, { quayRoot: layout.root, record }, 'mreg storage migrate');
  let released = false;
  try {
    const bucket = await out.step(`object storage ${storageText(to)}`, () => checkObjectStorage(to, createBucket, flags.dryRun === true));
    if (bucket === 'created') out.info(`    created bucket ${to.bucket}`);
    if (bucket === 'missing') out.info(`    bucket ${to.bucket} does not exist; the migrate creates it (--s3CreateBucket)`);
    // Another registry's blobs under the prefix are refused as up refuses them; this install's own copy of a
    // run that stopped is not another's (the record names the prefix from before the first copy).
    if (bucket === 'found') await refuseForeignBlobs(to, record.migratingTo, '--to');
    log.did(S.objectStorage);
    const first = await out.step(`compare ${m.root} with the bucket`, () => planCopy(m.root, probe.scope, m.s3, to.prefix));
    log.did(S.compare);
    const counts = copyCounts(first);
    if (flags.dryRun) {
      const plan = migrateSteps({ from, to, root: m.root, scratch, record: layout.record, createBucket });
      if (out.json) out.resultJson({ dryRun: true, from: storageText(from), to: storageText(to), ...counts.json, plan });
      else out.result(`mreg storage migrate --dry-run: ${counts.summary}; nothing changed`);
      return;
    }
    out.info(`    ${counts.summary}`);
    const target = { bucket: to.bucket, prefix: to.prefix, endpoint: to.endpoint };
    if (JSON.stringify(record.migratingTo) !== JSON.stringify(target)) await host.files.write(layout.record, serializeRecord({ ...record, migratingTo: target }), 0o600);
    const ports = await host.actionPorts(probe);
    await copyBlobs({ out, did: log.did, who: probe, files: host.files, ports, m, scratch }, first);
    // The switch: the record names the bucket (and keeps the old place), and up renders config.yaml and
    // quay-app's unit from it, restarts quay-app only and waits for health.
    const { migratingTo: _copied, ...rest } = record;
    await host.files.write(layout.record, serializeRecord({ ...rest, spec: recordSpec(m.spec), migratedFrom: from }), 0o600);
    log.did(S.record);
    await ports.removeTree(scratch);
    await release();
    released = true;
    await up({ ...ctx, flags: { quayRoot: layout.root, verbose: flags.verbose, json: flags.json } }, { log });
    out.info(`mreg: blobs moved to ${storageText(to)}; the local copy stays in ${storageText(from)} until mreg storage migrate --cleanup`);
  } finally {
    if (!released) await release();
  }
}

/** The same migrate again after its record switched: the copy is done; the scratch folder goes and up starts Quay on the bucket. */
async function finishSwitch(ctx: CommandContext, probe: Identity, r: SwitchedAlready): Promise<void> {
  const { out, flags, host } = ctx;
  if (flags.dryRun) {
    out.result(`mreg storage migrate --dry-run: the blobs are in ${storageText(r.to)} already (an earlier run switched the install to it); a run would finish with mreg up; nothing changed`);
    return;
  }
  out.info(`mreg: the blobs are in ${storageText(r.to)} already (an earlier run switched the install to it); finishing with mreg up`);
  await up({ ...ctx, flags: { quayRoot: r.layout.root, verbose: flags.verbose, json: flags.json } }, { log: stepLog(out) });
  await (await host.actionPorts(probe)).removeTree(join(r.layout.root, SCRATCH));
}
