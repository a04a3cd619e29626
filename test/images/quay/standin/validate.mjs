// What Quay's entrypoint runs on every start before anything else (conf/init/d_validate_config_bundle.sh:
// `config-tool validate --mode online`): field-group checks that talk to the database and Redis. Returns
// one row per field group, [group, error or '-', ok]; the caller prints them and exits 1 on any error.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { parseDbUri, once } from './pg.mjs';
import { redisPing } from './backends.mjs';
import { storageLocation, validateRadosGW } from './objectstore.mjs';

// config-tool's ValidateIsHostname, after trimming spaces.
const HOSTNAME = /^[a-zA-Z-0-9.]+(:[0-9]+)?$/;

async function database(cfg) {
  if (!cfg.DB_URI) return ['DB_URI is required.'];
  try {
    const db = parseDbUri(cfg.DB_URI);
    // one attempt with a 5 s deadline, as config-tool: no waiting for a database that is not up yet
    const ext = await once(db, 'SHOW server_version; SELECT extname FROM pg_extension', { timeoutMs: 5000 });
    if (!ext.some(([name]) => String(name).includes('pg_trgm')))
      return ['Could not connect to database. Error: if you are using a Postgres database, you must install the pg_trgm extension'];
    return [];
  } catch (e) {
    return [`Could not connect to database. Error: ${e.message}`];
  }
}

/** Go's tls.X509KeyPair + VerifyHostname on the first certificate: SANs only, no Common Name fallback. */
function certificates(stack, serverHostname) {
  const certFile = path.join(stack, 'ssl.cert'), keyFile = path.join(stack, 'ssl.key');
  for (const f of [certFile, keyFile])
    if (!fs.existsSync(f)) return [`Certificate ${path.basename(f)} is required for HostSettings .`];
  let leaf, key;
  try {
    const pem = fs.readFileSync(certFile, 'utf8');
    const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
    if (!first) return ['tls: failed to find any PEM data in certificate input'];
    leaf = new crypto.X509Certificate(first[0]);
  } catch (e) { return [`x509: ${e.message}`]; }
  try { key = crypto.createPrivateKey(fs.readFileSync(keyFile)); } catch { return ['tls: failed to find any PEM data in key input']; }
  if (!leaf.checkPrivateKey(key)) return ['tls: private key does not match public key'];
  const host = serverHostname.replace(/:[0-9]+$/, '').replace(/^\[(.*)\]$/, '$1');
  const ok = net.isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host, { subject: 'never', wildcards: true, partialWildcards: false });
  if (!ok) {
    const names = (leaf.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
    return [names.length === 0
      ? `x509: certificate is not valid for any names, but wanted to match ${host}`
      : `x509: certificate is valid for ${names.join(', ')}, not ${host}`];
  }
  return [];
}

function hostSettings(cfg, stack) {
  const errors = [];
  const hostname = typeof cfg.SERVER_HOSTNAME === 'string' ? cfg.SERVER_HOSTNAME.trim() : '';
  if (!hostname) errors.push('SERVER_HOSTNAME is required');
  if (!HOSTNAME.test(hostname)) errors.push('SERVER_HOSTNAME must be of type Hostname');
  const scheme = cfg.PREFERRED_URL_SCHEME ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') errors.push('PREFERRED_URL_SCHEME must be one of http, https.');
  if (scheme === 'https' && cfg.EXTERNAL_TLS_TERMINATION !== true) errors.push(...certificates(stack, hostname));
  return errors;
}

async function redis(cfg) {
  const errors = [];
  for (const key of ['BUILDLOGS_REDIS', 'USER_EVENTS_REDIS']) {
    const r = cfg[key];
    if (!r || typeof r !== 'object') { errors.push(`${key} is required`); continue; }
    if (!r.host) { errors.push(`${key}.HOST is required`); continue; }
    const answer = await redisPing(r, 10_000);
    if (answer !== 'PONG') errors.push(`Could not connect to Redis with values provided in ${key}. Error: ${answer}`);
  }
  return errors;
}

function storage(cfg, stack) {
  const s = cfg.DISTRIBUTED_STORAGE_CONFIG;
  if (!s || typeof s !== 'object') return ['DISTRIBUTED_STORAGE_CONFIG is required'];
  if (Object.keys(s).length === 0) return ['DISTRIBUTED_STORAGE_CONFIG must contain at least one storage location.'];
  const [driver, args] = storageLocation(cfg);
  if (driver === 'LocalStorage') return [];
  // The stand-in implements two of config-tool's drivers; the others are refused as unknown.
  if (driver === 'RadosGWStorage') return validateRadosGW(cfg.DISTRIBUTED_STORAGE_PREFERENCE?.[0] ?? 'default', args ?? {}, stack);
  return [`${driver} is not a valid storage type.`];
}

// config-tool's other field groups (quay/quay config-tool/pkg/lib/fieldgroups/*): the stand-in checks none
// of them, but prints their rows, so the table is as long as the real one and a failing row lands where
// it would (not among the journal's last lines).
const UNCHECKED = ['AccessSettings', 'ActionLogArchiving', 'AppTokenAuthentication', 'AutoPrune', 'BitbucketBuildTrigger', 'BuildManager',
  'ElasticSearch', 'Email', 'GitHubBuildTrigger', 'GitHubLogin', 'GitLabBuildTrigger', 'GoogleLogin', 'JWTAuthentication', 'LDAP', 'OIDC',
  'QuayDocumentation', 'RepoMirror', 'SecurityScanner', 'TeamSyncing', 'TimeMachine', 'UserVisibleSettings'];

/** Rows in config-tool's order (field groups sorted by name, as Go's sort.Strings does). */
export async function validateConfig(cfg, stack) {
  const groups = [
    ['Database', await database(cfg)],
    ['DistributedStorage', storage(cfg, stack)],
    ['HostSettings', hostSettings(cfg, stack)],
    ['Redis', await redis(cfg)],
    ...UNCHECKED.map((name) => [name, []]),
  ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return groups.flatMap(([name, errs]) => (errs.length ? errs.map((e) => [name, e, false]) : [[name, '-', true]]));
}

/**
 * The rows as config-tool's tablewriter renders them (commands/validate.go: a border, a header, and a
 * line after every row, SetRowLine(true)): about 55 lines for a config that passes.
 */
export function validationTable(rows) {
  const header = ['Field Group', 'Error', 'Status'];
  const cells = rows.map(([g, e, ok]) => [g, e, ok ? '🟢' : '🔴']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const row = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line, row(header), line, ...cells.flatMap((r) => [row(r), line])];
}
