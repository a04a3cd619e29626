// --quayStorage s3://BUCKET[/PREFIX] and --s3Endpoint, checked without touching the network.

/** One problem with a flag value: what is wrong and how to fix it, as options.ts prints them. */
export interface FlagProblem { problem: string; fix: string }

// S3 bucket naming rules (and Ceph RGW's default, rgw_relaxed_s3_bucket_names = false).
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Keys reach config.yaml quoted, but a prefix is also a folder name in every S3 browser: keep it plain.
const PREFIX_RE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export const S3_SCHEME = 's3://';

/** s3://BUCKET[/PREFIX] → bucket and prefix (no leading or trailing '/'). */
export function parseS3Location(value: string): { bucket: string; prefix: string } | FlagProblem {
  const rest = value.slice(S3_SCHEME.length).replace(/\/+$/, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  const example = 'e.g. --quayStorage s3://quay-blobs or s3://quay-blobs/mirror';
  if (!BUCKET_RE.test(bucket) || bucket.includes('..') || /^[0-9.]+$/.test(bucket)) {
    return { problem: `${JSON.stringify(bucket)} is not an S3 bucket name (3-63 lowercase letters, digits, . and -, starting and ending with a letter or digit)`, fix: example };
  }
  if (prefix !== '' && !PREFIX_RE.test(prefix)) {
    return { problem: `the prefix ${JSON.stringify(prefix)} may hold only letters, digits, . _ - and single / between parts`, fix: example };
  }
  // Quay joins the prefix into object keys as written; a proxy in front of a pull removes dot segments from the URL.
  if (prefix.split('/').some(part => part === '.' || part === '..')) {
    return { problem: `the prefix ${JSON.stringify(prefix)} has a . or .. part, which object stores and proxies read differently`, fix: example };
  }
  return { bucket, prefix };
}

/** An http(s) origin: scheme, host and port only; Quay's RadosGWStorage takes exactly these. */
export function parseS3Endpoint(value: string, storageFlag = '--quayStorage'): { endpoint: string } | FlagProblem {
  const fix = 'give the object store\'s URL, e.g. --s3Endpoint https://s3.example.com or http://10.0.0.5:7480';
  // `minio:9000` parses as a URL of scheme "minio".
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { problem: 'has no http:// or https:// in front', fix: `add the scheme the object store serves, e.g. --s3Endpoint https://${value}` };
  let url: URL;
  try { url = new URL(value); } catch { return { problem: 'not a URL', fix }; }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: `${url.protocol.slice(0, -1)} is not http or https`, fix };
  if (url.username || url.password) return { problem: 'credentials do not belong in the URL', fix: 'put the key pair in --s3CredentialsFile' };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return { problem: `has a path; the bucket goes in ${storageFlag} s3://BUCKET`, fix };
  }
  return { endpoint: url.origin };
}

/** The pieces of Quay's RadosGWStorage config (quay/quay storage/cloud.py): host, port and is_secure. */
export function endpointParts(endpoint: string): { hostname: string; port: number; isSecure: boolean } {
  const url = new URL(endpoint);
  const isSecure = url.protocol === 'https:';
  // An IPv6 literal keeps its brackets: Quay appends ":port" to the hostname as given.
  return { hostname: url.hostname, port: url.port ? Number(url.port) : isSecure ? 443 : 80, isSecure };
}
