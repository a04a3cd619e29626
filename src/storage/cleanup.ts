// mreg storage migrate --cleanup: deletes the local copy a finished migrate left, once every blob of it
// is in the bucket with its size. A folder goes back as mreg took it (down --purge's rule); one it did not make stays.
import type { Identity, Podman } from '../actions/ports.js';
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
      const missing = check.todo.flatMap(f => { const d = digestOfPath(f.path); return d ? [{ path: f.path, digest: `sha256:${d}` }] : []; });
      // Quay deletes a blob no image uses any more (its garbage collection, from the bucket since the move):
      // such a blob is not lost; one the database still names would be.
      const used = missing.length > 0 ? await blobsInUse(host.podman(), missing.map(m => m.digest)) : new Set<string>();
      const lost = missing.filter(m => used.has(m.digest));
      if (lost.length > 0) {
        throw new HostError(`${lost.length} blobs of ${storageText(from)} that Quay's database still names are not in ${storageText(to)} (e.g. ${lost[0]!.path}); nothing was deleted`,
          'run mreg storage migrate again with the same --to (a run that stopped before the switch copies them), then --cleanup');
      }
      if (missing.length > 0) out.info(`    ${missing.length} blobs of the local copy are not in the bucket and no image uses them any more (Quay deleted them since the move)`);
    }
    const taken = record.takenDirs?.find(d => from.kind === 'path' && d.path === from.path);
    const actions = from.kind === 'volume' ? [action({ kind: 'remove-volume', name: from.name }, 'delete the local copy')]
      : taken ? [action({ kind: 'give-back-dir', dir: taken, only: COMPONENTS.app.storage.writes }, 'delete the local copy')]
        : [action({ kind: 'keep', what: `${from.path} (mreg did not create it, so --cleanup leaves it)`, warn: true }, 'delete the local copy')];
    await executeActions(actions, await host.actionPorts(probe), { out });
    const { migratedFrom: _done, ...rest } = record;
    await host.files.write(layout.record, serializeRecord({ ...rest, takenDirs: record.takenDirs?.filter(d => d !== taken) }), 0o600);
    out.result(taken || from.kind === 'volume' ? `mreg: deleted the local copy in ${storageText(from)}; the blobs are in ${storageText(to)}`
      : `mreg: the blobs are in ${storageText(to)}; ${from.path} stays as it is (mreg did not create it): delete what you no longer need there yourself`);
  } finally {
    await release();
  }
}

/** The digests of `digests` that Quay's database still names (imagestorage.content_checksum), asked in quay-postgres. */
async function blobsInUse(podman: Podman, digests: readonly string[]): Promise<Set<string>> {
  const sql = `SELECT content_checksum FROM imagestorage WHERE content_checksum IN (${digests.map(d => `'${d}'`).join(', ')});\n`;
  try {
    const { stdout } = await podman.exec(COMPONENTS.postgres.podmanName, ['psql', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-tA', '--dbname=quay'], { input: sql });
    return new Set(stdout.split('\n').map(l => l.trim()).filter(Boolean));
  } catch (err) {
    throw new HostError(`blobs of the local copy are not in the bucket, and Quay's database could not say whether an image still uses them (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); nothing was deleted`,
      'start the registry (mreg up), then run mreg storage migrate --cleanup again');
  }
}
