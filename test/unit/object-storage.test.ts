// --quayStorage s3://: flags, the key file, what reaches config.yaml and the units, what is recorded,
// and the bucket check against a small S3 look-alike (the real engine is Ceph RGW in the VM suite).
import t from 'tap';
import { createServer } from 'node:http';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../../src/errors.js';
import { parseMigrateTarget, parseUpOptions, type OptionEnv, type RawUpFlags } from '../../src/install-spec/options.js';
import { readS3Keys } from '../../src/host/s3-credentials.js';
import { checkBucket } from '../../src/host/s3.js';
import { renderQuayConfig } from '../../src/plan/quay-config.js';
import { renderQuayApp } from '../../src/plan/units.js';
import { getValues } from '../../src/plan/unit-file.js';
import { recordSpec } from '../../src/install-spec/record.js';
import { redact } from '../../src/plan/redact.js';
import { withRecordedFlags } from '../../src/install-spec/rerun.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import type { HostFacts, InstallSecrets, InstallSpec } from '../../src/install-spec/spec.js';

const ENV: OptionEnv = { scope: 'rootful', fqdn: 'registry.example.com', home: '/root' };
const S3: RawUpFlags = { quayStorage: 's3://quay-blobs/mirror', s3Endpoint: 'https://s3.example.com:8443', s3CredentialsFile: '/root/s3.ini' };
const KEYS = { accessKey: 'AKIAEXAMPLE', secretKey: 'se/cret+key"with:odd#chars' };
const SECRETS: InstallSecrets = { secretKey: 'a', databaseSecretKey: 'b', pgPassword: 'c', pgAdminPassword: 'd', redisPassword: 'e', initPassword: 'f' };

function problems(raw: RawUpFlags): readonly string[] {
  try { parseUpOptions(raw, ENV); } catch (e) { if (e instanceof UsageError) return e.problems; throw e; }
  throw new Error('accepted');
}

t.test('flags: s3:// with its endpoint and key file becomes object storage', async t => {
  const spec = parseUpOptions(S3, ENV);
  t.strictSame(spec.quayStorage, { kind: 's3', bucket: 'quay-blobs', prefix: 'mirror', endpoint: 'https://s3.example.com:8443', credentialsFile: '/root/s3.ini' });
  t.strictSame(parseUpOptions({ ...S3, quayStorage: 's3://quay-blobs/', s3CaBundle: '/root/ca.pem' }, ENV).quayStorage,
    { kind: 's3', bucket: 'quay-blobs', prefix: '', endpoint: 'https://s3.example.com:8443', credentialsFile: '/root/s3.ini', caBundle: '/root/ca.pem' });
});

t.test('flags: each mistake is one line naming the flag and the fix', async t => {
  t.strictSame(problems({ quayStorage: 's3://quay-blobs' }), [
    '--s3Endpoint: needed with --quayStorage s3://quay-blobs; give the object store\'s URL, e.g. --s3Endpoint https://s3.example.com',
    '--s3CredentialsFile: needed with --quayStorage s3://quay-blobs; give a file with aws_access_key_id and aws_secret_access_key (AWS credentials format); keys are never taken from the command line',
  ]);
  t.match(problems({ ...S3, quayStorage: 's3://Quay_Blobs' })[0], /^--quayStorage s3:\/\/Quay_Blobs: "Quay_Blobs" is not an S3 bucket name/);
  t.match(problems({ ...S3, quayStorage: 's3://quay-blobs/a//b' })[0], /^--quayStorage s3:\/\/quay-blobs\/a\/\/b: the prefix "a\/\/b" may hold only/);
  t.strictSame(problems({ ...S3, s3Endpoint: 'https://s3.example.com/quay-blobs' }),
    ['--s3Endpoint https://s3.example.com/quay-blobs: has a path; the bucket goes in --quayStorage s3://BUCKET; give the object store\'s URL, e.g. --s3Endpoint https://s3.example.com or http://10.0.0.5:7480']);
  t.match(problems({ ...S3, s3Endpoint: 'https://AK:SK@s3.example.com' })[0], /credentials do not belong in the URL; put the key pair in --s3CredentialsFile/);
  t.match(problems({ ...S3, s3Endpoint: 'ftp://s3.example.com' })[0], /ftp is not http or https/);
  // `minio:9000` parses as a URL of scheme "minio": the line says what is missing.
  t.strictSame(problems({ ...S3, s3Endpoint: 'minio:9000' }), ['--s3Endpoint minio:9000: has no http:// or https:// in front; add the scheme the object store serves, e.g. --s3Endpoint https://minio:9000']);
  for (const bad of ['./mirror', 'a/../b', 'mirror/.', '..']) {
    t.match(problems({ ...S3, quayStorage: `s3://quay-blobs/${bad}` })[0], /has a \. or \.\. part, which object stores and proxies read differently/, bad);
  }
  t.equal(parseUpOptions({ ...S3, quayStorage: 's3://quay-blobs/v1.2/mirror' }, ENV).quayStorage.kind, 's3', 'dots inside a part are fine');
  t.throws(() => parseMigrateTarget({ to: 's3://quay-blobs', s3Endpoint: 'https://s3.example.com/quay-blobs', s3CredentialsFile: '/root/s3.ini' }, ENV),
    { problems: ['--s3Endpoint https://s3.example.com/quay-blobs: has a path; the bucket goes in --to s3://BUCKET; give the object store\'s URL, e.g. --s3Endpoint https://s3.example.com or http://10.0.0.5:7480'] } as never, 'storage migrate names its own flag');
  t.strictSame(problems({ ...S3, pgStorage: 's3://pg' }), ['--pgStorage s3://pg: PostgreSQL needs a file system, not an object store; give a podman volume name or an absolute path; only --quayStorage may be s3://']);
  // Without s3:// storage an s3 flag would be silently ignored.
  t.strictSame(problems({ s3Endpoint: 'https://s3.example.com', s3CreateBucket: true }), [
    '--s3Endpoint: only applies to object storage; pass --quayStorage s3://BUCKET with it, or leave it out',
    '--s3CreateBucket: only applies to object storage; pass --quayStorage s3://BUCKET with it, or leave it out',
  ]);
});

t.test('key file: AWS format or an ObjectBucketClaim\'s lines; never readable by others', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-s3-'));
  const file = (name: string, text: string, mode = 0o600) => { const p = join(dir, name); writeFileSync(p, text); chmodSync(p, mode); return p; };
  t.strictSame(await readS3Keys(file('aws', '[default]\naws_access_key_id = AK1\naws_secret_access_key = SK1\n')), { accessKey: 'AK1', secretKey: 'SK1' });
  t.strictSame(await readS3Keys(file('obc', 'AWS_ACCESS_KEY_ID=AK2\nAWS_SECRET_ACCESS_KEY=SK2\n', 0o640)), { accessKey: 'AK2', secretKey: 'SK2' });
  const open = file('open', '[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n', 0o644);
  await t.rejects(readS3Keys(open), { name: 'UsageError', problems: [`--s3CredentialsFile ${open}: mode 0644 lets every user read the keys; chmod 600 ${open}`] });
  t.strictSame(await readS3Keys(file('hash', '# made by hand\n[default]\n; keys of the lab MinIO\naws_access_key_id = AK3\naws_secret_access_key = abc#def;ghi\\\\x\\y\n')),
    { accessKey: 'AK3', secretKey: 'abc#def;ghi\\\\x\\y' }, 'a value is read whole, as the AWS CLI reads it: # ; and backslashes kept');
  t.strictSame(await readS3Keys(file('quoted', '[default]\naws_access_key_id = AK4\naws_secret_access_key = "ab#c"\n')), { accessKey: 'AK4', secretKey: 'ab#c' }, 'a quoted value as before: the quotes go');
  const empty = file('empty', '[default]\n');
  await t.rejects(readS3Keys(empty), { name: 'UsageError', problems: [/no key pair found/] });
  await t.rejects(readS3Keys(join(dir, 'missing')), { name: 'UsageError', problems: [/no such file/] });
});

const spec = (): InstallSpec => ({ ...parseUpOptions(S3, ENV), quayStorage: { ...(parseUpOptions(S3, ENV).quayStorage as Extract<InstallSpec['quayStorage'], { kind: 's3' }>), keys: KEYS } });
const FACTS = { scope: 'rootful', selinux: 'disabled' } as HostFacts;

t.test('config.yaml: RadosGWStorage with the fields Quay reads (storage/cloud.py)', async t => {
  const cfg = parse(renderQuayConfig(spec(), SECRETS));
  t.strictSame(cfg.DISTRIBUTED_STORAGE_CONFIG, { default: ['RadosGWStorage', {
    access_key: KEYS.accessKey, bucket_name: 'quay-blobs', hostname: 's3.example.com', is_secure: true, port: 8443,
    secret_key: KEYS.secretKey, storage_path: '/mirror' }] });
  const noPrefix = { ...spec(), quayStorage: { ...(spec().quayStorage as never as object), prefix: '', endpoint: 'http://10.0.0.5' } } as InstallSpec;
  t.match(parse(renderQuayConfig(noPrefix, SECRETS)).DISTRIBUTED_STORAGE_CONFIG.default[1], { storage_path: '/', is_secure: false, port: 80 });
  t.throws(() => renderQuayConfig(parseUpOptions(S3, ENV), SECRETS), /keys were not read/);
  // Blob GETs through the registry, not redirected to the bucket (clients know only the registry).
  t.equal(cfg.FEATURE_PROXY_STORAGE, true);
  t.notOk('FEATURE_PROXY_STORAGE' in parse(renderQuayConfig(parseUpOptions({}, ENV), SECRETS)), 'local storage: not written');
  t.equal(parse(renderQuayConfig(spec(), SECRETS, { settings: { FEATURE_PROXY_STORAGE: false }, foreign: [] })).FEATURE_PROXY_STORAGE, false,
    'a user who turned it off keeps it off');
  t.notMatch(redact(renderQuayConfig(spec(), SECRETS), SECRETS, spec()), /AKIAEXAMPLE|se\/cret/, 'dry-run output hides the key pair');
});

t.test('quay-app mounts no blob storage; the record never holds the keys', async t => {
  const app = renderQuayApp(spec(), FACTS);
  t.strictSame(getValues(app, 'Container', 'Volume'), ['/etc/quay-install/quay-config:/quay-registry/conf/stack:Z']);
  const rec = recordSpec(spec());
  t.notOk(JSON.stringify(rec).includes(KEYS.secretKey));
  t.strictSame(rec.quayStorage, { kind: 's3', bucket: 'quay-blobs', prefix: 'mirror', endpoint: 'https://s3.example.com:8443', credentialsFile: '/root/s3.ini' });
  // A re-run with no flags finds the same bucket, endpoint and key file.
  const again = parseUpOptions(withRecordedFlags({}, { ...rec, quayStorage: { ...rec.quayStorage, caBundle: '/root/ca.pem' } } as never, quayRootLayout('/etc/quay-install')), ENV);
  t.strictSame(again.quayStorage, { ...rec.quayStorage, caBundle: '/root/ca.pem' });
});

t.test('bucket check: each failure names its step and fix; a good store passes and is left clean', async t => {
  const objects = new Map<string, string>();
  let buckets = new Set<string>(['quay-blobs']);
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', c => { body += c; });
    req.on('end', () => {
      if (!/Credential=AK\//.test(req.headers.authorization ?? '')) { res.writeHead(403); return res.end('<Error><Code>InvalidAccessKeyId</Code></Error>'); }
      const [, bucket, ...rest] = (req.url ?? '').split('/');
      const key = rest.join('/');
      if (!buckets.has(bucket!) && !(req.method === 'PUT' && !key)) { res.writeHead(404); return res.end('<Error><Code>NoSuchBucket</Code></Error>'); }
      if (!key) { if (req.method === 'PUT') buckets.add(bucket!); res.writeHead(200); return res.end(); }
      if (req.method === 'PUT') { objects.set(key, body); res.writeHead(200); return res.end(); }
      if (req.method === 'GET') { res.writeHead(objects.has(key) ? 200 : 404); return res.end(objects.get(key) ?? ''); }
      if (req.method === 'DELETE') { objects.delete(key); res.writeHead(204); return res.end(); }
      res.writeHead(405); res.end();
    });
  }).listen(0, '127.0.0.1');
  await new Promise(r => server.once('listening', r));
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const target = (bucket: string, accessKey = 'AK') => ({ endpoint, bucket, keys: { accessKey, secretKey: 'SK' } });
  t.strictSame(await checkBucket(target('quay-blobs'), 'mirror', false), { ok: true, created: false });
  t.strictSame([...objects.keys()], [], 'the test object is deleted');
  t.match(await checkBucket(target('quay-blobs', 'WRONG'), '', false), { ok: false, step: 'sign in', fix: /check the key pair in --s3CredentialsFile/ });
  t.match(await checkBucket(target('other'), '', false), { ok: false, step: 'find the bucket', fix: /pass --s3CreateBucket/ });
  t.strictSame(await checkBucket(target('other'), '', true), { ok: true, created: true });
  t.match(await checkBucket({ ...target('quay-blobs'), endpoint: 'http://127.0.0.1:1' }, '', false), { ok: false, step: 'reach the endpoint', fix: /check --s3Endpoint/ });
  buckets = new Set();
});

t.test('a prefix holding another registry\'s blobs is refused for a new install; the install\'s own, and an empty one, pass', async t => {
  const { startFakeS3 } = await import('../support/fake-s3.js');
  const { refuseForeignBlobs } = await import('../../src/apply/object-storage.js');
  const s3 = await startFakeS3('AK', ['quay-blobs']);
  t.teardown(() => s3.close());
  const at = (prefix: string) => ({ kind: 's3' as const, bucket: 'quay-blobs', prefix, endpoint: s3.endpoint, credentialsFile: '/root/s3.ini', keys: { accessKey: 'AK', secretKey: 'SK' } });
  s3.objects.set('quay-blobs/mirror/sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', Buffer.from('hello'));
  const err = await refuseForeignBlobs(at('mirror'), undefined).then(() => undefined, (e: unknown) => e);
  t.type(err, UsageError);
  t.match((err as UsageError).message, /^--quayStorage s3:\/\/quay-blobs\/mirror at .*: already holds a registry's blobs \(mirror\/sha256\/…\) and is not this install's/);
  t.match((err as UsageError).hint, /give a prefix of its own, e\.g\. --quayStorage s3:\/\/quay-blobs\/mirror-2/);
  await t.resolves(refuseForeignBlobs(at('mirror'), at('mirror')), 'the install\'s own prefix');
  const recordedUnderOldName = { ...at('mirror'), endpoint: 'https://s3-old-name.example.com' };
  await t.resolves(refuseForeignBlobs(at('mirror'), recordedUnderOldName), 'its own prefix, the store by another name (--s3Endpoint changed)');
  await t.resolves(refuseForeignBlobs(at('other'), undefined), 'an empty prefix');
  await t.resolves(refuseForeignBlobs(at(''), undefined), 'the bucket\'s top: no sha256/ there');
  t.ok(s3.log.some(l => /^GET \/quay-blobs\?list-type=2&max-keys=1&prefix=mirror\/sha256\//.test(l)), 'one list of one key');
  // Nothing listening (found by the VM suite: an internal error, before the bucket check could say so).
  const closed = { ...at('mirror'), endpoint: 'http://127.0.0.1:9' };
  await t.resolves(refuseForeignBlobs(closed, undefined), 'an endpoint that does not answer is the bucket check\'s to report');
});
