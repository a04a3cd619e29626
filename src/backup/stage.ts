// What a backup gathers in its staging folder under the lock, in its order: the database dump with the
// install's files and secrets, then the storage listing. Listed after the dump, the storage holds every
// blob the dump refers to (Quay never deletes a referenced blob: garbage collection waits out the time machine).
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { FilePorts, HostPorts, Identity, InspectPorts } from '../actions/ports.js';
import { HostError } from '../errors.js';
import { PG_DATABASE } from '../install-spec/defaults.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import { COMPONENTS } from '../model/components.js';
import { ALL_SECRET_NAMES, storageText } from '../model/views.js';
import { BACKUP_STEP as S } from '../plan/backup-steps.js';
import type { Output } from '../ui/output.js';
import type { StepLog } from '../ui/step-log.js';
import type { StorageCapture } from './capture.js';
import { DUMP_MEMBER, QUAY_ROOT_PREFIX, SECRETS_MEMBER } from './manifest.js';

/** What backup's steps under the lock share. */
export interface BackupRun {
  out: Output;
  did: StepLog['did'];
  host: HostPorts;
  look: InspectPorts;
  who: Identity;
  layout: QuayRootLayout;
  record: InstallRecord;
  staging: string;
}

export interface Staged {
  /** The quay-root/ members copied. */
  quayRootFiles: string[];
  storageRoot: string;
  capture: StorageCapture;
}

export async function stage(run: BackupRun): Promise<Staged> {
  const { out, host, look, record, staging, who } = run;
  // A killed earlier run leaves this behind (and writeComplete its partial file).
  await host.archive.removeStaging(staging, who.scope);
  await mkdir(staging, { mode: 0o700 });
  const podman = host.podman();
  // The dump, the install's files and secrets, and finding the storage are independent: at once.
  const dumpStartedMs = Date.now();
  const [, quayRootFiles, storageRoot] = await out.step('database dump (pg_dump in quay-postgres), install files and secrets', () => Promise.all([
    podman.execToFile(COMPONENTS.postgres.podmanName, ['pg_dump', '--format=custom', `--dbname=${PG_DATABASE}`], join(staging, DUMP_MEMBER)),
    (async () => {
      const values = await podman.secretValues(ALL_SECRET_NAMES);
      const missing = ALL_SECRET_NAMES.filter(n => !values.has(n));
      if (missing.length > 0) throw new HostError(`podman secrets missing: ${missing.join(', ')}`, 'run mreg up to repair the install, then mreg backup');
      await writeFile(join(staging, SECRETS_MEMBER), `${JSON.stringify(Object.fromEntries(values), null, 1)}\n`, { mode: 0o600 });
      return copyQuayRoot(host.files, run.layout, join(staging, QUAY_ROOT_PREFIX));
    })(),
    // An object store keeps its blobs: the backup holds the rest, and an empty storage tree.
    record.spec.quayStorage.kind === 's3'
      ? mkdir(join(staging, 'object-storage'), { mode: 0o700 }).then(() => join(staging, 'object-storage'))
      : look.storagePath(record.spec.quayStorage, 'the blob storage'),
  ]));
  run.did(S.dump, S.installFiles);
  if (record.spec.quayStorage.kind === 's3') {
    out.info(`    blobs not included: they stay in ${storageText(record.spec.quayStorage)}; protect them with the object store's own versioning or replication`);
  }
  // Listed only now, after the dump: every blob the dump refers to is in the listing.
  const capture = await out.step(`storage ${storageRoot}`, async () => {
    const c = await host.archive.captureStorage(storageRoot, staging, who.scope, dumpStartedMs);
    if (c.partial.length > 0) out.info(`    left out ${c.partial.length} blob${c.partial.length === 1 ? '' : 's'} still being written (pushed after the database dump began, so it does not refer to them)`);
    return c;
  });
  run.did(S.storage);
  return { quayRootFiles, storageRoot, capture };
}

/** The quayRoot files a restore needs, copied with their modes; returns their member names. */
async function copyQuayRoot(files: FilePorts, layout: QuayRootLayout, dest: string): Promise<string[]> {
  const names: string[] = [];
  for (const file of [layout.record, layout.configYaml, layout.sslCert, layout.sslKey, layout.caCert, layout.caKey, layout.credentials]) {
    if (!(await files.exists(file))) continue;
    const rel = relative(layout.root, file);
    await mkdir(dirname(join(dest, rel)), { recursive: true, mode: 0o700 });
    await copyFile(file, join(dest, rel));
    names.push(`${QUAY_ROOT_PREFIX}${rel}`);
  }
  return names;
}
