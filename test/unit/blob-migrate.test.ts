// storage migrate's copy: every file under its relative path, blobs checked against their digest,
// a rerun copies only what the bucket lacks (blobs) and the files that change in place.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyFiles, planCopy } from '../../src/apply/blob-migrate.js';
import { startFakeS3 } from '../support/fake-s3.js';

function store(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'mreg-blobs-'));
  for (const [p, c] of Object.entries(files)) { mkdirSync(dirname(join(root, p)), { recursive: true }); writeFileSync(join(root, p), c); }
  return root;
}
const sha = (c: string | Buffer) => createHash('sha256').update(c).digest('hex');

t.test('copies every file under the prefix, then a rerun copies only the non-blobs', async t => {
  const s3 = await startFakeS3('AK', ['quay']);
  t.teardown(() => s3.close());
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  const blob = `docker/registry/v2/blobs/sha256/${sha(big).slice(0, 2)}/${sha(big)}/data`;
  const quayBlob = `sha256/${sha('layer').slice(0, 2)}/${sha('layer')}`;
  const link = 'docker/registry/v2/repositories/init/tiny/_manifests/tags/one/current/link';
  const root = store({ [blob]: big, [quayBlob]: 'layer', [link]: 'sha256:abc', 'uploads/partial': 'x' });
  const target = { endpoint: s3.endpoint, bucket: 'quay', keys: { accessKey: 'AK', secretKey: 'SK' } };
  const scratch = mkdtempSync(join(tmpdir(), 'mreg-scratch-'));
  const first = await planCopy(root, 'rootful', target, 'mirror');
  t.same(first.todo.map(f => f.path).sort(), [blob, link, quayBlob].sort(), 'uploads in progress are left out');
  const seen: number[] = [];
  const r = await copyFiles(root, 'rootful', target, 'mirror', first.todo, scratch, p => seen.push(p.files));
  t.same(r, { files: 3, bytes: big.length + 5 + 10 });
  t.same(seen, [1, 2, 3]);
  t.same(s3.objects.get(`quay/mirror/${blob}`), big, 'the big blob arrived whole');
  t.equal(s3.objects.get(`quay/mirror/${link}`)?.toString(), 'sha256:abc');
  const again = await planCopy(root, 'rootful', target, 'mirror');
  t.same(again.todo.map(f => f.path), [link], 'blobs in the bucket with their size are done; the tag link goes again');
});

t.test('many files go over in several lanes, each once', async t => {
  const s3 = await startFakeS3('AK', ['quay']);
  t.teardown(() => s3.close());
  const blobs = Object.fromEntries(Array.from({ length: 11 }, (_, i) => Buffer.alloc(1000 * (i + 1), i)).map(b => [`sha256/${sha(b).slice(0, 2)}/${sha(b)}`, b]));
  const root = store(blobs);
  const target = { endpoint: s3.endpoint, bucket: 'quay', keys: { accessKey: 'AK', secretKey: 'SK' } };
  const { todo } = await planCopy(root, 'rootful', target, '');
  const seen: number[] = [];
  const r = await copyFiles(root, 'rootful', target, '', todo, mkdtempSync(join(tmpdir(), 'mreg-scratch-')), p => seen.push(p.files));
  t.same(r, { files: 11, bytes: 66_000 });
  t.same(seen, Array.from({ length: 11 }, (_, i) => i + 1), 'progress counts every file once');
  for (const [k, b] of Object.entries(blobs)) t.same(s3.objects.get(`quay/${k}`), b, `${k.slice(0, 12)}… arrived whole`);
  t.equal(s3.log.filter(l => l.startsWith('PUT')).length, 11, 'one PUT each');
});

t.test('a damaged local blob stops the copy, named, and every lane with it', async t => {
  const s3 = await startFakeS3('AK', ['quay']);
  t.teardown(() => s3.close());
  const bad = `sha256/${sha('good').slice(0, 2)}/${sha('good')}`;
  const root = store({ [bad]: 'evil', ...Object.fromEntries(['a', 'b', 'c'].map(c => [`sha256/${sha(c).slice(0, 2)}/${sha(c)}`, c])) });
  const target = { endpoint: s3.endpoint, bucket: 'quay', keys: { accessKey: 'AK', secretKey: 'SK' } };
  const { todo } = await planCopy(root, 'rootful', target, '');
  await t.rejects(copyFiles(root, 'rootful', target, '', todo, mkdtempSync(join(tmpdir(), 'mreg-scratch-')), () => undefined),
    { message: `the local blob ${bad} does not hash to its digest sha256:${sha('good')}: it is damaged` });
  t.notOk(s3.objects.has(`quay/${bad}`), 'the damaged copy is not in the bucket');
});

t.test('the error is the damaged blob, not another lane\'s stop', async t => {
  // Dealt largest first: the 100 kB blob alone in lane 0, the damaged one first in lane 1, the small ones
  // after; lane 0 reaches its next file after lane 1 failed and stops there.
  const s3 = await startFakeS3('AK', ['quay']);
  t.teardown(() => s3.close());
  const good = (n: number, fill: number) => Buffer.alloc(n, fill);
  const name = (b: Buffer | string) => `sha256/${sha(b).slice(0, 2)}/${sha(b)}`;
  const claimed = good(50_000, 1);
  const files: Record<string, Buffer> = { [name(good(100_000, 2))]: good(100_000, 2), [name(claimed)]: good(50_000, 9) };
  for (let i = 0; i < 30; i++) files[name(good(10_000, 10 + i))] = good(10_000, 10 + i);
  const root = store(files);
  const target = { endpoint: s3.endpoint, bucket: 'quay', keys: { accessKey: 'AK', secretKey: 'SK' } };
  const { todo } = await planCopy(root, 'rootful', target, '');
  await t.rejects(copyFiles(root, 'rootful', target, '', todo, mkdtempSync(join(tmpdir(), 'mreg-scratch-')), () => undefined),
    { message: `the local blob ${name(claimed)} does not hash to its digest sha256:${sha(claimed)}: it is damaged` });
});
