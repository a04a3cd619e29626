// restore's flags, each checked before the archive is read: bad input is one line and nothing read.
import { resolve } from 'node:path';
import type { HostProbe } from '../actions/ports.js';
import type { CommandContext } from '../cli.js';
import { UsageError } from '../errors.js';
import { imageArchiveProblem } from '../apply/image-archive.js';
import { readPassphraseFlag } from '../backup/passphrase.js';
import { stringFlag } from '../install-spec/flags.js';
import { parseQuayRootFlag, parseS3FileFlags, parseStorageFlag, parseUpOptions } from '../install-spec/options.js';
import type { Storage } from '../install-spec/spec.js';

export interface RestoreFlags {
  /** A chain: the full backup first, then each incremental one in order; the last is the state restored. */
  archives: string[];
  hostname?: string;
  quayRoot?: string;
  quayStorage?: Storage;
  pgStorage?: Storage;
  s3Files: { credentialsFile?: string; caBundle?: string };
  passphraseFile?: string;
  imageArchive?: string;
}

/** The flags, and the host probed once (its scope and home are the flags' defaults). */
export async function readRestoreFlags(ctx: CommandContext): Promise<{ probe: HostProbe; f: RestoreFlags }> {
  const { flags, args, host } = ctx;
  if (!args[0]) throw new UsageError('mreg restore needs the backup file: mreg restore FILE', 'see: mreg restore --help');
  const archives = args.map(a => resolve(a));
  const hostname = stringFlag(flags, 'quayHostname', 'restore');
  const probe = await host.probe();
  const env = { scope: probe.scope, fqdn: probe.fqdn, home: probe.home };
  const quayRoot = flags.quayRoot !== undefined ? parseQuayRootFlag(flags.quayRoot, env) : undefined;
  const quayStorage = flags.quayStorage !== undefined ? parseStorageFlag('quayStorage', flags.quayStorage, env) : undefined;
  const pgStorage = flags.pgStorage !== undefined ? parseStorageFlag('pgStorage', flags.pgStorage, env) : undefined;
  if (hostname !== undefined) parseUpOptions({ quayHostname: hostname }, env); // up's rules, before anything is read
  const s3Files = parseS3FileFlags({ s3CredentialsFile: stringFlag(flags, 's3CredentialsFile', 'restore'), s3CaBundle: stringFlag(flags, 's3CaBundle', 'restore') }, env);
  const passphraseFile = await readPassphraseFlag(flags, 'restore');
  const imageArchive = stringFlag(flags, 'imageArchive', 'restore');
  const archiveProblem = imageArchive === undefined ? undefined : await imageArchiveProblem(imageArchive);
  if (archiveProblem) throw new UsageError(archiveProblem);
  return { probe, f: { archives, hostname, quayRoot, quayStorage, pgStorage, s3Files, passphraseFile, imageArchive } };
}
