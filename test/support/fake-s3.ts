// A small in-memory S3 look-alike for unit tests (path-style; checks only the access key id in the
// signature). The real engine, Ceph RGW, is the VM suites' (test/vm/s3.ts).
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface FakeS3 {
  endpoint: string;
  objects: Map<string, Buffer>;
  buckets: Set<string>;
  /** Every request as "METHOD /bucket/key". */
  log: string[];
  close(): void;
}

export async function startFakeS3(accessKey = 'AK', buckets: string[] = []): Promise<FakeS3> {
  const objects = new Map<string, Buffer>();
  const known = new Set(buckets);
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [rawPath = '', query = ''] = (req.url ?? '').split('?');
      const url = decodeURIComponent(rawPath);
      log.push(`${req.method} ${decodeURIComponent(req.url ?? '')}`);
      if (!new RegExp(`Credential=${accessKey}/`).test(req.headers.authorization ?? '')) { res.writeHead(403); return res.end('<Error><Code>InvalidAccessKeyId</Code></Error>'); }
      const [, bucket = '', ...rest] = url.split('/');
      const key = `${bucket}/${rest.join('/')}`;
      const hasKey = rest.length > 0 && rest.join('/') !== '';
      if (!known.has(bucket) && !(req.method === 'PUT' && !hasKey)) { res.writeHead(404); return res.end('<Error><Code>NoSuchBucket</Code></Error>'); }
      // ListObjectsV2 (list-type=2): the keys under `prefix`, up to max-keys.
      if (!hasKey && req.method === 'GET' && /(^|&)list-type=2(&|$)/.test(query)) {
        const q = new URLSearchParams(query);
        const under = `${bucket}/${q.get('prefix') ?? ''}`;
        const keys = [...objects.keys()].filter(k => k.startsWith(under)).sort().slice(0, Number(q.get('max-keys') ?? 1000));
        res.writeHead(200);
        return res.end(`<ListBucketResult><KeyCount>${keys.length}</KeyCount>${keys.map(k => `<Contents><Key>${k.slice(bucket.length + 1)}</Key></Contents>`).join('')}</ListBucketResult>`);
      }
      if (!hasKey) { if (req.method === 'PUT') known.add(bucket); res.writeHead(200); return res.end(); }
      const obj = objects.get(key);
      if (req.method === 'PUT') {
        const body = Buffer.concat(chunks);
        // A signed payload hash is checked and a mismatch stores nothing, as Ceph RGW 18.2.7 answers
        // (test/README.md, "The S3 engine") and SigV4 requires.
        const signed = String(req.headers['x-amz-content-sha256'] ?? '');
        if (/^[0-9a-f]{64}$/.test(signed) && signed !== createHash('sha256').update(body).digest('hex')) {
          res.writeHead(400); return res.end('<Error><Code>XAmzContentSHA256Mismatch</Code></Error>');
        }
        objects.set(key, body);
        res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
        return res.end();
      }
      if (req.method === 'HEAD') { res.writeHead(obj ? 200 : 404, obj ? { 'content-length': obj.length } : {}); return res.end(); }
      if (req.method === 'GET') { res.writeHead(obj ? 200 : 404); return res.end(obj ?? ''); }
      if (req.method === 'DELETE') { objects.delete(key); res.writeHead(204); return res.end(); }
      res.writeHead(405); res.end();
    });
  }).listen(0, '127.0.0.1');
  await new Promise(r => server.once('listening', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, objects, buckets: known, log, close: () => server.close() };
}
