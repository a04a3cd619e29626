// storage migrate's multipart upload: a file above the rule's threshold goes in parts and arrives whole, to a
// fake S3 that refuses one PUT that large (as RGW's rgw_max_put_size does); any failure aborts the upload.
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyFiles, planCopy } from '../../src/apply/blob-migrate.js';
import { MAX_ONE_PUT_BYTES, partRule, partSizeFor } from '../../src/apply/blob-parts.js';
import { startFakeS3 } from '../support/fake-s3.js';

const MiB = 1024 ** 2;
const RULE = { above: MiB, part: MiB };
const sha = (c: string | Buffer) => createHash('sha256').update(c).digest('hex');
const blobPath = (digest: string) => `sha256/${digest.slice(0, 2)}/${digest}`;

/** A store holding `files`, a fake S3 whose one PUT takes at most 1 MiB (parts at least 1 MiB but the last), and a copy into it. */
async function setUp(t: Test, files: Record<string, Buffer | string>) {
  const root = mkdtempSync(join(tmpdir(), 'mreg-parts-'));
  for (const [p, c] of Object.entries(files)) { mkdirSync(dirname(join(root, p)), { recursive: true }); writeFileSync(join(root, p), c); }
  const s3 = await startFakeS3('AK', ['quay']);
  t.teardown(() => s3.close());
  s3.maxPut = MiB;
  s3.minPart = MiB;
  const target = { endpoint: s3.endpoint, bucket: 'quay', keys: { accessKey: 'AK', secretKey: 'SK' } };
  const copy = async (rule = RULE) => {
    const { todo } = await planCopy(root, 'rootful', target, 'mirror');
    return copyFiles(root, 'rootful', target, 'mirror', todo, mkdtempSync(join(tmpdir(), 'mreg-scratch-')), () => undefined, rule);
  };
  return { s3, copy, plan: () => planCopy(root, 'rootful', target, 'mirror') };
}

t.test('a blob over the threshold goes in parts and arrives whole; a rerun copies nothing again', async t => {
  const big = randomBytes(3.5 * MiB);
  const small = 'layer';
  const { s3, copy, plan } = await setUp(t, { [blobPath(sha(big))]: big, [blobPath(sha(small))]: small });
  t.same(await copy(), { files: 2, bytes: big.length + small.length });
  t.same(s3.objects.get(`quay/mirror/${blobPath(sha(big))}`), big, 'the big blob arrived whole');
  const key = `/quay/mirror/${blobPath(sha(big))}`;
  t.equal(s3.objects.get(`quay/mirror/${blobPath(sha(small))}`)?.toString(), small, 'the small one in one PUT');
  t.same(s3.log.filter(l => l.startsWith(`POST ${key}`) || l.startsWith(`PUT ${key}`)).map(l => l.replace(/up~\d+/, 'ID')), [
    `POST ${key}?uploads`,
    ...[1, 2, 3, 4].map(n => `PUT ${key}?partNumber=${n}&uploadId=ID`),
    `POST ${key}?uploadId=ID`,
  ], 'CreateMultipartUpload, four parts (1 MiB each, the last half that), CompleteMultipartUpload; no single PUT');
  t.same(s3.uploads.size, 0, 'no upload left in progress');
  t.same((await plan()).todo, [], 'the rerun finds both blobs in the bucket with their size');
});

t.test('one PUT of the same blob is what the store refuses (EntityTooLarge)', async t => {
  const big = randomBytes(2 * MiB);
  const { s3, copy } = await setUp(t, { [blobPath(sha(big))]: big });
  await t.rejects(copy({ above: MAX_ONE_PUT_BYTES, part: MiB }), { name: 'HostError', message: /the object store answered HTTP 400 EntityTooLarge$/ });
  t.equal(s3.objects.size, 0);
});

t.test('a part the store keeps refusing aborts the upload after three tries: no part stays', async t => {
  const big = randomBytes(3 * MiB);
  const { s3, copy } = await setUp(t, { [blobPath(sha(big))]: big });
  s3.fail = r => /^PUT .*[?&]partNumber=2&/.test(r);
  await t.rejects(copy(), { name: 'HostError', message: `copying ${blobPath(sha(big))}: uploading part 2, the object store answered HTTP 500 InternalError`, hint: /run mreg storage migrate again/ });
  t.equal(s3.log.filter(l => /[?&]partNumber=2&/.test(l)).length, 3, 'part 2 tried three times');
  t.match(s3.log.at(-1), /^DELETE \/quay\/mirror\/sha256\/\S+\?uploadId=up~1$/, 'AbortMultipartUpload, last');
  t.equal(s3.uploads.size, 0, 'no parts stay stored');
  t.equal(s3.objects.size, 0, 'no object');
});

t.test('a part the store fails once (a 500, as S3 asks clients to retry) is sent again; the blob arrives whole', async t => {
  const big = randomBytes(3 * MiB);
  const { s3, copy } = await setUp(t, { [blobPath(sha(big))]: big });
  let failed = 0;
  s3.fail = r => /^PUT .*[?&]partNumber=2&/.test(r) && failed++ === 0;
  t.same(await copy(), { files: 1, bytes: big.length });
  t.same(s3.objects.get(`quay/mirror/${blobPath(sha(big))}`), big, 'arrived whole');
  t.equal(s3.log.filter(l => /[?&]partNumber=2&/.test(l)).length, 2, 'part 2 sent twice');
  t.equal(s3.uploads.size, 0, 'no upload left in progress');
});

t.test('a damaged blob over the threshold: named, the upload aborted, nothing stored', async t => {
  const claimed = randomBytes(2.5 * MiB);
  const { s3, copy } = await setUp(t, { [blobPath(sha(claimed))]: randomBytes(2.5 * MiB) });
  await t.rejects(copy(), { message: `the local blob ${blobPath(sha(claimed))} does not hash to its digest sha256:${sha(claimed)}: it is damaged` });
  t.notOk(s3.log.some(l => /^POST .*\?uploadId=/.test(l)), 'never completed');
  t.ok(s3.log.some(l => /^DELETE .*\?uploadId=/.test(l)), 'aborted');
  t.equal(s3.uploads.size, 0);
  t.equal(s3.objects.size, 0);
});

t.test('an upload a killed run left on the key is aborted before the new one; another key\'s is not', async t => {
  const big = randomBytes(2 * MiB);
  const { s3, copy } = await setUp(t, { [blobPath(sha(big))]: big });
  s3.uploads.set('left', { key: `quay/mirror/${blobPath(sha(big))}`, parts: new Map([[1, Buffer.alloc(MiB)]]) });
  s3.uploads.set('other', { key: `quay/mirror/${blobPath(sha(big))}-other`, parts: new Map() });
  await copy();
  t.same([...s3.uploads.keys()], ['other'], 'the left upload is aborted');
  t.same(s3.objects.get(`quay/mirror/${blobPath(sha(big))}`), big);
});

t.test('the part rule: 64 MiB, grown to stay within 10000 parts; MREG_TEST_MULTIPART_BYTES for tests', async t => {
  t.same(partRule({}), { above: 64 * MiB, part: 64 * MiB });
  t.same(partRule({ MREG_TEST_MULTIPART_BYTES: '8388608' }), { above: 8 * MiB, part: 8 * MiB });
  t.same(partRule({ MREG_TEST_MULTIPART_BYTES: 'x' }), partRule({}), 'not a number: the default');
  t.equal(partSizeFor(5 * 1024 ** 3 + 1, partRule({})), 64 * MiB);
  const huge = 2 * 1024 ** 4;
  const part = partSizeFor(huge, partRule({}));
  t.ok(Math.ceil(huge / part) <= 10_000 && part % MiB === 0, `2 TiB in ${Math.ceil(huge / part)} parts of ${part / MiB} MiB`);
});

t.test('a part stored as something else than was sent (its ETag is not the MD5 of the part): the upload is aborted, nothing stays', async t => {
  const big = randomBytes(3 * MiB);
  const { s3, copy } = await setUp(t, { [blobPath(sha(big))]: big });
  s3.etagOf = (r, etag) => (/^PUT .*[?&]partNumber=2&/.test(r) ? '0'.repeat(32) : etag);
  await t.rejects(copy(), { name: 'HostError', message: /stored part 2 with MD5 0{32}, mreg sent [0-9a-f]{32}$/ });
  t.equal(s3.uploads.size, 0, 'the upload was aborted');
  t.equal(s3.objects.size, 0, 'no object');
});

t.test('a completed object whose ETag is not the parts\' is deleted: a rerun must not take it for copied', async t => {
  const big = randomBytes(3 * MiB);
  const { s3, copy, plan } = await setUp(t, { [blobPath(sha(big))]: big });
  s3.etagOf = (r, etag) => (/^POST .*[?&]uploadId=/.test(r) ? `${'f'.repeat(32)}-3` : etag);
  await t.rejects(copy(), { name: 'HostError', message: /stored ETag f{32}-3, mreg sent parts making [0-9a-f]{32}-3$/ });
  t.equal(s3.objects.size, 0, 'the object was deleted');
  t.equal((await plan()).todo.length, 1, 'the rerun copies it again');
});

// A bucket that encrypts with a KMS key (AWS S3 and MinIO answer x-amz-server-side-encryption: aws:kms): no
// ETag is the MD5 of the data. Every upload failed as "stored something else" and was deleted, so a migrate
// could never finish; the signed sha256 the store checks is the check, and the completion lists the parts'
// ETags as the store answered them (it refuses MD5s it never gave: InvalidPart).
t.test('a bucket encrypting with KMS (opaque ETags): every file arrives whole, in parts or not, each body checked by the store', async t => {
  const big = randomBytes(3.5 * MiB);
  const link = 'docker/registry/v2/repositories/init/tiny/_manifests/tags/one/current/link';
  const { s3, copy, plan } = await setUp(t, { [blobPath(sha(big))]: big, [blobPath(sha('layer'))]: 'layer', [link]: 'sha256:abc' });
  s3.sse = 'aws:kms';
  t.same(await copy(), { files: 3, bytes: big.length + 5 + 10 });
  t.same(s3.objects.get(`quay/mirror/${blobPath(sha(big))}`), big, 'the big blob arrived whole, in parts');
  t.equal(s3.objects.get(`quay/mirror/${blobPath(sha('layer'))}`)?.toString(), 'layer', 'the small blob in one PUT');
  t.equal(s3.objects.get(`quay/mirror/${link}`)?.toString(), 'sha256:abc', 'the tag link too');
  t.equal(s3.unsignedPuts, 0, 'every body went signed with its sha256, the tag link\'s too: the store checked each');
  t.same((await plan()).todo.map(f => f.path), [link], 'a rerun finds the blobs copied');
});
