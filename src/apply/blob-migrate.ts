// Copies a local blob store into a bucket under the same relative paths (the layout Quay reads, whatever
// it is), one tar stream read in the scope's user namespace, each file PUT as it comes and checked.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { extract } from 'tar-stream';
import { digestOfPath } from '../backup/manifest.js';
import { HostError } from '../errors.js';
import { listStorage } from '../host/backup-tar.js';
import { loadExeca } from '../host/execa.js';
import { s3Request, type S3Target } from '../host/s3.js';
import { inScope } from '../host/storage.js';
import type { Scope } from '../spec/spec.js';

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
 * done (a PUT is all or nothing); every other file is copied again, since it may have changed in place.
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

/**
 * Streams `todo` out of `root` (tar in the user namespace, where the container's files are readable) and
 * PUTs each file. Each is checked twice: the ETag the store returns is the MD5 of what mreg sent, and a
 * blob's content hashes to the digest its path names (a damaged local blob stops the copy, named).
 */
export async function copyFiles(root: string, scope: Scope, t: S3Target, prefix: string, todo: readonly StoreFile[], scratch: string,
  progress: (done: CopyResult) => void): Promise<CopyResult> {
  const list = join(scratch, 'migrate.list');
  await writeFile(list, todo.map(f => `./${f.path}\0`).join(''), { mode: 0o600 });
  const [file, args] = inScope(scope, ['tar', '-C', root, '--ignore-failed-read', '--no-recursion', '--null', `--files-from=${list}`, '-cf', '-']);
  const { execa } = await loadExeca();
  const tar = execa(file, args, { reject: false, buffer: { stdout: false }, stdin: 'ignore' });
  const result: CopyResult = { files: 0, bytes: 0 };
  const ex = extract();
  const finished = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      if (header.type !== 'file') { stream.resume(); return next(); }
      const path = header.name.replace(/^\.\//, '');
      const md5 = createHash('md5');
      const sha = createHash('sha256');
      const body = new PassThrough();
      // Hashed on the Node side of the pipe: tar-stream's entry streams are streamx streams.
      body.on('data', (c: Buffer) => { md5.update(c); sha.update(c); });
      stream.pipe(body);
      const key = keyOf(prefix, path);
      s3Request(t, 'PUT', key, body, 120_000, header.size ?? 0).then(async answer => {
        const etag = String(answer.headers.etag ?? '').replace(/"/g, '');
        const sent = md5.digest('hex');
        const digest = digestOfPath(path);
        if (answer.status !== 200) throw new HostError(`copying ${path}: the object store answered HTTP ${answer.status} ${answer.code}`, 'run mreg storage migrate again: it resumes');
        // A wrong object must not stay: a rerun takes a blob of the right size in the bucket as done.
        const wrong = etag !== sent ? new HostError(`copying ${path}: the object store stored MD5 ${etag}, mreg sent ${sent}`, 'run mreg storage migrate again: it copies the file anew')
          : digest !== undefined && sha.digest('hex') !== digest
            ? new HostError(`the local blob ${path} does not hash to its digest sha256:${digest}: it is damaged`, 'nothing was switched; restore that blob from a backup, then run mreg storage migrate again')
            : undefined;
        if (wrong) {
          await s3Request(t, 'DELETE', key).catch(() => undefined);
          throw wrong;
        }
        result.files += 1;
        result.bytes += header.size ?? 0;
        progress(result);
        next();
      }).catch(reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  tar.stdout!.pipe(ex);
  // A failed upload stops reading, and tar would wait on its full pipe for ever: it is killed first.
  await finished.catch(async (err: unknown) => { tar.kill('SIGKILL'); await tar.catch(() => undefined); throw err; });
  const r = await tar;
  if (r?.exitCode !== 0) throw new HostError(`reading ${root} failed (tar exited ${r?.exitCode}): ${String(r?.stderr ?? '').trim().split('\n').pop()}`, 'run mreg storage migrate again: it resumes');
  return result;
}
