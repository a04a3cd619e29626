// --since FILE: the previous backup an incremental one builds on, checked to be of this install.
import type { HostPorts } from '../actions/ports.js';
import { UsageError } from '../errors.js';
import type { InstallRecord } from '../install-spec/record.js';
import { MANIFEST_MEMBER, parseManifest, type BackupManifest } from './manifest.js';

/** The manifest of the backup --since names (its first member: read without reading the archive through). */
export async function readSince(host: HostPorts, file: string | undefined, passphraseFile: string | undefined, record: InstallRecord, quayRoot: string): Promise<BackupManifest | undefined> {
  if (file === undefined) return undefined;
  if (!(await host.files.exists(file))) throw new UsageError(`--since ${file}: no such file; give the previous backup of this registry`);
  const text = await host.archive.readMemberText(await host.archive.source(file, passphraseFile), MANIFEST_MEMBER);
  const m = text === undefined ? 'it is not an mreg backup' : parseManifest(text);
  if (typeof m === 'string') throw new UsageError(`--since ${file}: ${m}; give the previous backup of this registry`);
  if (m.quayRoot !== quayRoot || m.scope !== record.spec.scope) {
    throw new UsageError(`--since ${file}: a backup of the ${m.scope} install at ${m.quayRoot}, not of this one (${record.spec.scope}, ${quayRoot})`, 'give a backup of this registry, or leave --since out for a full backup');
  }
  return m;
}
