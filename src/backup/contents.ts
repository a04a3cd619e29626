// What a backup holds, as its manifest says: the staged files hashed, the blobs it stores, and those an
// incremental one only names because a backup it builds on holds them.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstallRecord } from '../install-spec/record.js';
import { VERSION } from '../version.js';
import {
  BACKUP_FORMAT, BACKUP_FORMAT_VERSION, blobsOf, digestOfPath, DUMP_MEMBER, MANIFEST_MEMBER, SECRETS_MEMBER, serializeManifest,
  STORAGE_PREFIX, type BackupManifest, type ManifestFile,
} from './manifest.js';
import type { Staged } from './stage.js';

export interface Contents {
  manifest: BackupManifest;
  /** The blobs this archive stores. */
  stored: ManifestFile[];
  /** The blobs it names from the backups it builds on. */
  inherited: ManifestFile[];
  /** Of every file it stores. */
  bytes: number;
}

export async function listContents(staging: string, staged: Staged, record: InstallRecord, quayRoot: string, made: { now: Date; id: string; since?: BackupManifest }): Promise<Contents> {
  const { since } = made;
  // Incremental: a blob the previous backup (or the ones it builds on) holds is named, not stored again.
  const allBlobs = staged.capture.blobs.map(b => ({ path: `${STORAGE_PREFIX}${b.path}`, size: b.size, sha256: digestOfPath(b.path)! }));
  const had = since ? blobsOf(since) : new Map<string, ManifestFile>();
  const inherited = allBlobs.filter(b => had.get(b.path)?.sha256 === b.sha256);
  const stored = allBlobs.filter(b => had.get(b.path)?.sha256 !== b.sha256);
  const files: ManifestFile[] = [
    ...await Promise.all([DUMP_MEMBER, SECRETS_MEMBER, ...staged.quayRootFiles].map(p => hashFile(staging, p))),
    ...staged.capture.meta,
    ...stored,
  ];
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, createdAt: made.now.toISOString(), mregVersion: VERSION,
    scope: record.spec.scope, hostname: record.spec.hostname, port: record.spec.port, quayRoot,
    images: record.spec.images, ...(record.pgData ? { postgresMajor: record.pgData.major } : {}), id: made.id,
    ...(since ? { since: { id: since.id, createdAt: since.createdAt }, inherited } : {}), files,
  };
  return { manifest, stored, inherited, bytes: files.reduce((n, f) => n + f.size, 0) };
}

/** The manifest goes first into the archive: --since and restore read it without reading the rest. */
export async function writeManifest(staging: string, manifest: BackupManifest): Promise<void> {
  await writeFile(join(staging, MANIFEST_MEMBER), serializeManifest(manifest), { mode: 0o600 });
}

async function hashFile(dir: string, member: string): Promise<ManifestFile> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(join(dir, member))) { hash.update(chunk as Buffer); size += (chunk as Buffer).length; }
  return { path: member, size, sha256: hash.digest('hex') };
}
