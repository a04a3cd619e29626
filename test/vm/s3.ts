// The real S3 engine of issue 18 for VM suites: the one-node Ceph RGW of test/vm/guest/ceph-up.sh
// (test/run.mjs stages it to /opt/mreg), and the few S3 calls a test needs to look at what a registry
// stored, made with curl's SigV4 in the guest (no SDK on either side).
import { asRoot as root, describe, type GuestResult } from './guest.js';

export interface S3Engine {
  /** http://192.0.2.80:7480: one address for the guest, rootful (bridge) and rootless (pasta) containers. */
  endpoint: string;
  httpsEndpoint: string;
  host: string;
  port: number;
  httpsPort: number;
  /** Self-signed server certificate (no CA): pass it as the CA bundle. New after every fresh start. */
  caFile: string;
  accessKey: string;
  secretKey: string;
  /** RGW takes any region in the signature; this is what the helpers sign with. */
  region: string;
}

const CEPH_UP = '/opt/mreg/test/vm/guest/ceph-up.sh';
const CEPH_DOWN = '/opt/mreg/test/vm/guest/ceph-down.sh';
// ceph-up.sh's defaults. The address is on a dummy interface of the guest: 127.0.0.1 is the container
// itself, and pasta copies the guest's primary address into every rootless container.
const HOST = '192.0.2.80';
export const S3: S3Engine = {
  endpoint: `http://${HOST}:7480`, httpsEndpoint: `https://${HOST}:7443`, host: HOST, port: 7480, httpsPort: 7443,
  caFile: '/etc/ceph/rgw.crt', accessKey: 'QUAYACCESSKEY0000000', secretKey: 'quaysecretkey0000000000000000000000000000',
  region: 'us-east-1',
};

// The keys go to curl as a config file on stdin (-K -), never on a command line: the security suite
// reads the guest's process table.
const CREDS = `user = "${S3.accessKey}:${S3.secretKey}"\naws-sigv4 = "aws:amz:${S3.region}:s3"\n`;
// encodeURIComponent leaves !'()* alone; SigV4's canonical form (and the shell quoting below) wants them encoded.
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** One signed request as root in the guest; stdout is the body followed by a last line with the HTTP code. */
async function call(method: string, path: string, body?: string, header = ''): Promise<{ code: number; body: string; r: GuestResult }> {
  const url = `'${S3.endpoint}${path}'${header ? ` -H '${header}'` : ''}`;
  // With a body, stdin is the config's one line and then the body (`read` takes exactly one line).
  const r = body === undefined
    ? await root(`curl -sS -K - -X ${method} -w '\\n%{http_code}' ${url}`, { input: CREDS })
    : await root(`IFS= read -r u; IFS= read -r a; curl -sS -K <(printf '%s\\n' "$u" "$a") -X ${method} --data-binary @- -w '\\n%{http_code}' ${url}`,
      { input: CREDS + body });
  const lines = r.stdout.split('\n');
  return { code: Number(lines.pop()), body: lines.join('\n'), r };
}

/**
 * Starts the engine as root in the guest, or keeps it when it already answers with these keys, or
 * starts it again after stopS3 (data kept in all three). `fresh` wipes it and starts anew (about 20 s
 * under TCG, more on a busy host). Throws when it does not come up.
 */
export async function startS3(opts: { fresh?: boolean } = {}): Promise<S3Engine> {
  if (!opts.fresh && (await call('GET', '/')).code === 200) return S3;
  const again = opts.fresh ? '' : `if [ -d /var/lib/ceph/osd/ceph-0 ] && ! pgrep -f '^(radosgw|ceph-osd|ceph-mon) ' >/dev/null; then bash ${CEPH_UP} start; else `;
  const r = await root(`${again}bash ${CEPH_UP}${again ? '; fi' : ''}`, { timeoutMs: 5 * 60_000 });
  if (r.exitCode !== 0 || (await call('GET', '/')).code !== 200) throw new Error(`ceph-up.sh failed: ${describe(r)}`);
  return S3;
}

/** Stops RGW, the OSD and the monitor (SIGTERM: the memstore is saved; `ceph-up.sh start` brings it back). */
export async function stopS3(): Promise<GuestResult> {
  return root(`bash ${CEPH_DOWN}`, { timeoutMs: 2 * 60_000 });
}

/** Creates `bucket`; one that this user already has is fine. */
export async function createBucket(bucket: string): Promise<void> {
  const c = await call('PUT', `/${enc(bucket)}`);
  if (c.code !== 200 && !(c.code === 409 && c.body.includes('BucketAlreadyOwnedByYou'))) throw new Error(`create bucket ${bucket}: HTTP ${c.code}\n${describe(c.r)}`);
}

export async function s3Put(bucket: string, key: string, body: string): Promise<void> {
  const c = await call('PUT', `/${enc(bucket)}/${key.split('/').map(enc).join('/')}`, body);
  if (c.code !== 200) throw new Error(`put ${bucket}/${key}: HTTP ${c.code}\n${describe(c.r)}`);
}

/** PUT signed with `sha256` as the payload hash (as storage migrate sends a blob): the HTTP code and the error code. */
export async function s3PutSigned(bucket: string, key: string, body: string, sha256: string): Promise<{ code: number; error: string }> {
  const c = await call('PUT', `/${enc(bucket)}/${key.split('/').map(enc).join('/')}`, body, `x-amz-content-sha256: ${sha256}`);
  return { code: c.code, error: /<Code>([^<]*)<\/Code>/.exec(c.body)?.[1] ?? '' };
}

const unxml = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);

export interface S3Object { key: string; size: number; etag: string }

/**
 * Every object in `bucket` under `prefix` (ListObjectsV2, all pages), with its size and ETag (quotes
 * dropped). A '+' in the prefix or in a page's last key fails: curl 8.14 signs %2B in a query as a space
 * (curl/curl#20543).
 */
export async function s3Objects(bucket: string, prefix = ''): Promise<S3Object[]> {
  const objects: S3Object[] = [];
  for (let token = ''; ;) {
    const q = `list-type=2&prefix=${enc(prefix)}${token ? `&continuation-token=${enc(token)}` : ''}`;
    const c = await call('GET', `/${enc(bucket)}?${q}`);
    if (c.code !== 200) throw new Error(`list ${bucket}/${prefix}: HTTP ${c.code}\n${describe(c.r)}`);
    for (const [, o = ''] of c.body.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      objects.push({ key: unxml(/<Key>([^<]*)<\/Key>/.exec(o)?.[1] ?? ''), size: Number(/<Size>(\d+)<\/Size>/.exec(o)?.[1]), etag: unxml(/<ETag>([^<]*)<\/ETag>/.exec(o)?.[1] ?? '').replace(/"/g, '') });
    }
    token = c.body.includes('<IsTruncated>true</IsTruncated>') ? unxml(/<NextContinuationToken>([^<]*)</.exec(c.body)?.[1] ?? '') : '';
    if (!token) return objects;
  }
}

/** Every key in `bucket` under `prefix` (s3Objects). */
export async function s3List(bucket: string, prefix = ''): Promise<string[]> {
  return (await s3Objects(bucket, prefix)).map(o => o.key);
}

/** The keys of the multipart uploads in progress in `bucket` (ListMultipartUploads, its first 1000). */
export async function s3Uploads(bucket: string): Promise<string[]> {
  const c = await call('GET', `/${enc(bucket)}?uploads=`);
  if (c.code !== 200) throw new Error(`list uploads of ${bucket}: HTTP ${c.code}\n${describe(c.r)}`);
  return [...c.body.matchAll(/<Upload>[\s\S]*?<Key>([^<]*)<\/Key>/g)].map(m => unxml(m[1]!));
}

/**
 * Sets a config option of the running radosgw through its admin socket (lost when RGW restarts; ceph-up.sh
 * sets none of these) and resolves with the value it then reports. E.g. rgw_max_put_size, the largest one PUT
 * (or part) RGW takes, 5 GiB by default.
 */
export async function setRgwOption(name: string, value: string): Promise<string> {
  const asok = 'ls /run/ceph/ceph-client.rgw.a*.asok | head -1';
  const r = await root(`a=$(${asok}); ceph --admin-daemon "$a" config set ${name} ${value} >/dev/null && ceph --admin-daemon "$a" config get ${name}`);
  if (r.exitCode !== 0) throw new Error(`set ${name} in radosgw: ${describe(r)}`);
  return String((JSON.parse(r.stdout) as Record<string, unknown>)[name]);
}
