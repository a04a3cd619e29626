// Quay's config.yaml (and the Postgres start hook Quay's schema needs), rendered from spec + secrets.

import { PG_DATABASE, PG_PORT, PG_USER, REDIS_PORT } from '../install-spec/defaults.js';
import { recordedSpec, type InstallRecord } from '../install-spec/record.js';
import type { InstallSecrets, InstallSpec, QuayStorage } from '../install-spec/spec.js';
import { endpointParts } from '../install-spec/s3-flags.js';
import { NOTHING_KEPT, type KeptConfig, type Yaml } from './config-keep.js';

/**
 * Strings are written double-quoted with JSON escapes, which YAML reads identically, so no value
 * (a password with ':' or '#', a hostname like 'no') can change type or structure.
 */
function flow(v: Yaml): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  const o = v as { readonly [k: string]: Yaml };
  return `{${Object.keys(o).map(k => `${JSON.stringify(k)}: ${flow(o[k]!)}`).join(', ')}}`;
}

/** Top-level keys in block style (one per line, nested maps indented) so diffs stay readable. */
function toYaml(doc: Readonly<Record<string, Yaml>>, indent = ''): string {
  let out = '';
  for (const k of Object.keys(doc)) {
    // mreg's own keys are plain; a carried-over key may need quotes.
    const key = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k);
    const v = doc[k]!;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      out += `${indent}${key}:\n${toYaml(v as Record<string, Yaml>, `${indent}  `)}`;
    } else {
      out += `${indent}${key}: ${flow(v)}\n`;
    }
  }
  return out;
}

/**
 * Quay's config.yaml. Differs from mirror-registry's on purpose: Postgres instead of SQLite, the
 * init user is a superuser (mirror-registry hard-coded `admin`, so `init` could not create
 * organizations), and no self-registration or anonymous pulls (mirror-registry left both open).
 * Redis and Postgres are on the pod's loopback; 127.0.0.1 rather than `localhost` avoids ::1.
 */
export function renderQuayConfig(spec: InstallSpec, secrets: InstallSecrets, kept: KeptConfig = NOTHING_KEPT): string {
  const doc = templateDoc(spec, secrets);
  for (const [k, v] of Object.entries(kept.settings)) if (k in doc) doc[k] = v;
  for (const [k, v] of Object.entries(spec.accessRules ?? {})) doc[k] = v; // a flag given on this run wins
  // The first line is what every earlier mreg wrote: a new wording would restart quay-app on every host's next up.
  const head = `# Written by mreg; "mreg up" rewrites it. Holds secrets: keep mode 0640.\n${toYaml(doc)}`;
  if (kept.foreign.length === 0) return head;
  return `${head}# Kept as found: keys mreg does not set.\n${toYaml(Object.fromEntries(kept.foreign))}`;
}

/** The keys mreg's template writes (for either storage): a key of an existing config.yaml that is not here is carried over. */
export const TEMPLATE_KEYS: ReadonlySet<string> = new Set([undefined, 's3'].flatMap(kind => Object.keys(templateDoc(
  { hostname: 'h', port: 1, initUser: 'u', ...(kind ? { quayStorage: { kind, endpoint: 'http://h', keys: {} } } : {}) } as InstallSpec,
  { redisPassword: '', pgPassword: '', secretKey: '', databaseSecretKey: '' } as InstallSecrets,
))));

function templateDoc(spec: InstallSpec, secrets: InstallSecrets): Record<string, Yaml> {
  const redis = { host: '127.0.0.1', password: secrets.redisPassword, port: REDIS_PORT };
  const dbUri = `postgresql://${PG_USER}:${encodeURIComponent(secrets.pgPassword)}@127.0.0.1:${PG_PORT}/${PG_DATABASE}`;
  const doc: Record<string, Yaml> = {
    AUTHENTICATION_TYPE: 'Database',
    BUILDLOGS_REDIS: redis,
    CREATE_NAMESPACE_ON_PUSH: true,
    DATABASE_SECRET_KEY: secrets.databaseSecretKey,
    DB_URI: dbUri,
    DEFAULT_TAG_EXPIRATION: '2w',
    DISTRIBUTED_STORAGE_CONFIG: { default: storageLocation(spec.quayStorage) },
    DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: [],
    DISTRIBUTED_STORAGE_PREFERENCE: ['default'],
    FEATURE_ANONYMOUS_ACCESS: false,
    FEATURE_APP_SPECIFIC_TOKENS: true,
    FEATURE_BUILD_SUPPORT: false,
    FEATURE_DIRECT_LOGIN: true,
    FEATURE_MAILING: false,
    // With object storage Quay answers blob GETs with a redirect to a presigned URL of the bucket, so every
    // client (each cluster node) would have to reach the store and trust its CA. Through the registry, a
    // client needs only what it has; the Quay Operator sets the same for its own object storage
    // (quay/quay-operator pkg/kustomize/secrets.go). Kept as found after the first install.
    ...(spec.quayStorage?.kind === 's3' ? { FEATURE_PROXY_STORAGE: true } : {}),
    // Repository mirroring needs Quay's repomirrorworker, which the `registry` mode never starts (quay/quay
    // v3.12.21 conf/init/supervisord_conf_create.py); only a separate `repomirror` container runs it.
    FEATURE_REPO_MIRROR: false,
    FEATURE_SECURITY_SCANNER: false,
    // /api/v1/user/initialize creates the first user directly; it does not check FEATURE_USER_CREATION.
    FEATURE_USER_CREATION: false,
    FEATURE_USER_INITIALIZE: true,
    LOGS_MODEL: 'database',
    PREFERRED_URL_SCHEME: 'https',
    REGISTRY_TITLE: 'Quay mirror registry',
    REGISTRY_TITLE_SHORT: 'Quay',
    SECRET_KEY: secrets.secretKey,
    SERVER_HOSTNAME: `${spec.hostname}:${spec.port}`,
    SETUP_COMPLETE: true,
    SUPER_USERS: [spec.initUser],
    TAG_EXPIRATION_OPTIONS: ['0s', '1d', '1w', '2w', '4w'],
    TESTING: false,
    USE_CDN: false,
    USER_EVENTS_REDIS: redis,
    USERFILES_LOCATION: 'default',
    USERFILES_PATH: 'userfiles/',
  };
  return doc;
}

/**
 * Quay's storage driver and its arguments. An object store is RadosGWStorage (quay/quay
 * storage/cloud.py): S3Storage adds ServerSideEncryption=AES256 to every upload, which Ceph RGW and
 * MinIO refuse unless SSE is set up, and a disconnected site's object store is one of those, not AWS.
 * storage_path must not be empty (config-tool's ValidateStorage); "/" keeps keys at the bucket's top.
 */
/**
 * config.yaml as the recorded spec renders it: what the last run wrote, hand edits aside. Undefined for a new
 * install (or one `mreg down` removed): then nothing was written from a spec.
 */
export function recordedConfigRender(spec: InstallSpec, previous: InstallRecord | undefined, secrets: InstallSecrets, kept: KeptConfig): string | undefined {
  if (!previous || previous.removedAt) return undefined;
  return renderQuayConfig(recordedSpec(spec, previous.spec), secrets, kept);
}

function storageLocation(s: QuayStorage | undefined): Yaml {
  if (s?.kind !== 's3') return ['LocalStorage', { storage_path: '/datastorage' }];
  if (!s.keys) throw new Error('object storage keys were not read before rendering config.yaml');
  const { hostname, port, isSecure } = endpointParts(s.endpoint);
  return ['RadosGWStorage', {
    access_key: s.keys.accessKey, bucket_name: s.bucket, hostname, is_secure: isSecure, port,
    secret_key: s.keys.secretKey, storage_path: `/${s.prefix}`,
  }];
}

/**
 * Sourced by the sclorg Postgres image on every start (postgresql-start/*.sh), as the database
 * superuser over the local socket. Quay's schema uses pg_trgm, and the `quay` role cannot be
 * relied on to create extensions; mirror-registry did this with `podman exec` after start.
 */
export const PG_START_HOOK_FILE = 'pg-trgm.sh';
export const PG_START_HOOK = `# Written by mreg; sourced by the Postgres image at every start.
psql --set ON_ERROR_STOP=1 -d ${PG_DATABASE} -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm'
`;
