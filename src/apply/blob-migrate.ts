// Copies a local blob store into a bucket under the same relative paths (the layout Quay reads, whatever
// it is), in a few lanes side by side, each file PUT (a large one in parts) as it is read and checked.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { digestOfPath } from '../backup/manifest.js';
import { HostError } from '../errors.js';
import { listStorage } from '../host/backup-tar.js';
import { loadExeca } from '../host/execa.js';
import { s3Request, type S3Target } from '../host/s3.js';
import { inScope } from '../host/storage.js';
import type { Scope } from '../install-spec/spec.js';
import { damagedBlob, etagIsOpaque, partRule, partSizeFor, putInParts, type PartRule } from './blob-parts.js';

export interface StoreFile { path: string; size: number }

export interface CopyPlan {
  /** Every file of the local store (uploads in progress left out). */
  files: StoreFile[];
  /** Those to copy now: not in the bucket yet, or not a blob (small files that change in place, e.g. tag links). */
  todo: StoreFile[];
}

const keyOf = (prefix: string, path: string) => (prefix ? `${prefix}/${path}` : path);

/**
 * What a (re)run must copy. A blob is named by its digest, so one already in the bucket with its size is
 * done (a PUT, and a multipart upload, is all or nothing; its size is compared, never its ETag, which for an
 * object uploaded in parts is no MD5 of it); every other file is copied again, since it may have changed in place.
 */
export async function planCopy(root: string, scope: Scope, t: S3Target, prefix: string): Promise<CopyPlan> {
  const { files } = await listStorage(root, scope);
  const done = new Set<string>();
  const blobs = files.filter(f => digestOfPath(f.path) !== undefined);
  for (let i = 0; i < blobs.length; i += 16) {
    await Promise.all(blobs.slice(i, i + 16).map(async f => {
      const head = await s3Request(t, 'HEAD', keyOf(prefix, f.path));
      if (head.status === 200 && Number(head.headers['content-length']) === f.size) done.add(f.path);
    }));
  }
  return { files, todo: files.filter(f => !done.has(f.path)) };
}

export interface CopyResult { files: number; bytes: number }

/** Uploads at a time: an object store far away answers each PUT after a round trip, and mirrors hold many small blobs. */
const LANES = 4;

/**
 * Copies `todo` from `root` into the bucket in LANES streams side by side, the files dealt out largest
 * first so the lanes end together. The first failure stops every lane (after its current file or part).
 * Files above `rule.above` go in parts (blob-parts.ts).
 */
export async function copyFiles(root: string, scope: Scope, t: S3Target, prefix: string, todo: readonly StoreFile[], scratch: string,
  progress: (done: CopyResult) => void, rule: PartRule = partRule()): Promise<CopyResult> {
  const lanes: StoreFile[][] = Array.from({ length: Math.min(LANES, todo.length) }, () => []);
  const load = lanes.map(() => 0);
  for (const f of [...todo].sort((a, b) => b.size - a.size)) {
    const i = load.indexOf(Math.min(...load));
    lanes[i]!.push(f);
    load[i]! += f.size;
  }
  const result: CopyResult = { files: 0, bytes: 0 };
  const stop = new AbortController();
  let first: { err: unknown } | undefined; // what failed first; the other lanes then stop with "stopped"
  const done = (size: number) => { result.files += 1; result.bytes += size; progress(result); };
  await Promise.allSettled(lanes.map((files, i) => copyLane(root, scope, t, prefix, files, join(scratch, `migrate-${i}.list`), done, stop.signal, rule)
    .catch((err: unknown) => { first ??= { err }; stop.abort(); })));
  if (first) throw first.err;
  return result;
}

/** One file of the store, readable once. */
interface Source { path: string; size: number; body: Readable }

/**
 * Rootful, the files are read where they are, a MiB at a time. Rootless, they belong to the user
 * namespace's ids, so tar reads them there and its stream is split here (tar-stream). A file gone since
 * the listing (garbage collection) is skipped, as tar's --ignore-failed-read does.
 */
async function* readStore(root: string, scope: Scope, files: readonly StoreFile[], list: string, onTar: (kill: () => Promise<void>) => void): AsyncGenerator<Source> {
  if (scope === 'rootful') {
    for (const f of files) {
      const body = createReadStream(join(root, f.path), { highWaterMark: 1 << 20 });
      const opened = await new Promise<boolean>((resolve, reject) => {
        body.once('ready', () => resolve(true));
        body.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? resolve(false) : reject(e)));
      });
      if (opened) yield { path: f.path, size: (await stat(join(root, f.path))).size, body };
    }
    return;
  }
  await writeFile(list, files.map(f => `./${f.path}\0`).join(''), { mode: 0o600 });
  const [file, args] = inScope(scope, ['tar', '-C', root, '--ignore-failed-read', '--no-recursion', '--null', `--files-from=${list}`, '-cf', '-']);
  const { execa } = await loadExeca();
  const tar = execa(file, args, { reject: false, buffer: { stdout: false }, stdin: 'ignore' });
  // A failed upload stops reading, and tar would wait on its full pipe for ever: the caller kills it.
  onTar(async () => { tar.kill('SIGKILL'); await tar.catch(() => undefined); });
  const ex = extract();
  tar.stdout!.pipe(ex);
  for await (const entry of ex) {
    if (entry.header.type !== 'file') { entry.resume(); continue; }
    // Piped into a Node stream: tar-stream's entry streams are streamx streams.
    const body = new PassThrough();
    entry.pipe(body);
    yield { path: entry.header.name.replace(/^\.\//, ''), size: entry.header.size ?? 0, body };
  }
  const r = await tar;
  if (r?.exitCode !== 0) throw new HostError(`reading ${root} failed (tar exited ${r?.exitCode}): ${String(r?.stderr ?? '').trim().split('\n').pop()}`, 'run mreg storage migrate again: it resumes');
}

/**
 * PUTs each file of `files` as it is read, checked twice: the ETag the store returns must be the MD5 of
 * what mreg sent (unless the store encrypts with KMS: etagIsOpaque), and a blob is signed with the digest its
 * path names (any other file with its own sha256), so the store itself refuses a body that does not hash to
 * it (a damaged local blob stops the copy, named, and nothing of it is stored).
 * A file above `rule.above` goes in parts instead, checked as strictly (putInParts).
 */
async function copyLane(root: string, scope: Scope, t: S3Target, prefix: string, files: readonly StoreFile[], list: string,
  done: (size: number) => void, stop: AbortSignal, rule: PartRule): Promise<void> {
  let killTar: (() => Promise<void>) | undefined;
  try {
    for await (const f of readStore(root, scope, files, list, k => { killTar = k; })) {
      if (stop.aborted) { f.body.destroy(); throw new Error('stopped: another upload failed'); }
      const key = keyOf(prefix, f.path);
      if (f.size > rule.above) {
        await putInParts(t, key, f, partSizeFor(f.size, rule), stop);
        done(f.size);
        continue;
      }
      // A blob is signed with the digest its path names; anything else (a tag's link: a few bytes) with its
      // own, read first: the store checks either, which is the only check where its ETag is opaque.
      const named = digestOfPath(f.path);
      const read = named === undefined ? await readWhole(f.body) : undefined;
      const digest = named ?? createHash('sha256').update(read!).digest('hex');
      // MD5 only: sha256 costs four times as much, and the store computes it for a blob anyway.
      const md5 = createHash('md5');
      const body = read ? Readable.from([read]) : f.body.pipe(new PassThrough());
      if (!read) f.body.on('error', e => body.destroy(e));
      body.on('data', (c: Buffer) => md5.update(c));
      const answer = await s3Request(t, 'PUT', key, body, 120_000, read?.length ?? f.size, digest);
      if (!read && answer.status === 400 && answer.code === 'XAmzContentSHA256Mismatch') throw damagedBlob(f.path, digest);
      if (answer.status !== 200) throw new HostError(`copying ${f.path}: the object store answered HTTP ${answer.status} ${answer.code}`, 'run mreg storage migrate again: it resumes');
      const etag = String(answer.headers.etag ?? '').replace(/"/g, '');
      const sent = md5.digest('hex');
      if (etag !== sent && !etagIsOpaque(answer.headers)) {
        // A wrong object must not stay: a rerun takes a blob of the right size in the bucket as done.
        await s3Request(t, 'DELETE', key).catch(() => undefined);
        throw new HostError(`copying ${f.path}: the object store stored MD5 ${etag}, mreg sent ${sent}`, 'run mreg storage migrate again: it copies the file anew');
      }
      done(f.size);
    }
  } catch (err) {
    await killTar?.();
    throw err;
  }
}

/** The whole of a small file's body (putInParts takes anything over one part). */
async function readWhole(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
