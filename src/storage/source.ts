// What storage migrate moves, and where to: the install (not removed, not in object storage already),
// its local blob store, and the bucket --to names with its key pair read in.
import type { Identity } from '../actions/ports.js';
import type { CommandContext } from '../cli.js';
import { HostError, UsageError } from '../errors.js';
import { s3TargetOf, withS3Inputs } from '../apply/object-storage.js';
import type { S3Target } from '../host/s3.js';
import { stringFlag } from '../install-spec/flags.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { parseMigrateTarget } from '../install-spec/options.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { InstallSpec, ObjectStorage, QuayStorage } from '../install-spec/spec.js';
import { storageText } from '../model/views.js';

export interface Migration {
  layout: QuayRootLayout;
  record: InstallRecord;
  from: Exclude<QuayStorage, ObjectStorage>;
  /** The recorded inputs with the bucket as the blob storage. */
  spec: InstallSpec;
  to: ObjectStorage;
  s3: S3Target;
  /** The local store's folder. */
  root: string;
}

/** A run killed (or whose up failed) after the switch of the record: the blobs are in the bucket, Quay may not run on it yet. */
export interface SwitchedAlready { finish: true; layout: QuayRootLayout; to: ObjectStorage }

export async function readMigration(ctx: CommandContext, probe: Identity): Promise<Migration | SwitchedAlready> {
  const { flags, host } = ctx;
  const str = (k: string) => stringFlag(flags, k, 'storage');
  const target = parseMigrateTarget({ to: str('to'), s3Endpoint: str('s3Endpoint'), s3CredentialsFile: str('s3CredentialsFile'), s3CaBundle: str('s3CaBundle') },
    { scope: probe.scope, fqdn: '', home: probe.home });
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  if (record.removedAt) throw new HostError(`the registry at ${layout.root} was removed by mreg down on ${record.removedAt}`, 'run mreg up first (its data was kept), then migrate');
  const from = record.spec.quayStorage;
  if (from.kind === 's3') {
    // The same --to again after the record switched: what is left is up's (the man page: run the same command again).
    const same = from.bucket === target.bucket && from.prefix === target.prefix && from.endpoint === target.endpoint;
    if (same && record.migratedFrom) return { finish: true, layout, to: from };
    throw new UsageError(`this install keeps its blobs in ${storageText(from)} already`,
      record.migratedFrom ? 'nothing to move; if Quay is not running on it, run mreg up' : 'nothing to move');
  }
  const spec = await withS3Inputs({ ...record.spec, quayStorage: target });
  const to = spec.quayStorage as ObjectStorage;
  const s3 = await s3TargetOf(to);
  const root = await host.inspect(probe).storagePath(from, 'the blob storage');
  return { layout, record, from, spec, to, s3, root };
}
