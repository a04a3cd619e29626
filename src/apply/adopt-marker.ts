// The mark of an adopt (src/adopt/) between mirror-registry's stop and mreg's record. Killed there (Ctrl-C, a lost ssh
// session, a reboot), the old units are in the backup folder and mreg's have no record: adopt finds no
// mirror-registry and up finds units it did not make. The marker holds what putting mirror-registry back
// needs, beside the pointer (found without a quayRoot), so running adopt again can finish or undo it.
import { dirname } from 'node:path';
import { z } from 'zod';
import { HostError } from '../errors.js';
import { makeDirIfMissing, readIfExists, removeIfExists, writeFileAtomic } from '../host/fs.js';
import { storageSchema } from '../install-spec/record.js';
import type { Scope } from '../install-spec/spec.js';
import { adoptMarkerPath } from '../model/scope.js';
import type { PutBackState } from '../adopt/rollback.js';

const markerSchema = z.object({
  version: z.literal(1),
  startedAt: z.string(),
  /** mirror-registry's podman secrets (1.3.11), removed only once mreg's record is written. */
  legacySecrets: z.array(z.string()),
  putBack: z.object({
    scope: z.enum(['rootful', 'rootless']),
    hostname: z.string(),
    port: z.number().int(),
    quayRoot: z.string(),
    unitPaths: z.array(z.string()),
    written: z.array(z.string()),
    saved: z.array(z.object({ path: z.string(), content: z.string().optional(), mode: z.number().int() })),
    pgUser: z.string(),
    roleRenamed: z.boolean(),
    pgImage: z.string(),
    pgStorage: storageSchema,
    newCa: z.boolean(),
    relabel: z.boolean(),
    snapshot: z.object({ path: z.string(), fromImage: z.string(), toImage: z.string(), takenAt: z.string(), bytes: z.number() }).optional(),
  }),
});

export type AdoptMarker = z.infer<typeof markerSchema>;

/** Written before mirror-registry stops; it holds config.yaml as it was (its keys): 0600. */
export async function writeAdoptMarker(scope: Scope, home: string, putBack: PutBackState, legacySecrets: readonly string[], now: Date): Promise<void> {
  const file = adoptMarkerPath(scope, home);
  const marker: AdoptMarker = { version: 1, startedAt: now.toISOString(), legacySecrets: [...legacySecrets], putBack };
  await makeDirIfMissing(dirname(file), 0o755);
  await writeFileAtomic(file, `${JSON.stringify(marker, null, 2)}\n`, 0o600);
}

export async function readAdoptMarker(scope: Scope, home: string): Promise<AdoptMarker | undefined> {
  const file = adoptMarkerPath(scope, home);
  const text = await readIfExists(file);
  return text === undefined ? undefined : parseAdoptMarker(text, file);
}

export function parseAdoptMarker(text: string, file: string): AdoptMarker {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  const m = markerSchema.safeParse(parsed);
  if (!m.success) {
    throw new HostError(`${file} is not a marker this mreg can read (an interrupted mreg adopt wrote it)`,
      'the old units, config.yaml and TLS files are in QUAYROOT/mirror-registry-units.bak: put them back by hand, then remove this file');
  }
  return m.data;
}

export async function removeAdoptMarker(scope: Scope, home: string): Promise<void> {
  await removeIfExists(adoptMarkerPath(scope, home));
}

/** The hint for up, status and the other commands that find mreg's units without a record while a marker is there. */
export function interruptedAdoptHint(m: AdoptMarker): string {
  return `an mreg adopt of ${m.putBack.quayRoot} was interrupted (started ${m.startedAt}): run mreg adopt again; it puts mirror-registry back first, then adopts`;
}

/**
 * The adopt wrote its record: the record's createdAt is the marker's startedAt (both the run's clock). A record
 * `mreg down` removed since still counts, so a later adopt never undoes an adopt that succeeded.
 */
export function finished(m: AdoptMarker, found: { record: { createdAt: string; removedAt?: string } } | undefined): boolean {
  return found !== undefined && (!found.record.removedAt || found.record.createdAt >= m.startedAt);
}
