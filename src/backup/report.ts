// What backup prints once the archive is written, and what status reads of it afterwards.
import type { FilePorts } from '../actions/ports.js';
import type { Output } from '../ui/output.js';
import { sizeText } from '../ui/bytes.js';
import type { Contents } from './contents.js';
import { lastBackupPath, type LastBackup } from './last.js';

/** Writes last-backup.json into quayRoot (mreg status shows it); returns what it wrote. */
export async function recordLastBackup(files: FilePorts, quayRoot: string, output: string, c: Contents): Promise<LastBackup> {
  const { since } = c.manifest;
  const last: LastBackup = {
    at: c.manifest.createdAt, file: output, bytes: c.bytes, files: c.manifest.files.length, blobs: c.stored.length,
    ...(since ? { since: since.createdAt, inheritedBlobs: c.inherited.length } : {}),
  };
  await files.write(lastBackupPath(quayRoot), `${JSON.stringify(last, null, 1)}\n`, 0o600);
  return last;
}

export function reportBackup(out: Output, last: LastBackup, r: { durationMs: number; blobsLeftOut: number; steps: readonly string[] }): void {
  const { file: output, bytes } = last;
  const line = `backup written: ${output === '-' ? 'stdout' : output} (${sizeText(bytes)}, ${last.files} files, ${last.blobs} blobs${last.since ? `; ${last.inheritedBlobs} more in the backups since ${last.since} builds on` : ''}) in ${(r.durationMs / 1000).toFixed(1)} s`;
  // Streamed: stdout is the archive, so the result goes to stderr.
  if (output === '-') return out.info(line);
  if (out.json) return out.resultJson({ ...last, durationMs: r.durationMs, blobsLeftOut: r.blobsLeftOut, steps: r.steps });
  out.result(line);
}
