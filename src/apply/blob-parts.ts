// Uploads one large file of the local store in parts (S3's multipart upload): one PUT carries at most 5 GiB.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOfPath } from '../backup/manifest.js';
import { HostError } from '../errors.js';
import { s3Request, type S3Answer, type S3Target } from '../host/s3.js';

/**
 * The largest object one PUT may carry: S3's limit, and Ceph RGW's (rgw_max_put_size, 5 GiB in
 * ceph src/common/options/rgw.yaml.in) and MinIO's.
 */
export const MAX_ONE_PUT_BYTES = 5 * 1024 ** 3;
/** S3's part rules, which RGW and MinIO share: 5 MiB .. 5 GiB a part but the last, at most 10000 parts. */
const MAX_PARTS = 10_000;
/** A part is held in memory while its sha256 is taken (the store checks it), so LANES parts at most at once. */
const PART_BYTES = 64 * 1024 ** 2;

export interface PartRule {
  /** Files larger than this go in parts. */
  above: number;
  /** The part size, grown for a file that would need more than 10000 parts. */
  part: number;
}

/**
 * Files of more than one part go in parts of 64 MiB: Quay writes every blob in parts itself, so this is the
 * everyday path, not one kept for rare layers over 5 GiB. MREG_TEST_MULTIPART_BYTES=N is for tests only
 * (the VM suite sends its blobs in parts to an RGW whose rgw_max_put_size it lowered): files above N bytes
 * go in parts of N.
 */
export function partRule(env: NodeJS.ProcessEnv = process.env): PartRule {
  const n = Number(env['MREG_TEST_MULTIPART_BYTES']);
  return Number.isSafeInteger(n) && n > 0 ? { above: Math.min(n, MAX_ONE_PUT_BYTES), part: n } : { above: PART_BYTES, part: PART_BYTES };
}

/** The rule's part size, or the whole MiBs that keep a file of `size` within 10000 parts. */
export const partSizeFor = (size: number, rule: PartRule) => Math.max(rule.part, Math.ceil(size / MAX_PARTS / 1024 ** 2) * 1024 ** 2);

export const damagedBlob = (path: string, digest: string) =>
  new HostError(`the local blob ${path} does not hash to its digest sha256:${digest}: it is damaged`, 'nothing was switched; restore that blob from a backup, then run mreg storage migrate again');

const refused = (path: string, what: string, a: S3Answer) =>
  new HostError(`copying ${path}: ${what}, the object store answered HTTP ${a.status} ${a.code}`.trim(), 'run mreg storage migrate again: it resumes');

const unquote = (s: unknown) => String(s ?? '').replace(/&quot;|"/g, '');

/**
 * An object the store encrypts with a KMS key (SSE-KMS, DSSE-KMS) or the client's (SSE-C) has an ETag that is
 * not the MD5 of its data (AWS S3's ETag documentation; MinIO's internal/etag says the same of its own): a
 * bucket that encrypts by default failed every upload as "stored something else". The sha256 each upload is
 * signed with, which the store checks before it stores anything, is then the check.
 */
export function etagIsOpaque(headers: S3Answer['headers']): boolean {
  return String(headers['x-amz-server-side-encryption'] ?? '').startsWith('aws:kms') || headers['x-amz-server-side-encryption-customer-algorithm'] !== undefined;
}

const unxml = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
const uploadQuery = (id: string) => `uploadId=${encodeURIComponent(id)}`;

/** One file of the store as copyLane reads it: its bytes once, in order. */
export interface PartSource { path: string; size: number; body: Readable }

/**
 * Uploads `f` to `key` in parts of `partSize`, reading it once. Each part is signed with its sha256 (the
 * store refuses a part that arrives changed) and its ETag must be the MD5 of what was sent (unless the store
 * encrypts: etagIsOpaque); a blob's whole
 * sha256 must be the digest its path names before the upload is completed, which one PUT has the store
 * check. A part the store fails for a moment (5xx, 429, a lost connection) is sent again, twice at most; any
 * other failure aborts the upload, so no part stays stored (and billed); a completed object whose ETag
 * is not the parts' is deleted, as a wrong single PUT is. Quay writes blobs the same way
 * (_stream_write_internal in quay/quay storage/cloud.py: parts staged in memory, sent in order, the upload
 * cancelled on an error). Rejects with HostError, or the network's error.
 */
export async function putInParts(t: S3Target, key: string, f: PartSource, partSize: number, stop: AbortSignal): Promise<void> {
  await abortLeftUploads(t, key);
  const created = await s3Request(t, 'POST', key, '', 30_000, undefined, undefined, 'uploads');
  const id = unxml(/<UploadId>([^<]*)<\/UploadId>/.exec(created.body)?.[1] ?? '');
  if (created.status !== 200 || !id) throw refused(f.path, 'starting a multipart upload', created);
  let etag: string;
  let sent: SentParts;
  try {
    sent = await sendParts(t, key, id, f, partSize, stop);
    // The ETags the store answered, as CompleteMultipartUpload asks (the MD5s, unless the store encrypts).
    const list = sent.etags.map((m, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"${m}"</ETag></Part>`).join('');
    const done = await s3Request(t, 'POST', key, `<CompleteMultipartUpload>${list}</CompleteMultipartUpload>`, 300_000, undefined, undefined, uploadQuery(id));
    // S3 may answer 200 and then an error in the body (its CompleteMultipartUpload documentation).
    if (done.status !== 200 || done.code) throw refused(f.path, 'completing the multipart upload', done);
    etag = unquote(/<ETag>([^<]*)<\/ETag>/.exec(done.body)?.[1]);
  } catch (err) {
    await s3Request(t, 'DELETE', key, '', 30_000, undefined, undefined, uploadQuery(id)).catch(() => undefined);
    throw err;
  }
  if (sent.opaque) return;
  // A multipart object's ETag is the MD5 of its parts' MD5s, then "-" and the count (S3, RGW and MinIO alike).
  const made = `${createHash('md5').update(Buffer.concat(sent.md5s.map(m => Buffer.from(m, 'hex')))).digest('hex')}-${sent.md5s.length}`;
  if (etag !== made) {
    // A wrong object must not stay: a rerun takes a blob of the right size in the bucket as done.
    await s3Request(t, 'DELETE', key).catch(() => undefined);
    throw new HostError(`copying ${f.path}: the object store stored ETag ${etag}, mreg sent parts making ${made}`, 'run mreg storage migrate again: it copies the file anew');
  }
}

/** The parts sent, in order: their MD5s, the ETags the store answered, and whether those are opaque (etagIsOpaque). */
interface SentParts { md5s: string[]; etags: string[]; opaque: boolean }

/** Sends the parts as the body yields them. */
async function sendParts(t: S3Target, key: string, id: string, f: PartSource, partSize: number, stop: AbortSignal): Promise<SentParts> {
  const digest = digestOfPath(f.path);
  const whole = createHash('sha256');
  const md5s: string[] = [];
  const etags: string[] = [];
  let opaque = false;
  let part: Buffer[] = [];
  let held = 0;
  let read = 0;
  const send = async () => {
    if (stop.aborted) throw new Error('stopped: another upload failed');
    const n = md5s.length + 1;
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    for (const c of part) { sha.update(c); md5.update(c); }
    const hex = sha.digest('hex');
    const a = await withRetries(() => s3Request(t, 'PUT', key, Readable.from(part), 120_000, held, hex, `partNumber=${n}&${uploadQuery(id)}`), stop);
    if (a.status !== 200) throw refused(f.path, `uploading part ${n}`, a);
    const etag = unquote(a.headers.etag);
    const sent = md5.digest('hex');
    const partOpaque = etagIsOpaque(a.headers);
    opaque ||= partOpaque;
    if (etag !== sent && !partOpaque) throw new HostError(`copying ${f.path}: the object store stored part ${n} with MD5 ${etag}, mreg sent ${sent}`, 'run mreg storage migrate again: it copies the file anew');
    md5s.push(sent);
    etags.push(etag);
    part = [];
    held = 0;
  };
  // Read to the end whatever the part boundaries: a rootless store's body is one entry of a tar stream.
  for await (const chunk of f.body as AsyncIterable<Buffer>) {
    read += chunk.length;
    whole.update(chunk);
    for (let rest = chunk; rest.length > 0;) {
      const take = rest.subarray(0, partSize - held);
      part.push(take);
      held += take.length;
      rest = rest.subarray(take.length);
      if (held === partSize) await send();
    }
  }
  if (held > 0) await send();
  if (read !== f.size) throw new HostError(`copying ${f.path}: read ${read} bytes of the ${f.size} listed`, 'run mreg storage migrate again: it resumes');
  if (digest !== undefined && whole.digest('hex') !== digest) throw damagedBlob(f.path, digest);
  return { md5s, etags, opaque };
}

/** Tries of one part: it is in memory, so it can be sent again (a whole file is read once, and its run is what is retried). */
const PART_TRIES = 3;
const RETRY_PAUSE_MS = 500;
/** Answers an object store gives for a moment (S3's "retry" errors: 500, 503 SlowDown, 429), and lost connections. */
const transient = (a: S3Answer) => a.status === 429 || a.status >= 500;

/** Sends again after a transient answer or a network error, with a growing pause; the last try's outcome stands. */
async function withRetries(send: () => Promise<S3Answer>, stop: AbortSignal): Promise<S3Answer> {
  for (let i = 1; ; i++) {
    const last = i === PART_TRIES || stop.aborted;
    try {
      const a = await send();
      if (last || !transient(a)) return a;
    } catch (err) {
      if (last) throw err;
    }
    await new Promise(r => setTimeout(r, RETRY_PAUSE_MS * i));
  }
}

/**
 * Aborts the uploads to `key` that a killed run left (ListMultipartUploads): before the switch only mreg
 * writes there, and their parts would stay stored until a lifecycle rule removes them. A store that does
 * not list them is left as it is.
 */
async function abortLeftUploads(t: S3Target, key: string): Promise<void> {
  const a = await s3Request(t, 'GET', '', '', 30_000, undefined, undefined, `uploads&prefix=${encodeURIComponent(key)}`);
  if (a.status !== 200) return;
  for (const [, upload = ''] of a.body.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)) {
    const id = /<UploadId>([^<]*)<\/UploadId>/.exec(upload)?.[1];
    if (id && unxml(/<Key>([^<]*)<\/Key>/.exec(upload)?.[1] ?? '') === key) await s3Request(t, 'DELETE', key, '', 30_000, undefined, undefined, uploadQuery(unxml(id)));
  }
}
