// The backups to restore, read through and checked before anything else: each against its manifest,
// the chain as a whole (planChain), then the small members of the last one into a scratch folder.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveSource } from '../actions/ports.js';
import { UsageError } from '../errors.js';
import { damagedBlobsText, planChain, QUAY_ROOT_PREFIX, RESTORE_MEMBERS, type BackupManifest } from '../backup/manifest.js';
import { parseRecord, type InstallRecord } from '../install-spec/record.js';
import { RESTORE_STEP as S } from '../plan/restore-steps.js';
import type { RestoreRun } from './run.js';

export interface Chain {
  source: (file: string) => ArchiveSource;
  /** The last backup's manifest: the state restored. */
  manifest: BackupManifest;
  /** Its file count, as verify read it. */
  files: number;
  /** How many backups the chain has. */
  length: number;
  /** Each earlier backup's file, with the blobs restored from it. */
  blobsFrom: Map<string, string[]>;
}

export async function verifyChain(run: RestoreRun, archives: readonly string[], passphraseFile: string | undefined): Promise<Chain> {
  const { out, host } = run;
  const sources = new Map<string, ArchiveSource>();
  for (const file of archives) sources.set(file, await host.archive.source(file, passphraseFile));
  const source = (file: string) => sources.get(file)!;
  const chain = [];
  for (const file of archives) {
    const verified = await out.step(`verify ${file}`, () => host.archive.verify(source(file)));
    if (verified.damagedBlobs.length > 0) out.warn(`${damagedBlobsText(file, verified.damagedBlobs)}; restored as they are`);
    chain.push({ file, ...verified });
    run.log.did(S.verify(file));
  }
  const planned = planChain(chain);
  if (Array.isArray(planned)) throw new UsageError(planned, 'give the full backup first, then each incremental one in the order they were made; nothing was changed');
  const last = chain[chain.length - 1]!;
  return { source, manifest: last.manifest, files: last.files, length: chain.length, blobsFrom: planned.blobsFrom };
}

/** The last backup's small members into `work`; resolves with the install record they hold. */
export async function readBackedUpRecord(run: RestoreRun, src: ArchiveSource, archive: string, work: string): Promise<InstallRecord> {
  await run.host.archive.extractSmallMembers(src, work, RESTORE_MEMBERS);
  return parseRecord(await readFile(join(work, QUAY_ROOT_PREFIX, 'mreg-install.json'), 'utf8'), `${archive}: ${QUAY_ROOT_PREFIX}mreg-install.json`);
}
