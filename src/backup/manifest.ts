// The backup archive's table of contents, and the checks of an archive against it. Pure.
// Layout (one uncompressed POSIX tar, documented in mreg-backup(1)):
//   manifest.json      this file, first member
//   database.dump      pg_dump --format=custom of Quay's database
//   secrets.json       the podman secret values the install runs with
//   quay-root/...      config.yaml, ssl.cert/ssl.key, the CA, credentials, the install record
//   storage/...        the blob storage tree, owners and modes as the containers see them
import { z } from 'zod';

export const BACKUP_FORMAT = 'mreg-backup';
export const BACKUP_FORMAT_VERSION = 1;
export const MANIFEST_MEMBER = 'manifest.json';
export const DUMP_MEMBER = 'database.dump';
export const SECRETS_MEMBER = 'secrets.json';
export const QUAY_ROOT_PREFIX = 'quay-root/';
export const STORAGE_PREFIX = 'storage/';
/** What restore takes from the head of the archive (everything before the storage tree but the manifest). */
export const RESTORE_MEMBERS = [DUMP_MEMBER, SECRETS_MEMBER, QUAY_ROOT_PREFIX.slice(0, -1)] as const;

const member = z.object({ path: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: z.number().int(),
  createdAt: z.string(),
  mregVersion: z.string(),
  scope: z.enum(['rootful', 'rootless']),
  hostname: z.string(),
  port: z.number().int(),
  quayRoot: z.string(),
  images: z.object({ quay: z.string(), postgres: z.string(), redis: z.string() }),
  /** The server's PostgreSQL major when the dump was taken (pg_restore needs the same or newer). */
  postgresMajor: z.string().optional(),
  /** Names this backup; an incremental one names the backup it builds on by it. */
  id: z.string(),
  /** Set on an incremental backup (--since): the backup whose blobs it does not repeat. */
  since: z.object({ id: z.string(), createdAt: z.string() }).optional(),
  /** Every regular file of the archive but the manifest. */
  files: z.array(member),
  /** Blobs the storage held that are in the backups this one builds on, not in this archive. */
  inherited: z.array(member).optional(),
});

export type BackupManifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof member>;

/** Blob files are named by their digest: Quay's `sha256/ab/<hex>`, distribution's `sha256/ab/<hex>/data`. */
const DIGEST_PATH_RE = /(?:^|\/)sha256\/([0-9a-f]{2})\/([0-9a-f]{64})(?:\/data)?$/;

/** The sha256 a storage file's path names (its content must hash to it), or undefined for other files. */
export function digestOfPath(path: string): string | undefined {
  const m = DIGEST_PATH_RE.exec(path);
  return m && m[2]!.startsWith(m[1]!) ? m[2] : undefined;
}

export function serializeManifest(m: BackupManifest): string {
  return `${JSON.stringify(m, null, 1)}\n`;
}

/** Parses manifest.json; a string problem when it is not an mreg backup this mreg can read. */
export function parseManifest(text: string): BackupManifest | string {
  let data: unknown;
  try { data = JSON.parse(text); } catch { return 'manifest.json is not valid JSON'; }
  const d = data as { format?: unknown; formatVersion?: unknown };
  if (d?.format !== BACKUP_FORMAT) return 'manifest.json does not describe an mreg backup';
  if (typeof d.formatVersion === 'number' && d.formatVersion > BACKUP_FORMAT_VERSION) {
    return `the backup has format version ${d.formatVersion}, newer than this mreg reads (${BACKUP_FORMAT_VERSION}); use a newer mreg`;
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return `manifest.json is damaged (${first?.path.join('.') || 'root'}: ${first?.message ?? 'invalid'})`;
  }
  return parsed.data;
}

/** One regular file as read back from the archive. */
export interface ReadMember { path: string; size: number; sha256: string }

/**
 * Every problem of an archive against its manifest: the manifest first, each listed file present once
 * with its size and sha256, blobs matching the digest in their name, nothing unlisted, the dump there.
 * Apart from the problems: blobs of the manifest's size whose content is not their digest. backup takes
 * a blob's checksum from its name (blobs are content-addressed), so one already damaged in the registry
 * (a write cut short under its final name, a failing disk), or in the archive since, shows so; the
 * registry held it so, and the rest of the archive restores.
 */
export function checkArchive(manifest: BackupManifest, read: readonly ReadMember[], firstMember: string | undefined): { problems: string[]; damagedBlobs: string[] } {
  const problems: string[] = [];
  const damagedBlobs: string[] = [];
  const listed = new Map(manifest.files.map(f => [f.path, f]));
  if (firstMember !== MANIFEST_MEMBER) problems.push(`the first member is ${firstMember ?? 'missing'}, not ${MANIFEST_MEMBER}`);
  const seen = new Map<string, ReadMember>();
  for (const r of read) {
    if (r.path === MANIFEST_MEMBER) continue;
    if (seen.has(r.path)) problems.push(`${r.path} is in the archive twice`);
    seen.set(r.path, r);
    const digest = digestOfPath(r.path);
    if (digest !== undefined && digest !== r.sha256) {
      if (listed.get(r.path)?.size === r.size && listed.get(r.path)?.sha256 === digest) damagedBlobs.push(r.path);
      else problems.push(`${r.path}: content does not match the digest in its name`);
    }
  }
  for (const f of manifest.files) {
    const r = seen.get(f.path);
    if (!r) { problems.push(`${f.path} is missing`); continue; }
    seen.delete(f.path);
    if (r.size !== f.size) problems.push(`${f.path}: ${r.size} bytes, the manifest says ${f.size}`);
    else if (r.sha256 !== f.sha256 && !damagedBlobs.includes(f.path)) problems.push(`${f.path}: sha256 differs from the manifest`);
  }
  for (const path of seen.keys()) problems.push(`${path} is not in the manifest`);
  if (!manifest.files.some(f => f.path === DUMP_MEMBER)) problems.push(`the manifest lists no ${DUMP_MEMBER}`);
  return { problems, damagedBlobs };
}

/** Total bytes of the listed files. */
export function manifestBytes(m: BackupManifest): number {
  return m.files.reduce((n, f) => n + f.size, 0);
}

/** Every blob a backup's registry holds, in this archive or inherited, by member path. */
export function blobsOf(m: BackupManifest): Map<string, ManifestFile> {
  const out = new Map<string, ManifestFile>();
  for (const f of [...m.files, ...(m.inherited ?? [])]) if (f.path.startsWith(STORAGE_PREFIX) && digestOfPath(f.path)) out.set(f.path, f);
  return out;
}

export interface ChainLink { file: string; manifest: BackupManifest }

/**
 * What to take from each backup of a chain (oldest first, ending with the one to restore): the blobs the
 * last one inherits, each from the newest earlier backup that holds it. A string lists the problems.
 */
export function planChain(chain: readonly ChainLink[]): { blobsFrom: Map<string, string[]> } | string[] {
  const problems: string[] = [];
  const first = chain[0];
  if (first?.manifest.since) problems.push(`${first.file} builds on an earlier backup (made ${first.manifest.since.createdAt}); give that one first`);
  for (let i = 1; i < chain.length; i++) {
    const { file, manifest } = chain[i]!;
    const prev = chain[i - 1]!;
    if (manifest.since?.id !== prev.manifest.id) {
      problems.push(manifest.since ? `${file} builds on the backup made ${manifest.since.createdAt}, not on ${prev.file}` : `${file} is a full backup; restore it alone`);
    }
  }
  const last = chain[chain.length - 1];
  const blobsFrom = new Map<string, string[]>();
  if (last) {
    for (const need of last.manifest.inherited ?? []) {
      const holder = [...chain].slice(0, -1).reverse().find(l => l.manifest.files.some(f => f.path === need.path && f.sha256 === need.sha256));
      if (!holder) { problems.push(`${need.path} is in none of the earlier backups given`); continue; }
      blobsFrom.set(holder.file, [...(blobsFrom.get(holder.file) ?? []), need.path]);
    }
  }
  return problems.length > 0 ? problems : { blobsFrom };
}

/** The line that names an archive's damaged blobs, for verify's error and restore's warning. */
export function damagedBlobsText(file: string, blobs: readonly string[]): string {
  const shown = blobs.slice(0, 3).join(', ') + (blobs.length > 3 ? `, … (${blobs.length - 3} more)` : '');
  return `${file}: ${blobs.length} blob${blobs.length === 1 ? '' : 's'} whose content does not match the digest in its name (${shown}): `
    + 'damaged in the registry when it was backed up, or in this file since; everything else in it checks';
}
