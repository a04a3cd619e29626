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

export async function readMarker(quayRoot: string): Promise<{ id: string; taken: TakenDir[] } | undefined> {
  try {
    const v = JSON.parse(await readFile(markerPath(quayRoot), 'utf8')) as { id?: unknown; taken?: unknown };
    return typeof v.id === 'string' && Array.isArray(v.taken) ? { id: v.id, taken: v.taken as TakenDir[] } : undefined;
  } catch { return undefined; }
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
