// Quay's RadosGWStorage as the stand-in honours it: config-tool's boot check (quay/config-tool
// pkg/lib/shared/storage_validators.go: required fields, then minio's BucketExists) and
// distribution's s3 driver pointed at the same bucket and prefix, so pushes really land there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const BUNDLE = '/tmp/standin-ca-bundle.pem';

/** The storage location config.yaml uses, as [driver, args]. */
export function storageLocation(cfg) {
  const pref = cfg.DISTRIBUTED_STORAGE_PREFERENCE?.[0] ?? 'default';
  return cfg.DISTRIBUTED_STORAGE_CONFIG?.[pref] ?? [];
}

/**
 * conf/init/certs_install.sh: every file in $QUAYCONFIG/extra_ca_certs/ and every $QUAYCONFIG/extra_ca*
 * file joins the trust store. Returns the bundle's path (the system's when there are none).
 */
export function trustBundle(stack) {
  const dir = path.join(stack, 'extra_ca_certs');
  const files = [
    ...(fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? fs.readdirSync(dir).sort().map((f) => path.join(dir, f)) : []),
    ...fs.readdirSync(stack).filter((f) => f.startsWith('extra_ca') && fs.statSync(path.join(stack, f)).isFile()).sort().map((f) => path.join(stack, f)),
  ];
  const extra = files.map((f) => fs.readFileSync(f, 'utf8'));
  if (extra.length === 0) return SYSTEM_BUNDLE;
  fs.writeFileSync(BUNDLE, [fs.readFileSync(SYSTEM_BUNDLE, 'utf8'), ...extra].join('\n'));
  return BUNDLE;
}

function endpoint(args) {
  const scheme = args.is_secure ? 'https' : 'http';
  return /^https?:\/\//.test(args.hostname) ? args.hostname : `${scheme}://${args.hostname}${args.port ? `:${args.port}` : ''}`;
}

/** config-tool's ValidateStorage for RadosGWStorage: error lines, [] when the bucket answers. */
export function validateRadosGW(name, args, stack) {
  const errors = [];
  for (const key of ['access_key', 'secret_key', 'hostname', 'bucket_name', 'storage_path']) {
    if (typeof args[key] !== 'string' || args[key] === '') errors.push(`DISTRIBUTED_STORAGE_CONFIG.${name}.${key} is required`);
  }
  if (errors.length > 0) return errors;
  // minio-go's BucketExists is a signed HEAD of the bucket. curl signs it; the key pair goes in on stdin
  // (-K -), never in argv, which every user on the host can read. config-tool allows 1 s; TCG needs more.
  const r = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-I', '--max-time', '5',
    '--cacert', trustBundle(stack), '--aws-sigv4', 'aws:amz:us-east-1:s3', '-K', '-', `${endpoint(args)}/${args.bucket_name}`],
  { input: `user = "${`${args.access_key}:${args.secret_key}`.replace(/["\\]/g, '\\$&')}"\n`, encoding: 'utf8' });
  const code = r.stdout.trim();
  if (code === '200') return [];
  if (code === '404') return [`Could not find bucket (${args.bucket_name}) in storage (${name})`];
  const why = code === '403' ? 'Access Denied.' : code && code !== '000' ? `HTTP ${code}` : (r.stderr.trim() || 'no answer');
  return [`Could not connect to storage ${name}. Error: ${why}`];
}

/**
 * distribution's storage section for the driver Quay's config names. Quay with object storage answers
 * blob GETs with a redirect to a presigned URL (storage/cloud.py get_direct_download_url) unless
 * FEATURE_PROXY_STORAGE routes them through its nginx; distribution redirects too unless told not to.
 */
export function registryStorageYaml(location, proxyStorage) {
  const [driver, args = {}] = location;
  if (driver !== 'RadosGWStorage') return `  filesystem: {rootdirectory: ${JSON.stringify(args.storage_path ?? '/datastorage')}}\n`;
  // With regionendpoint set, distribution 2.8's s3-aws driver uses path-style requests, as boto does with RGW.
  const root = (args.storage_path ?? '/').replace(/\/+$/, '') || '/';
  return `  s3:
    accesskey: ${JSON.stringify(args.access_key)}
    secretkey: ${JSON.stringify(args.secret_key)}
    region: us-east-1
    regionendpoint: ${JSON.stringify(endpoint(args))}
    bucket: ${JSON.stringify(args.bucket_name)}
    rootdirectory: ${JSON.stringify(root)}
    secure: ${Boolean(args.is_secure)}
    v4auth: true
${proxyStorage ? '  redirect: {disable: true}\n' : ''}`;
}
