// mreg storage migrate --to s3://…: moves an install's blobs from its volume or bind folder into a bucket.
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HostError, UnitFailedError, UsageError } from '../errors.js';
import { checkObjectStorage, s3TargetOf, withS3Inputs } from '../apply/object-storage.js';
import { copyFiles, planCopy, type CopyResult } from '../apply/blob-migrate.js';
import type { Identity } from '../actions/ports.js';
import { digestOfPath } from '../backup/manifest.js';
import { action } from '../actions/action.js';
import { executeActions } from '../actions/execute.js';
import { COMPONENTS } from '../model/components.js';
import { storageText, UNITS } from '../model/views.js';
import { parseMigrateTarget } from '../install-spec/options.js';
import { recordSpec, serializeRecord } from '../install-spec/record.js';
import type { ObjectStorage } from '../install-spec/spec.js';
import { stringFlag } from './common.js';
import { up } from './up.js';

/**
 * --cleanup: deletes the local copy a finished migrate left, once every blob of it is in the bucket with
 * its size. A folder goes back as mreg took it (down --purge's rule); one it did not make stays.
 */
async function cleanup(ctx: CommandContext, probe: Identity): Promise<void> {
  const { out, flags, host } = ctx;
  const look = host.inspect(probe);
  const mixed = ['to', 's3Endpoint', 's3CredentialsFile', 's3CaBundle', 's3CreateBucket', 'dryRun'].filter(k => flags[k] !== undefined && flags[k] !== false);
  if (mixed.length > 0) throw new UsageError(`--cleanup takes no ${mixed.map(k => `--${k}`).join(', ')}: it deletes the copy a finished migrate left`, 'run it alone: mreg storage migrate --cleanup');
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  const from = record.migratedFrom;
  if (!from || record.spec.quayStorage.kind !== 's3') throw new UsageError('there is no local copy to delete: this install was not moved by mreg storage migrate, or its copy is gone already');
  const spec = await withS3Inputs(record.spec);
  const to = spec.quayStorage as ObjectStorage;
  const s3 = await s3TargetOf(to);
  const release = await host.lock(probe);
  try {
    const root = from.kind === 'volume' ? (await look.volumeMountpoints([from.name])).get(from.name) : from.path;
    if (root && await look.exists(root)) {
      // Only what a blob is: the other files (tag links) were copied in the last pass and Quay has moved on since.
      const check = await out.step(`check that every blob of ${storageText(from)} is in the bucket`, () => planCopy(root, probe.scope, s3, to.prefix));
      const missing = check.todo.filter(f => digestOfPath(f.path) !== undefined);
      if (missing.length > 0) {
        throw new HostError(`${missing.length} blobs of ${storageText(from)} are not in ${storageText(to)} (e.g. ${missing[0]!.path}); nothing was deleted`,
          'run mreg storage migrate again with the same --to before --cleanup');
      }
    }
    const taken = record.takenDirs?.find(d => from.kind === 'path' && d.path === from.path);
    const actions = from.kind === 'volume' ? [action({ kind: 'remove-volume', name: from.name }, 'delete the local copy')]
      : taken ? [action({ kind: 'give-back-dir', dir: taken, only: COMPONENTS.app.storage.writes }, 'delete the local copy')]
        : [action({ kind: 'keep', what: `${from.path} (mreg did not create it, so --cleanup leaves it)`, warn: true }, 'delete the local copy')];
    await executeActions(actions, await host.actionPorts(probe), { out });
    const { migratedFrom: _done, ...rest } = record;
    await host.files.write(layout.record, serializeRecord({ ...rest, takenDirs: record.takenDirs?.filter(d => d !== taken) }), 0o600);
    out.result(`mreg: deleted the local copy in ${storageText(from)}; the blobs are in ${storageText(to)}`);
  } finally {
    await release();
  }
}

const mib = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`;

export async function storage(ctx: CommandContext): Promise<void> {
  const { out, flags, args, host } = ctx;
  if (args[0] !== 'migrate') {
    throw new UsageError(args[0] === undefined ? 'mreg storage needs an action: migrate' : `unknown storage action "${args[0]}": the action is migrate`, 'see: mreg storage --help, man mreg-storage');
  }
  if (args.length > 1) throw new UsageError(`mreg storage migrate takes no further arguments (got "${args.slice(1).join(' ')}")`);
  const probe = host.identify();
  const look = host.inspect(probe);
  if (flags.cleanup) return cleanup(ctx, probe);
  const str = (k: string) => stringFlag(flags, k, 'storage');
  const target = parseMigrateTarget({ to: str('to'), s3Endpoint: str('s3Endpoint'), s3CredentialsFile: str('s3CredentialsFile'), s3CaBundle: str('s3CaBundle') },
    { scope: probe.scope, fqdn: '', home: probe.home });
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  if (record.removedAt) throw new HostError(`the registry at ${layout.root} was removed by mreg down on ${record.removedAt}`, 'run mreg up first (its data was kept), then migrate');
  const from = record.spec.quayStorage;
  if (from.kind === 's3') throw new UsageError(`this install keeps its blobs in ${storageText(from)} already`, 'nothing to move');
  const spec = await withS3Inputs({ ...record.spec, quayStorage: target });
  const to = spec.quayStorage as ObjectStorage;
  const s3 = await s3TargetOf(to);
  const root = await look.storagePath(from, 'the blob storage');

  const release = await host.lock(probe);
  let released = false;
  const scratch = join(layout.root, 'migrate-scratch');
  try {
    await out.step(`object storage ${storageText(to)}`, () => checkObjectStorage(to, flags.s3CreateBucket === true));
    const first = await out.step(`compare ${root} with the bucket`, () => planCopy(root, probe.scope, s3, to.prefix));
    const size = (fs: readonly { size: number }[]) => fs.reduce((n, f) => n + f.size, 0);
    const already = first.files.length - first.todo.length;
    const summary = `${first.todo.length} files (${mib(size(first.todo))}) to copy of ${first.files.length} (${mib(size(first.files))}); ${already} blobs already in the bucket`;
    if (flags.dryRun) {
      if (out.json) out.resultJson({ dryRun: true, from: storageText(from), to: storageText(to), files: first.files.length, bytes: size(first.files), toCopy: first.todo.length, bytesToCopy: size(first.todo) });
      else out.result(`mreg storage migrate --dry-run: ${summary}; nothing changed`);
      return;
    }
    out.info(`    ${summary}`);
    const { systemd, removeTree } = await host.actionPorts(probe);
    await removeTree(scratch);
    await host.files.makeDir(scratch, 0o700);
    const started = Date.now();
    let last = 0;
    const progress = (r: CopyResult) => { if (Date.now() - last > 5000) { last = Date.now(); out.info(`    copied ${r.files} files, ${mib(r.bytes)}`); } };
    // While the registry serves: pulls go on from the local copy, and pushes land there too.
    const copied = await out.step('copy the blobs (the registry keeps serving)', () => copyFiles(root, probe.scope, s3, to.prefix, first.todo, scratch, progress));
    // Only Quay writes blobs: with it stopped, what was pushed meanwhile (and the tag links) goes over last.
    const stopped = await out.step('stop quay-app for the last pass', () => systemd.stopUnit(UNITS.app));
    if (stopped !== 'done' && stopped !== 'skipped') throw new UnitFailedError(UNITS.app, stopped, [], 'run mreg storage migrate again: it resumes');
    try {
      const rest = await out.step('copy what changed meanwhile', async () => {
        const again = await planCopy(root, probe.scope, s3, to.prefix);
        return copyFiles(root, probe.scope, s3, to.prefix, again.todo, scratch, progress);
      });
      copied.files += rest.files;
      copied.bytes += rest.bytes;
    } catch (err) {
      await systemd.startUnit(UNITS.app).catch(() => undefined); // the old config still points at the local copy
      throw err;
    }
    const seconds = (Date.now() - started) / 1000;
    out.info(`    copied ${copied.files} files, ${mib(copied.bytes)} in ${seconds.toFixed(1)} s (${mib(copied.bytes / Math.max(seconds, 0.001))}/s)`);
    // The switch: the record names the bucket (and keeps the old place), and up renders config.yaml and
    // quay-app's unit from it, restarts quay-app only and waits for health.
    await host.files.write(layout.record, serializeRecord({ ...record, spec: recordSpec(spec), migratedFrom: from }), 0o600);
    await removeTree(scratch);
    await release();
    released = true;
    await up({ ...ctx, flags: { quayRoot: layout.root, verbose: flags.verbose, json: flags.json } });
    out.info(`mreg: blobs moved to ${storageText(to)}; the local copy stays in ${storageText(from)} until mreg storage migrate --cleanup`);
  } finally {
    if (!released) await release();
  }
}
