// mreg storage migrate --cleanup: deletes the local copy a finished migrate left, once every blob of it
// is in the bucket with its size. A folder goes back as mreg took it (down --purge's rule); one it did not make stays.
import type { Identity } from '../actions/ports.js';
import { action } from '../actions/action.js';
import { executeActions } from '../actions/execute.js';
import { lockAsRead } from '../actions/lock-as-read.js';
import type { CommandContext } from '../cli.js';
import { HostError, UsageError } from '../errors.js';
import { planCopy } from '../apply/blob-migrate.js';
import { s3TargetOf, withS3Inputs } from '../apply/object-storage.js';
import { digestOfPath } from '../backup/manifest.js';
import { serializeRecord } from '../install-spec/record.js';
import type { ObjectStorage } from '../install-spec/spec.js';
import { COMPONENTS } from '../model/components.js';
import { storageText } from '../model/views.js';
import { flagSpelling } from '../options-table.js';

export async function cleanup(ctx: CommandContext, probe: Identity): Promise<void> {
  const { out, flags, host } = ctx;
  const look = host.inspect(probe);
  const mixed = ['to', 's3Endpoint', 's3CredentialsFile', 's3CaBundle', 's3CreateBucket', 'dryRun'].filter(k => flags[k] !== undefined && flags[k] !== false);
  if (mixed.length > 0) throw new UsageError(`--cleanup takes no ${mixed.map(flagSpelling).join(', ')}: it deletes the copy a finished migrate left`, 'run it alone: mreg storage migrate --cleanup');
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  const from = record.migratedFrom;
  if (!from || record.spec.quayStorage.kind !== 's3') throw new UsageError('there is no local copy to delete: this install was not moved by mreg storage migrate, or its copy is gone already');
  const spec = await withS3Inputs(record.spec);
  const to = spec.quayStorage as ObjectStorage;
  const s3 = await s3TargetOf(to);
  const release = await lockAsRead(host, probe, { quayRoot: layout.root, record }, 'mreg storage migrate --cleanup');
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
