// mreg backup [FILE | -]: one archive with everything a restore needs, while the registry keeps serving.
// Consistency: the database is dumped first, the storage listed after it, so every blob the dump
// references is in the listing (Quay never deletes a referenced blob: garbage collection waits out the
// time machine). Blobs are immutable and content-addressed; what changes in place is copied at once.
// mreg backup --verify FILE reads a backup through and checks it against its manifest.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HostError, UsageError } from '../errors.js';
import {
  BACKUP_FORMAT, BACKUP_FORMAT_VERSION, blobsOf, digestOfPath, parseManifest, DUMP_MEMBER, MANIFEST_MEMBER, QUAY_ROOT_PREFIX, SECRETS_MEMBER,
  serializeManifest, STORAGE_PREFIX, type BackupManifest, type ManifestFile,
} from '../backup/manifest.js';
import { lastBackupPath, type LastBackup } from '../backup/last.js';
import type { FilePorts, HostPorts, InspectPorts } from '../actions/ports.js';
import { sizeText } from '../ui/bytes.js';
import { readPassphraseFlag, stringFlag } from './common.js';
import { COMPONENTS } from '../model/components.js';
import { ALL_SECRET_NAMES, storageText } from '../model/views.js';
import { PG_DATABASE } from '../install-spec/defaults.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import { VERSION } from '../version.js';

export async function backup(ctx: CommandContext): Promise<void> {
  const { out, flags, args, host } = ctx;
  const passphraseFile = await readPassphraseFlag(flags, 'backup');
  if (flags.verify) return verify(ctx, args[0], passphraseFile);
  if (await backupFromTarget(ctx, passphraseFile)) return;
  // Who and where only (as status): the full probe's podman and systemd questions cost seconds on a small host.
  const probe = host.identify();
  const look = host.inspect(probe);
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  if (record.removedAt) {
    throw new HostError(`the registry at ${layout.root} was removed by mreg down on ${record.removedAt}; a backup dumps the running database`, 'run mreg up first (its data was kept), then mreg backup');
  }
  const since = await readSince(host, stringFlag(flags, 'since', 'backup'), passphraseFile, record, layout.root);
  const output = args[0] === '-' ? '-' : resolve(args[0] ?? defaultName(record.spec.hostname, probe.now));
  if (output !== '-') await checkTarget(host.files, output);
  const staging = output === '-' ? join(layout.root, 'backup-staging') : join(dirname(output), `.${basename(output)}.mreg-staging`);
  const started = Date.now();
  const release = await ctx.host.lock(probe);
  try {
    // A killed earlier run leaves this behind (and writeComplete its partial file).
    await host.archive.removeStaging(staging, probe.scope);
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
        return copyQuayRoot(host.files, layout, join(staging, QUAY_ROOT_PREFIX));
      })(),
      // An object store keeps its blobs: the backup holds the rest, and an empty storage tree.
      record.spec.quayStorage.kind === 's3'
        ? mkdir(join(staging, 'object-storage'), { mode: 0o700 }).then(() => join(staging, 'object-storage'))
        : look.storagePath(record.spec.quayStorage, 'the blob storage'),
    ]));
    if (record.spec.quayStorage.kind === 's3') {
      out.info(`    blobs not included: they stay in ${storageText(record.spec.quayStorage)}; protect them with the object store's own versioning or replication`);
    }
    // Listed only now, after the dump: every blob the dump refers to is in the listing.
    const { blobs, meta, partial } = await out.step(`storage ${storageRoot}`, async () => {
      const c = await host.archive.captureStorage(storageRoot, staging, probe.scope, dumpStartedMs);
      if (c.partial.length > 0) out.info(`    left out ${c.partial.length} blob${c.partial.length === 1 ? '' : 's'} still being written (pushed after the database dump began, so it does not refer to them)`);
      return c;
    });
    // Incremental: a blob the previous backup (or the ones it builds on) holds is named, not stored again.
    const allBlobs = blobs.map(b => ({ path: `${STORAGE_PREFIX}${b.path}`, size: b.size, sha256: digestOfPath(b.path)! }));
    const had = since ? blobsOf(since) : new Map<string, ManifestFile>();
    const inherited = allBlobs.filter(b => had.get(b.path)?.sha256 === b.sha256);
    const stored = allBlobs.filter(b => had.get(b.path)?.sha256 !== b.sha256);
    const files: ManifestFile[] = [
      ...await Promise.all([DUMP_MEMBER, SECRETS_MEMBER, ...quayRootFiles].map(p => hashFile(staging, p))),
      ...meta,
      ...stored,
    ];
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, createdAt: probe.now.toISOString(), mregVersion: VERSION,
      scope: record.spec.scope, hostname: record.spec.hostname, port: record.spec.port, quayRoot: layout.root,
      images: record.spec.images, ...(record.pgData ? { postgresMajor: record.pgData.major } : {}), id: randomUUID(),
      ...(since ? { since: { id: since.id, createdAt: since.createdAt }, inherited } : {}), files,
    };
    const bytes = files.reduce((n, f) => n + f.size, 0);
    if (output !== '-') await checkSpace(look, dirname(output), bytes);
    await writeFile(join(staging, MANIFEST_MEMBER), serializeManifest(manifest), { mode: 0o600 });
    await out.step(`write ${output === '-' ? 'the backup to stdout' : output}`, () => writeComplete(host.files, output, target =>
      host.archive.create({ output: target, staging, stagedMembers: [MANIFEST_MEMBER, DUMP_MEMBER, SECRETS_MEMBER, 'quay-root', 'storage'],
        storageRoot, blobs: stored.map(b => b.path.slice(STORAGE_PREFIX.length)), scratch: staging, ...(passphraseFile ? { passphraseFile } : {}) }, probe.scope)));
    const last: LastBackup = { at: manifest.createdAt, file: output, bytes, files: files.length, blobs: stored.length, ...(since ? { since: since.createdAt, inheritedBlobs: inherited.length } : {}) };
    await host.files.write(lastBackupPath(layout.root), `${JSON.stringify(last, null, 1)}\n`, 0o600);
    const seconds = (Date.now() - started) / 1000;
    const line = `backup written: ${output === '-' ? 'stdout' : output} (${sizeText(bytes)}, ${files.length} files, ${stored.length} blobs${since ? `; ${inherited.length} more in the backups since ${since.createdAt} builds on` : ''}) in ${seconds.toFixed(1)} s`;
    // Streamed: stdout is the archive, so the result goes to stderr.
    if (output === '-') return out.info(line);
    if (out.json) return out.resultJson({ ...last, durationMs: Date.now() - started, blobsLeftOut: partial.length });
    out.result(line);
  } finally {
    await host.archive.removeStaging(staging, probe.scope).catch(() => undefined);
    await release();
  }
}

/**
 * -H HOST: the backup is made there (`mreg backup -` over ssh) and written here, under the same rules
 * (a new file, 0600, complete or not there). Resolves false when -H is absent or names this host.
 */
async function backupFromTarget(ctx: CommandContext, passphraseFile: string | undefined): Promise<boolean> {
  const { flags, args, out, host } = ctx;
  if (flags.targetHostname === undefined) return false;
  const { remoteTarget, runRemote } = await import('../remote/run.js');
  const target = await remoteTarget(flags);
  if (!target) return false;
  if (flags.since !== undefined || passphraseFile !== undefined) {
    throw new UsageError(`${flags.since !== undefined ? '--since' : '--passphrase-file'} with -H is not supported yet: the previous backup and the passphrase are on this host`,
      `stream it instead: mreg backup -H ${target.hostname} - | gpg --symmetric > FILE, or run mreg backup on ${target.hostname}`);
  }
  if (args[0] === '-') {
    await runRemote('backup', target, ctx, { positional: ['-'] });
    return true;
  }
  const output = resolve(args[0] ?? defaultName(target.hostname, new Date()));
  await checkTarget(host.files, output);
  const started = Date.now();
  await writeComplete(host.files, output, partial => runRemote('backup', target, ctx, { positional: ['-'], stdoutFile: partial }));
  const bytes = (await stat(output)).size;
  if (out.json) out.resultJson({ file: output, bytes, host: target.hostname, durationMs: Date.now() - started });
  else out.result(`backup of ${target.hostname} written: ${output} (${sizeText(bytes)}) in ${((Date.now() - started) / 1000).toFixed(1)} s; check it with mreg backup --verify ${output}`);
  return true;
}

async function verify(ctx: CommandContext, file: string | undefined, passphraseFile: string | undefined): Promise<void> {
  const { out, host } = ctx;
  if (!file || file === '-') throw new UsageError('--verify needs the backup file: mreg backup --verify FILE');
  const v = await out.step(`verify ${file}`, async () => host.archive.verify(await host.archive.source(file, passphraseFile)));
  const m = v.manifest;
  if (out.json) return out.resultJson({ file, ok: true, files: v.files, bytes: v.bytes, createdAt: m.createdAt, hostname: m.hostname, scope: m.scope, mregVersion: m.mregVersion, images: m.images });
  out.result(`${file}: complete, every checksum matches (${v.files} files, ${sizeText(v.bytes)}); made ${m.createdAt} by mreg ${m.mregVersion} from ${m.hostname}:${m.port} (${m.scope})`);
}

/** The manifest of the backup --since names (its first member: read without reading the archive through). */
async function readSince(host: HostPorts, file: string | undefined, passphraseFile: string | undefined, record: InstallRecord, quayRoot: string): Promise<BackupManifest | undefined> {
  if (file === undefined) return undefined;
  if (!(await host.files.exists(file))) throw new UsageError(`--since ${file}: no such file; give the previous backup of this registry`);
  const text = await host.archive.readMemberText(await host.archive.source(file, passphraseFile), MANIFEST_MEMBER);
  const m = text === undefined ? 'it is not an mreg backup' : parseManifest(text);
  if (typeof m === 'string') throw new UsageError(`--since ${file}: ${m}; give the previous backup of this registry`);
  if (m.quayRoot !== quayRoot || m.scope !== record.spec.scope) {
    throw new UsageError(`--since ${file}: a backup of the ${m.scope} install at ${m.quayRoot}, not of this one (${record.spec.scope}, ${quayRoot})`, 'give a backup of this registry, or leave --since out for a full backup');
  }
  return m;
}

/** mreg-backup-HOST-YYYYMMDDTHHMMSS.tar in the current folder. */
function defaultName(hostname: string, now: Date): string {
  return `mreg-backup-${hostname}-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}.tar`;
}

/**
 * Runs `write` into OUTPUT.partial, made 0600 before the first byte (a backup holds every secret of the
 * registry), and renames it to OUTPUT only when `write` succeeded: a killed or failed backup never leaves
 * a file under the target name. `-` (stdout) is written as is.
 */
async function writeComplete(files: FilePorts, output: string, write: (target: string) => Promise<void>): Promise<void> {
  if (output === '-') return write('-');
  const partial = `${output}.partial`;
  await files.remove(partial); // a killed earlier run's
  try {
    await (await open(partial, 'wx', 0o600)).close();
    await write(partial);
    await rename(partial, output);
  } finally {
    await files.remove(partial).catch(() => undefined);
  }
}

/** A new file in an existing folder: a backup never replaces one (the older one may be the only good copy). */
async function checkTarget(files: FilePorts, output: string): Promise<void> {
  if (await files.exists(output)) throw new UsageError(`${output} exists; mreg backup never overwrites a backup`, 'give a new file name, or remove the old one first');
  const dir = dirname(output);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`${dir}: no such folder for the backup`, 'create it first, or give another path');
}

async function checkSpace(look: InspectPorts, dir: string, bytes: number): Promise<void> {
  const free = (await look.space(dir)).freeBytes;
  if (free < bytes) throw new HostError(`${dir} has ${sizeText(free)} free, the backup needs about ${sizeText(bytes)}`, 'write it elsewhere (another disk, or `-` to stream it), then run mreg backup again');
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

async function hashFile(dir: string, member: string): Promise<ManifestFile> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(join(dir, member))) { hash.update(chunk as Buffer); size += (chunk as Buffer).length; }
  return { path: member, size, sha256: hash.digest('hex') };
}
