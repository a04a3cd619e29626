// What restore writes into quayRoot besides the backup's files: the install record for this host, and
// the marker that lets an interrupted restore of the same backup resume.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { TakenDir } from '../install-spec/taken-dirs.js';

/** Written before restore's first change, removed when it is done: a rerun of the same restore resumes. */
export function markerPath(quayRoot: string): string {
  return join(quayRoot, 'restore-in-progress.json');
}

/**
 * What a restore writes before its first change: the backup's id and the folders it took, the archives it
 * was given (for the hint that resumes it), and, once the database is back, `dataRestored`.
 */
export interface RestoreMarker { id: string; taken: TakenDir[]; archives?: string[]; dataRestored?: boolean }

export function parseMarker(text: string | undefined): RestoreMarker | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<RestoreMarker>;
    if (typeof v.id !== 'string' || !Array.isArray(v.taken)) return undefined;
    return { id: v.id, taken: v.taken, ...(Array.isArray(v.archives) ? { archives: v.archives.map(String) } : {}), ...(v.dataRestored === true ? { dataRestored: true } : {}) };
  } catch { return undefined; }
}

export function markerText(m: RestoreMarker): string {
  return `${JSON.stringify(m)}\n`;
}

export async function readMarker(quayRoot: string): Promise<RestoreMarker | undefined> {
  return parseMarker(await readFile(markerPath(quayRoot), 'utf8').catch(() => undefined));
}

/**
 * Why nothing but the same restore may run on `quayRoot`: a restore stopped before the database was back
 * (its record says "removed, data kept", which is not so yet). An up would start Quay on an empty or
 * partial database and drop the marker; undefined when there is no such marker.
 */
export function unfinishedRestoreProblem(markerTextOnDisk: string | undefined, quayRoot: string): { message: string; hint: string } | undefined {
  const m = parseMarker(markerTextOnDisk);
  if (!m || m.dataRestored) return undefined;
  const again = m.archives?.length ? `mreg restore ${m.archives.join(' ')}` : 'the same mreg restore';
  return {
    message: `a restore into ${quayRoot} did not finish: the registry's database and blobs are not all back`,
    hint: `run ${again} again (with the same flags): it resumes; nothing was changed`,
  };
}

/** The backed-up record as one `mreg down` (no purge) leaves: up then installs it again over the data. */
export function restoredRecord(r: InstallRecord, scope: InstallRecord['spec']['scope'], quayRoot: string, taken: TakenDir[], now: Date): InstallRecord {
  const { imageArchive: _archive, ...spec } = r.spec;
  const layout = quayRootLayout(quayRoot);
  return {
    schemaVersion: r.schemaVersion, mregVersion: r.mregVersion, createdAt: r.createdAt, updatedAt: now.toISOString(),
    spec: { ...spec, scope, quayRoot },
    // Only what this host has now: unit files of the backed-up host may be another scope's.
    files: [layout.record, layout.configYaml, layout.sslCert, layout.sslKey, layout.caCert, layout.caKey, layout.credentials],
    secrets: r.secrets, volumes: [], lingerEnabledByMreg: false, takenDirs: taken, removedAt: now.toISOString(),
  };
}
