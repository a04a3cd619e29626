// An object-storage install's inputs (key pair, CA bundle) read from their files, and the bucket checked.
import { readFile } from 'node:fs/promises';
import { HostError, UsageError } from '../errors.js';
import { checkBucket, prefixHoldsBlobs, s3Request, type S3Target } from '../host/s3.js';
import { readS3Keys } from '../host/s3-credentials.js';
import type { InstallSpec, ObjectStorage } from '../install-spec/spec.js';
import { storageText } from '../model/views.js';

/** The spec with the object store's key pair and CA bundle read in (unchanged for local storage). */
export async function withS3Inputs(spec: InstallSpec): Promise<InstallSpec> {
  const s = spec.quayStorage;
  if (s.kind !== 's3') return spec;
  const [keys, caPem] = await Promise.all([readS3Keys(s.credentialsFile), readS3CaBundle(s)]);
  return { ...spec, quayStorage: { ...s, keys, ...(caPem ? { caPem } : {}) } };
}

/** The --s3CaBundle PEM, checked to hold a certificate; undefined without the flag. */
export async function readS3CaBundle(s: ObjectStorage): Promise<string | undefined> {
  if (s.caBundle === undefined) return undefined;
  const pem = await readFile(s.caBundle, 'utf8').catch(() => undefined);
  if (pem === undefined) throw new UsageError(`--s3CaBundle ${s.caBundle}: file not found or not readable; give the PEM file of the CA that signed the object store's certificate`);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--s3CaBundle ${s.caBundle}: holds no PEM certificate; give the CA certificate (BEGIN CERTIFICATE), not a key or DER file`);
  return pem;
}

/** What S3 requests need of an install's object storage: the keys and CA read in, or read now. */
export async function s3TargetOf(s: ObjectStorage): Promise<S3Target> {
  const ca = s.caPem ?? await readS3CaBundle(s);
  return { endpoint: s.endpoint, bucket: s.bucket, keys: s.keys ?? await readS3Keys(s.credentialsFile), ...(ca ? { ca } : {}) };
}

/**
 * The check before a command's first change: the bucket answers, and Quay's writes would work. Resolves
 * with what mreg found or did: `created` (--s3CreateBucket), or, `readOnly` (a dry run, which writes
 * nothing), `missing` where --s3CreateBucket would create it.
 */
export async function checkObjectStorage(s: ObjectStorage, createBucket: boolean, readOnly = false): Promise<'found' | 'created' | 'missing'> {
  const result = await checkBucket(await s3TargetOf(s), s.prefix, createBucket, readOnly);
  if (!result.ok) {
    throw new HostError(`object storage ${s.endpoint} bucket ${s.bucket}: could not ${result.step}: ${result.why}`, `${result.fix}; nothing was changed`);
  }
  return result.created ? 'created' : result.missing ? 'missing' : 'found';
}

/** status: why the bucket does not answer to the install's key pair, or undefined when it does. */
export async function bucketProblem(s: ObjectStorage): Promise<string | undefined> {
  try {
    const answer = await s3Request(await s3TargetOf(s), 'HEAD', '', '', 5_000);
    return answer.status === 200 ? undefined : `the bucket answers HTTP ${answer.status}${answer.status === 403 ? ' (key pair refused)' : answer.status === 404 ? ' (no such bucket)' : ''}`;
  } catch (err) {
    return `not reachable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * A bucket prefix other than the install's `own` (the record's) must hold no registry's blobs: two registries on one
 * prefix delete each other's (Quay's garbage collection asks only its own database before it deletes a
 * blob), as a volume or folder of another install is refused. Rejects with UsageError; reads only.
 */
export async function refuseForeignBlobs(s: ObjectStorage, own: { bucket: string; prefix: string } | undefined, flag = '--quayStorage'): Promise<void> {
  // The endpoint may change (another name for the same store: a supported re-run change); the blobs are the install's.
  if (own && own.bucket === s.bucket && own.prefix === s.prefix) return;
  if (!(await prefixHoldsBlobs(await s3TargetOf(s), s.prefix))) return;
  const other = `s3://${s.bucket}/${s.prefix ? `${s.prefix}-2` : 'mirror'}`;
  throw new UsageError(`${flag} ${storageText(s)}: already holds a registry's blobs (${s.prefix ? `${s.prefix}/` : ''}sha256/…) and is not this install's; two registries on one prefix delete each other's blobs`,
    `give a prefix of its own, e.g. ${flag} ${other}; to bring back a registry backed up from this bucket, use mreg restore; nothing was changed`);
}
