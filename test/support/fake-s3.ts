// A small in-memory S3 look-alike for unit tests (path-style; checks only the access key id in the
// signature), multipart uploads included. The real engine, Ceph RGW, is the VM suites' (test/vm/s3.ts).
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface FakeS3 {
  endpoint: string;
  objects: Map<string, Buffer>;
  buckets: Set<string>;
  /** Every request as "METHOD /bucket/key?query". */
  log: string[];
  /** Multipart uploads in progress by upload id: the "bucket/key" and the parts received. */
  uploads: Map<string, { key: string; parts: Map<number, Buffer> }>;
  /** The largest body a PUT or a part may carry, as RGW's rgw_max_put_size: a larger one is 400 EntityTooLarge. */
  maxPut: number;
  /** The smallest part but the last a completion takes (S3's 5 MiB; none unless a test sets it). */
  minPart: number;
  /** A request ("METHOD /bucket/key?query", as logged) this returns true for is answered 500 InternalError. */
  fail?: (request: string) => boolean;
  /** The ETag answered for a request (a part's PUT or a completion), given the right one: a store that stored something else. */
  etagOf?: (request: string, etag: string) => string;
  /**
   * 'aws:kms': the bucket encrypts with a KMS key, as AWS S3 and MinIO answer then: the header says so and
   * every ETag is opaque (not the MD5), and a completion must list the ETags its parts were answered with.
   */
  sse?: 'aws:kms';
  /** PUTs whose body was not signed (UNSIGNED-PAYLOAD): the store could not check what arrived. */
  unsignedPuts: number;
  close(): void;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

export async function startFakeS3(accessKey = 'AK', buckets: string[] = []): Promise<FakeS3> {
  const objects = new Map<string, Buffer>();
  const known = new Set(buckets);
  const log: string[] = [];
  const uploads: FakeS3['uploads'] = new Map();
  const opaque = () => randomBytes(16).toString('hex');
  /** The ETag each part was answered with, by upload id and part number. */
  const answered = new Map<string, Map<number, string>>();
  let ids = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [rawPath = '', query = ''] = (req.url ?? '').split('?');
      const url = decodeURIComponent(rawPath);
      log.push(`${req.method} ${decodeURIComponent(req.url ?? '')}`);
      if (fake.fail?.(log.at(-1)!)) { res.writeHead(500); return res.end('<Error><Code>InternalError</Code></Error>'); }
      if (!new RegExp(`Credential=${accessKey}/`).test(req.headers.authorization ?? '')) { res.writeHead(403); return res.end('<Error><Code>InvalidAccessKeyId</Code></Error>'); }
      const [, bucket = '', ...rest] = url.split('/');
      const key = `${bucket}/${rest.join('/')}`;
      const hasKey = rest.length > 0 && rest.join('/') !== '';
      if (!known.has(bucket) && !(req.method === 'PUT' && !hasKey)) { res.writeHead(404); return res.end('<Error><Code>NoSuchBucket</Code></Error>'); }
      const q = new URLSearchParams(query);
      // ListObjectsV2 (list-type=2): the keys under `prefix`, up to max-keys.
      if (!hasKey && req.method === 'GET' && /(^|&)list-type=2(&|$)/.test(query)) {
        const under = `${bucket}/${q.get('prefix') ?? ''}`;
        const keys = [...objects.keys()].filter(k => k.startsWith(under)).sort().slice(0, Number(q.get('max-keys') ?? 1000));
        res.writeHead(200);
        return res.end(`<ListBucketResult><KeyCount>${keys.length}</KeyCount>${keys.map(k => `<Contents><Key>${k.slice(bucket.length + 1)}</Key></Contents>`).join('')}</ListBucketResult>`);
      }
      // ListMultipartUploads: the uploads in progress under `prefix`.
      if (!hasKey && req.method === 'GET' && q.has('uploads')) {
        const under = `${bucket}/${q.get('prefix') ?? ''}`;
        const list = [...uploads].filter(([, u]) => u.key.startsWith(under));
        res.writeHead(200);
        return res.end(`<ListMultipartUploadsResult>${list.map(([id, u]) => `<Upload><Key>${u.key.slice(bucket.length + 1)}</Key><UploadId>${id}</UploadId></Upload>`).join('')}</ListMultipartUploadsResult>`);
      }
      if (!hasKey) { if (req.method === 'PUT') known.add(bucket); res.writeHead(200); return res.end(); }
      const obj = objects.get(key);
      if (req.method === 'POST' && q.has('uploads')) {
        const id = `up~${++ids}`;
        uploads.set(id, { key, parts: new Map() });
        res.writeHead(200);
        return res.end(`<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${rest.join('/')}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
      }
      const upload = q.has('uploadId') ? uploads.get(q.get('uploadId')!) : undefined;
      if (q.has('uploadId') && upload?.key !== key) { res.writeHead(404); return res.end('<Error><Code>NoSuchUpload</Code></Error>'); }
      if (upload && req.method === 'DELETE') { uploads.delete(q.get('uploadId')!); res.writeHead(204); return res.end(); }
      // CompleteMultipartUpload: the listed parts, ascending, as uploaded, each but the last at least minPart.
      if (upload && req.method === 'POST') {
        const listed = [...Buffer.concat(chunks).toString().matchAll(/<Part><PartNumber>(\d+)<\/PartNumber><ETag>"?([0-9a-f]+)"?<\/ETag><\/Part>/g)].map(m => ({ n: Number(m[1]), etag: m[2]! }));
        const bad = listed.length === 0 ? 'MalformedXML'
          : listed.some((p, i) => i > 0 && p.n <= listed[i - 1]!.n) ? 'InvalidPartOrder'
            : listed.some(p => !upload.parts.has(p.n) || answered.get(q.get('uploadId')!)?.get(p.n) !== p.etag) ? 'InvalidPart'
              : listed.slice(0, -1).some(p => upload.parts.get(p.n)!.length < fake.minPart) ? 'EntityTooSmall' : '';
        if (bad) { res.writeHead(400); return res.end(`<Error><Code>${bad}</Code></Error>`); }
        const parts = listed.map(p => upload.parts.get(p.n)!);
        objects.set(key, Buffer.concat(parts));
        uploads.delete(q.get('uploadId')!);
        const etag = fake.sse ? `${opaque()}-${parts.length}` : `${createHash('md5').update(Buffer.concat(parts.map(p => createHash('md5').update(p).digest()))).digest('hex')}-${parts.length}`;
        res.writeHead(200, sseHeader());
        return res.end(`<CompleteMultipartUploadResult><Key>${rest.join('/')}</Key><ETag>&quot;${fake.etagOf?.(log.at(-1)!, etag) ?? etag}&quot;</ETag></CompleteMultipartUploadResult>`);
      }
      if (req.method === 'PUT') {
        const body = Buffer.concat(chunks);
        if (body.length > fake.maxPut) { res.writeHead(400); return res.end('<Error><Code>EntityTooLarge</Code></Error>'); }
        // A signed payload hash is checked and a mismatch stores nothing, as Ceph RGW 18.2.7 answers
        // (test/README.md, "The S3 engine") and SigV4 requires.
        const signed = String(req.headers['x-amz-content-sha256'] ?? '');
        if (/^[0-9a-f]{64}$/.test(signed) && signed !== createHash('sha256').update(body).digest('hex')) {
          res.writeHead(400); return res.end('<Error><Code>XAmzContentSHA256Mismatch</Code></Error>');
        }
        if (!/^[0-9a-f]{64}$/.test(signed)) fake.unsignedPuts += 1;
        const right = fake.sse ? opaque() : md5(body);
        const etag = fake.etagOf?.(log.at(-1)!, right) ?? right;
        if (upload) {
          upload.parts.set(Number(q.get('partNumber')), body);
          answered.set(q.get('uploadId')!, (answered.get(q.get('uploadId')!) ?? new Map<number, string>()).set(Number(q.get('partNumber')), etag));
        } else objects.set(key, body);
        res.writeHead(200, { etag: `"${etag}"`, ...sseHeader() });
        return res.end();
      }
      if (req.method === 'HEAD') { res.writeHead(obj ? 200 : 404, obj ? { 'content-length': obj.length } : {}); return res.end(); }
      if (req.method === 'GET') { res.writeHead(obj ? 200 : 404); return res.end(obj ?? ''); }
      if (req.method === 'DELETE') { objects.delete(key); res.writeHead(204); return res.end(); }
      res.writeHead(405); res.end();
    });
  }).listen(0, '127.0.0.1');
  const sseHeader = (): Record<string, string> => (fake.sse ? { 'x-amz-server-side-encryption': fake.sse } : {});
  const fake: FakeS3 = { endpoint: '', objects, buckets: known, log, uploads, maxPut: Infinity, minPart: 0, unsignedPuts: 0, close: () => server.close() };
  await new Promise(r => server.once('listening', r));
  fake.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return fake;
}
