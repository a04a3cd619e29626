// Signed S3 requests (SigV4, path-style) to check an object store before mreg points Quay at it.
import aws4 from 'aws4';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { S3Keys } from '../install-spec/spec.js';

export interface S3Target {
  endpoint: string;
  bucket: string;
  keys: S3Keys;
  /** PEM to trust instead of the system store. */
  ca?: string;
}

/** RGW and MinIO accept any region in the signature; us-east-1 is what S3 clients default to. */
const REGION = 'us-east-1';

export interface S3Answer { status: number; code: string; body: string; headers: Record<string, string | string[] | undefined> }

/**
 * One signed request; rejects only on network and TLS errors, never on an HTTP status. A `body` that is
 * a stream goes with `size` as its length, unsigned (UNSIGNED-PAYLOAD, as S3 clients do for uploads)
 * unless its sha256 is known: then the store checks the body against it and stores nothing on a
 * mismatch (400 XAmzContentSHA256Mismatch).
 */
export function s3Request(t: S3Target, method: string, key: string, body: string | Readable = '', timeoutMs = 10_000, size?: number, sha256?: string, query?: string): Promise<S3Answer> {
  const url = new URL(t.endpoint);
  const path = `/${t.bucket}${key ? `/${key.split('/').map(encodeURIComponent).join('/')}` : ''}${query ? `?${query}` : ''}`;
  const streamed = typeof body !== 'string';
  const signed = aws4.sign({
    host: url.host, path, method, service: 's3', region: REGION, ...(streamed ? {} : { body }),
    headers: streamed ? { 'content-type': 'application/octet-stream', 'content-length': String(size), 'x-amz-content-sha256': sha256 ?? 'UNSIGNED-PAYLOAD' }
      : body ? { 'content-type': 'application/octet-stream' } : {},
  }, { accessKeyId: t.keys.accessKey, secretAccessKey: t.keys.secretKey });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send({
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port || undefined, path, method,
      headers: signed.headers as Record<string, string>, timeout: timeoutMs, agent: false,
      ...(t.ca ? { ca: t.ca } : {}),
    }, res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', c => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '', body: text, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    if (streamed) { body.on('error', e => req.destroy(e)); body.pipe(req); } else req.end(body);
  });
}

export type S3Check =
  /** `missing`: a read-only check found no bucket, which --s3CreateBucket would create. */
  | { ok: true; created: boolean; missing?: true }
  | { ok: false; step: string; why: string; fix: string };

/**
 * What Quay needs of the bucket, in the order a user can fix it: the endpoint answers (TLS included),
 * the key pair is accepted, the bucket exists (or is made with `create`), and an object can be
 * written, read back and deleted under the prefix. `readOnly` (a dry run): the answers only, nothing
 * created or written.
 */
export async function checkBucket(t: S3Target, prefix: string, create: boolean, readOnly = false): Promise<S3Check> {
  const fail = (step: string, why: string, fix: string): S3Check => ({ ok: false, step, why, fix });
  const explain = (a: S3Answer) => `HTTP ${a.status}${a.code ? ` ${a.code}` : ''}`;
  let head: S3Answer;
  try {
    head = await s3Request(t, 'HEAD', '');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const tls = /certificate|self.signed|SSL|TLS/i.test(err.message);
    return fail('reach the endpoint', `${err.code ?? ''} ${err.message}`.trim(), tls
      ? 'give the CA that signed the endpoint\'s certificate with --s3CaBundle FILE'
      : 'check --s3Endpoint (scheme, host, port) and that this host can reach it');
  }
  if (head.status === 403) return fail('sign in', `${explain(head)} for bucket ${t.bucket}`, 'check the key pair in --s3CredentialsFile, and that this user may use the bucket');
  let created = false;
  if (head.status === 404) {
    if (!create) return fail('find the bucket', `bucket ${t.bucket} does not exist`, `create it, or pass --s3CreateBucket to have mreg create it`);
    if (readOnly) return { ok: true, created: false, missing: true };
    const made = await s3Request(t, 'PUT', '');
    if (made.status !== 200) return fail('create the bucket', explain(made), 'create the bucket with the object store\'s own tools');
    created = true;
  } else if (head.status !== 200) {
    return fail('find the bucket', `${explain(head)} for bucket ${t.bucket}`, 'check --s3Endpoint and the bucket name');
  }
  // A dry run writes nothing, not even the test object.
  if (readOnly) return { ok: true, created: false };
  const key = `${prefix ? `${prefix}/` : ''}.mreg-check-${randomBytes(6).toString('hex')}`;
  const content = `mreg write check ${new Date().toISOString()}\n`;
  const put = await s3Request(t, 'PUT', key, content);
  if (put.status !== 200) return fail('write a test object', `${explain(put)} writing ${key}`, 'give this user write access to the bucket');
  const get = await s3Request(t, 'GET', key);
  const del = await s3Request(t, 'DELETE', key);
  if (get.status !== 200 || get.body !== content) return fail('read the test object back', `${explain(get)} reading ${key}`, 'give this user read access to the bucket');
  if (del.status !== 204 && del.status !== 200) return fail('delete the test object', `${explain(del)} deleting ${key}`, 'give this user delete access (Quay removes upload chunks)');
  return { ok: true, created };
}

/**
 * Whether a registry's blobs are under `prefix` (any object below PREFIX/sha256/, where Quay keeps them):
 * one ListObjectsV2 of one key. Undefined when the store does not answer the list, or at all (the bucket
 * check speaks for those).
 */
export async function prefixHoldsBlobs(t: S3Target, prefix: string): Promise<boolean | undefined> {
  const under = `${prefix ? `${prefix}/` : ''}sha256/`;
  // An endpoint that does not answer is checkBucket's to report, with its fix.
  const a = await s3Request(t, 'GET', '', '', 10_000, undefined, undefined, `list-type=2&max-keys=1&prefix=${encodeURIComponent(under)}`).catch(() => undefined);
  return a?.status === 200 ? /<Key>/.test(a.body) : undefined;
}
