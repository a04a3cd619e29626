// Blobs written while a backup runs. Quay (storage/local.py put_content/stream_write) and distribution
// (PutContent) write some blobs straight to their final path, so the listing can catch one half written:
// a 0-byte manifest whose tar copy, a moment later, is whole. Such a blob was finished after the database
// dump began, so the dump does not refer to it and the backup can leave it out. Which blobs those are is
// settled by content (the digest in the name), not by clock: the clock only picks which ones to read.
import { digestOfPath } from './manifest.js';

export interface ListedBlob { path: string; size: number; mtimeMs: number }

/** Margin before the dump's start within which a blob is read again: a writer that paused, a coarse clock. */
export const IN_FLIGHT_MARGIN_MS = 60_000;

/** Blobs modified after `dumpStartedMs` less the margin, and empty files named for a non-empty digest. */
export function inFlightCandidates(blobs: readonly ListedBlob[], dumpStartedMs: number): ListedBlob[] {
  return blobs.filter(b => b.mtimeMs >= dumpStartedMs - IN_FLIGHT_MARGIN_MS || (b.size === 0 && digestOfPath(b.path) !== EMPTY_SHA256));
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface Settled<T extends ListedBlob> {
  /** The listing with each whole candidate's size as read after its hash. */
  kept: T[];
  /** Candidates whose content is not (yet) their digest. */
  partial: T[];
}

/**
 * Candidates whose hash is their digest are kept with the size read after it; those whose hash differs are
 * left out. One that is gone stays listed: tar then fails on it, as on any blob deleted while the backup runs.
 */
export function settleInFlight<T extends ListedBlob>(blobs: readonly T[], hashed: ReadonlyArray<{ path: string; size: number; sha256: string }>): Settled<T> {
  const byPath = new Map(hashed.map(h => [h.path, h]));
  const kept: T[] = [];
  const partial: T[] = [];
  for (const b of blobs) {
    const h = byPath.get(b.path);
    if (h === undefined) kept.push(b);
    else if (h.sha256 === digestOfPath(b.path)) kept.push({ ...b, size: h.size });
    else partial.push(b);
  }
  return { kept, partial };
}
