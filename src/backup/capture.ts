// The storage half of a backup, taken after the database dump: the folders and small files copied at
// once, the blobs listed (tar reads them later), and a blob half written at the listing left out.
import { join } from 'node:path';
import type { Scope } from '../install-spec/spec.js';
import { hashFiles, hashTree, listStorage, snapshotPaths } from '../host/backup-tar.js';
import { inFlightCandidates, settleInFlight, type ListedBlob } from './in-flight.js';
import { digestOfPath } from './manifest.js';

export interface StorageCapture {
  /** Blob files to archive, relative to the storage root, with their sizes. */
  blobs: ListedBlob[];
  /** The copied folders and small files, as `storage/...` members with size and sha256. */
  meta: Array<{ path: string; size: number; sha256: string }>;
  /** Blobs left out: not yet their digest's content. */
  partial: ListedBlob[];
}

/** Copies the storage's metadata into `staging/storage` and lists its blobs; `dumpStartedMs` as in inFlightCandidates. */
export async function captureStorage(storageRoot: string, staging: string, scope: Scope, dumpStartedMs: number): Promise<StorageCapture> {
  const listing = await listStorage(storageRoot, scope);
  const listed = listing.files.filter(f => digestOfPath(f.path) !== undefined);
  const small = listing.files.filter(f => digestOfPath(f.path) === undefined).map(f => f.path);
  await snapshotPaths(storageRoot, [...listing.dirs, ...small], join(staging, 'storage'), scope, staging);
  const candidates = inFlightCandidates(listed, dumpStartedMs).map(b => b.path);
  const { kept, partial } = settleInFlight(listed, await hashFiles(storageRoot, candidates, scope, staging));
  return { blobs: kept, meta: await hashTree(staging, 'storage', scope), partial };
}
