// `mreg up` flags → InstallSpec: every flag checked at once, one "--flag VALUE: problem; fix" line each.

import { posix } from 'node:path';
import { UsageError } from '../errors.js';
import {
  DEFAULT_IMAGES, DEFAULT_INIT_USER, DEFAULT_PG_STORAGE, DEFAULT_PORT, DEFAULT_QUAY_STORAGE,
  INIT_PASSWORD_MIN_LENGTH,
} from './defaults.js';
import { defaultQuayRoot } from '../model/scope.js';
import type { AccessRules, Images, InstallSpec, ObjectStorage, QuayStorage, Scope, Storage, TlsSource } from './spec.js';
import { parseS3Endpoint, parseS3Location, S3_SCHEME } from './s3-flags.js';

export interface RawUpFlags {
  quayHostname?: string; quayRoot?: string; quayStorage?: string; pgStorage?: string;
  sslCert?: string; sslKey?: string; sslCheckSkip?: boolean; initUser?: string; initPassword?: string;
  imageArchive?: string; quayImage?: string; pgImage?: string; redisImage?: string; infraImage?: string;
  s3Endpoint?: string; s3CredentialsFile?: string; s3CaBundle?: string;
  /** "true" or "false": the access rules (config.yaml FEATURE_ANONYMOUS_ACCESS, FEATURE_USER_CREATION). */
  anonymousAccess?: string; userCreation?: string;
  /** Not a string flag: only checked to come with s3:// storage. */
  s3CreateBucket?: boolean;
  /** `mreg storage migrate --to s3://…`: the object storage to move the blobs into. */
  to?: string;
}

export interface OptionEnv { scope: Scope; fqdn: string; home: string; }

type Flag = Exclude<keyof RawUpFlags, 'sslCheckSkip' | 's3CreateBucket'>;

/** How each flag is spelled on the command line (mirror-registry's camelCase, except --image-archive). */
const FLAG_NAMES: Record<Flag, string> = {
  quayHostname: '--quayHostname', quayRoot: '--quayRoot', quayStorage: '--quayStorage',
  pgStorage: '--pgStorage', sslCert: '--sslCert', sslKey: '--sslKey', initUser: '--initUser',
  initPassword: '--initPassword', imageArchive: '--image-archive', quayImage: '--quayImage',
  pgImage: '--pgImage', redisImage: '--redisImage', infraImage: '--infraImage', s3Endpoint: '--s3Endpoint',
  s3CredentialsFile: '--s3CredentialsFile', s3CaBundle: '--s3CaBundle', to: '--to',
  anonymousAccess: '--anonymousAccess', userCreation: '--userCreation',
};

/** Each access-rule flag and the config.yaml key it sets. */
const ACCESS_FLAGS = [['anonymousAccess', 'FEATURE_ANONYMOUS_ACCESS'], ['userCreation', 'FEATURE_USER_CREATION']] as const;

// Anything below 0x20 (newline, tab, …) or DEL could add lines to a unit file or break a message.
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
// Paths reach Volume= lines: no ':' or ',' (option separators), '%' (systemd specifiers), '$', spaces.
const PATH_BAD_CHAR_RE = /[^A-Za-z0-9._/@+-]/;
const IPV4_RE = /^[0-9]+(\.[0-9]+){3}$/;
const DNS_LABEL_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// podman's volume name rule; the name also becomes <name>.volume and <name>-volume.service.
const VOLUME_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Quay's VALID_USERNAME_REGEX (util/validation.py), length 2..255.
const QUAY_USER_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
// docker/distribution reference grammar, simplified: domain[:port]/path[:tag][@digest].
const IMAGE_RE = new RegExp(
  '^(?:localhost|[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+|[A-Za-z0-9-]+:[0-9]+|[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+:[0-9]+)' +
  '(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+' +
  '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?' +
  '(?:@sha256:[a-f0-9]{64})?$',
);

/** A flag value as shown in a one-line message: bare when plain, JSON-quoted otherwise. */
function show(value: string): string {
  return /^[\x21-\x7e]+$/.test(value) && !value.includes('"') ? value : JSON.stringify(value);
}

class Problems {
  readonly lines: string[] = [];
  add(flag: Flag, value: string | undefined, problem: string, fix: string): void {
    const shown = value === undefined ? '' : ` ${flag === 'initPassword' ? '<hidden>' : show(value)}`;
    this.lines.push(`${FLAG_NAMES[flag]}${shown}: ${problem}; ${fix}`);
  }
}

/**
 * Reads one string flag defensively: cac/mri may hand over a number (`--initUser 007` → 7, which is
 * why cli.ts should declare these as strings), `true` (flag without a value) or an array (flag repeated).
 * Returns undefined when absent or unusable (the problem is recorded), else the string.
 */
function readString(raw: RawUpFlags, flag: Flag, p: Problems): string | undefined {
  const v: unknown = (raw as Record<string, unknown>)[flag];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) {
    p.add(flag, undefined, 'given more than once', `pass ${FLAG_NAMES[flag]} once`);
    return undefined;
  }
  if (typeof v === 'boolean') {
    p.add(flag, undefined, 'needs a value', `write ${FLAG_NAMES[flag]} VALUE`);
    return undefined;
  }
  const s = typeof v === 'string' ? v : String(v);
  if (CONTROL_RE.test(s)) {
    p.add(flag, s, 'contains a control character (newline, tab, …)', 'remove it');
    return undefined;
  }
  if (s === '') {
    p.add(flag, s, 'empty value', `give a value or leave ${FLAG_NAMES[flag]} out for the default`);
    return undefined;
  }
  return s;
}

function expandHome(value: string, home: string): string {
  if (value === '~') return home;
  return value.startsWith('~/') ? `${home.replace(/\/+$/, '')}${value.slice(1)}` : value;
}

/**
 * Absolute, normalised path usable in a Volume= line, or undefined after recording a problem.
 * `~` and `~/…` expand to the user's home (mirror-registry's default was a literal `~/quay-install`).
 */
function parsePath(flag: Flag, value: string, env: OptionEnv, p: Problems, example: string, strict: boolean): string | undefined {
  const expanded = expandHome(value, env.home);
  if (!expanded.startsWith('/')) {
    p.add(flag, value, 'relative path', `give an absolute path, e.g. ${FLAG_NAMES[flag]} ${example}`);
    return undefined;
  }
  const path = posix.normalize(expanded).replace(/(.)\/+$/, '$1');
  if (path === '/') {
    p.add(flag, value, 'the root directory cannot be used', `give a dedicated directory, e.g. ${example}`);
    return undefined;
  }
  const bad = path.match(PATH_BAD_CHAR_RE)?.[0];
  if (strict && bad !== undefined) {
    p.add(flag, value, `contains ${JSON.stringify(bad)}, which mreg does not allow in paths that reach unit files`,
      'use only letters, digits and . _ - + @ /');
    return undefined;
  }
  return path;
}

function parseHostname(value: string, fromDefault: boolean, p: Problems): { hostname: string; port: number } | undefined {
  const where = fromDefault ? ' (from hostname -f)' : '';
  const fix = 'pass --quayHostname with a DNS name that resolves to this host, e.g. --quayHostname registry.example.com:8443';
  const add = (problem: string, f = fix) => p.lines.push(`--quayHostname ${show(value)}${where}: ${problem}; ${f}`);
  if (value === '') return void add('hostname -f gave no name');
  if (value.startsWith('[') || /^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(value)) return void add('an IP address is not allowed');
  if ((value.match(/:/g)?.length ?? 0) > 1) return void add('more than one ":"', 'write host:port, e.g. --quayHostname registry.example.com:8443');
  const colon = value.lastIndexOf(':');
  const host = colon < 0 ? value : value.slice(0, colon);
  let port = DEFAULT_PORT;
  if (colon >= 0) {
    const text = value.slice(colon + 1);
    const portFix = `use a port from 1 to 65535, e.g. --quayHostname ${host || 'registry.example.com'}:8443`;
    if (!/^[0-9]{1,5}$/.test(text)) return void add(`${show(text)} is not a port number`, portFix);
    port = Number(text);
    if (port < 1 || port > 65535) return void add(`port ${port} is out of range`, portFix);
  }
  if (host === '') return void add('no host name before the port');
  if (IPV4_RE.test(host)) return void add('an IP address is not allowed');
  if (host.endsWith('.')) return void add('a trailing dot is not allowed', `write it without the dot: --quayHostname ${host.slice(0, -1)}`);
  if (host.length > 253) return void add('the host name is longer than 253 characters');
  const badLabel = host.split('.').find(l => !DNS_LABEL_RE.test(l));
  if (badLabel !== undefined) {
    return void add(`${show(badLabel)} is not a valid DNS label`, 'use letters, digits and inner hyphens, 1-63 characters per label');
  }
  // Quay checks its own workers at localhost plus SERVER_HOSTNAME's port when the host is localhost
  // (quay/quay health/services.py _compute_internal_endpoint), inside its container, where it listens on
  // 8443 only: any other port never reports healthy.
  if (host.toLowerCase() === 'localhost' && port !== DEFAULT_PORT) {
    return void add(`Quay checks its health at localhost:${port} inside its container, where it listens on ${DEFAULT_PORT}, so it would never be healthy`,
      `use this host's DNS name, e.g. --quayHostname registry.example.com:${port}, or localhost with port ${DEFAULT_PORT}`);
  }
  // DNS names are case-blind, file names are not: the CA goes to certs.d/<name>:<port>, which podman
  // looks up by the name as a client writes it, and clients write it in lower case.
  return { hostname: host.toLowerCase(), port };
}

function parseStorage(flag: 'quayStorage' | 'pgStorage', value: string, env: OptionEnv, p: Problems): Storage | undefined {
  const example = flag === 'quayStorage' ? '/var/lib/quay-storage' : '/var/lib/quay-pg';
  if (value.startsWith('/') || value.startsWith('~') || value.includes('/') || value.startsWith('.')) {
    if (!value.startsWith('/') && !value.startsWith('~')) {
      p.add(flag, value, 'relative path', `give an absolute path (bind mount), e.g. ${example}, or a podman volume name`);
      return undefined;
    }
    const path = parsePath(flag, value, env, p, example, true);
    return path === undefined ? undefined : { kind: 'path', path };
  }
  if (!VOLUME_NAME_RE.test(value) || value.length > 200) {
    p.add(flag, value, 'not a valid podman volume name',
      `use letters, digits and _ . - (starting with a letter or digit), e.g. ${flag === 'quayStorage' ? DEFAULT_QUAY_STORAGE : DEFAULT_PG_STORAGE}, or an absolute path`);
    return undefined;
  }
  return { kind: 'volume', name: value };
}

const S3_FLAGS = ['s3Endpoint', 's3CredentialsFile', 's3CaBundle'] as const;

/** s3://BUCKET[/PREFIX] with the flags it needs; the files are read by the caller's preflight. */
function parseObjectStorage(raw: RawUpFlags, value: string, env: OptionEnv, p: Problems, flag: 'quayStorage' | 'to' = 'quayStorage'): ObjectStorage | undefined {
  const location = parseS3Location(value);
  if ('problem' in location) p.add(flag, value, location.problem, location.fix.replace('--quayStorage', FLAG_NAMES[flag]));
  const endpointValue = readString(raw, 's3Endpoint', p);
  const endpoint = endpointValue === undefined ? undefined : parseS3Endpoint(endpointValue, FLAG_NAMES[flag]);
  if (endpoint && 'problem' in endpoint) p.add('s3Endpoint', endpointValue, endpoint.problem, endpoint.fix);
  if (raw.s3Endpoint === undefined) {
    p.add('s3Endpoint', undefined, `needed with ${FLAG_NAMES[flag]} ${value}`, 'give the object store\'s URL, e.g. --s3Endpoint https://s3.example.com');
  }
  const { credentialsFile, caBundle } = s3FilePaths(raw, env, p);
  if (raw.s3CredentialsFile === undefined) {
    p.add('s3CredentialsFile', undefined, `needed with ${FLAG_NAMES[flag]} ${value}`,
      'give a file with aws_access_key_id and aws_secret_access_key (AWS credentials format); keys are never taken from the command line');
  }
  if ('problem' in location || !endpoint || 'problem' in endpoint || !credentialsFile) return undefined;
  const storage: ObjectStorage = { kind: 's3', ...location, endpoint: endpoint.endpoint, credentialsFile };
  if (caBundle !== undefined) storage.caBundle = caBundle;
  return storage;
}

/**
 * --s3CredentialsFile / --s3CaBundle as restore reads them: where this host keeps the files of a backed-up
 * object-storage install (the bucket and endpoint come from the backup).
 */
export function parseS3FileFlags(raw: RawUpFlags, env: OptionEnv): { credentialsFile?: string; caBundle?: string } {
  const p = new Problems();
  const { credentialsFile, caBundle } = s3FilePaths(raw, env, p);
  if (p.lines.length > 0) throw new UsageError(p.lines);
  return { ...(credentialsFile ? { credentialsFile } : {}), ...(caBundle ? { caBundle } : {}) };
}

/** --s3CredentialsFile and --s3CaBundle as absolute paths (either undefined when not given or wrong). */
function s3FilePaths(raw: RawUpFlags, env: OptionEnv, p: Problems): { credentialsFile?: string; caBundle?: string } {
  const cred = readString(raw, 's3CredentialsFile', p);
  const ca = readString(raw, 's3CaBundle', p);
  return {
    credentialsFile: cred === undefined ? undefined : parsePath('s3CredentialsFile', cred, env, p, '/root/s3-credentials', false),
    caBundle: ca === undefined ? undefined : parsePath('s3CaBundle', ca, env, p, '/etc/pki/ca-trust/source/anchors/s3-ca.pem', false),
  };
}

/** An s3 flag without s3:// storage would be silently ignored: refuse it. */
function noS3Flags(raw: RawUpFlags, p: Problems, storage: Storage | undefined): QuayStorage | undefined {
  for (const flag of S3_FLAGS) {
    if (raw[flag] !== undefined) p.add(flag, undefined, 'only applies to object storage', 'pass --quayStorage s3://BUCKET with it, or leave it out');
  }
  if (raw.s3CreateBucket) p.lines.push('--s3CreateBucket: only applies to object storage; pass --quayStorage s3://BUCKET with it, or leave it out');
  return storage;
}

function parseImage(flag: 'quayImage' | 'pgImage' | 'redisImage' | 'infraImage', value: string, fallback: string, p: Problems): string {
  if (!IMAGE_RE.test(value)) {
    p.add(flag, value, 'not a fully qualified image reference (registry/repository[:tag][@sha256:digest], lowercase repository)',
      `e.g. ${FLAG_NAMES[flag]} ${fallback}`);
  }
  return value;
}

/**
 * Pure: validates every flag at once and returns the InstallSpec, or throws a UsageError whose
 * `problems` hold one line per bad flag ("--flag VALUE: what is wrong; fix"). Nothing is probed:
 * existence of files (certificate, archive) is the caller's preflight.
 */
export function parseUpOptions(raw: RawUpFlags, env: OptionEnv): InstallSpec {
  const p = new Problems();
  const str = (flag: Flag) => readString(raw, flag, p);

  const hostValue = str('quayHostname');
  const hostRaw = (raw as Record<string, unknown>).quayHostname;
  const host = hostValue !== undefined
    ? parseHostname(hostValue, false, p)
    : hostRaw === undefined ? parseHostname(env.fqdn, true, p) : undefined;

  const rootValue = str('quayRoot');
  // The default is checked too: an odd $HOME would otherwise reach Volume= lines unchecked.
  const quayRoot = parsePath('quayRoot', rootValue ?? defaultQuayRoot(env.scope, env.home), env, p,
    env.scope === 'rootful' ? '/etc/quay-install' : '~/quay-install', true);

  const qsValue = str('quayStorage');
  const pgValue = str('pgStorage');
  const quayStorage = qsValue?.startsWith(S3_SCHEME)
    ? parseObjectStorage(raw, qsValue, env, p)
    : noS3Flags(raw, p, parseStorage('quayStorage', qsValue ?? DEFAULT_QUAY_STORAGE, env, p));
  const pgStorage = pgValue?.startsWith(S3_SCHEME)
    ? void p.add('pgStorage', pgValue, 'PostgreSQL needs a file system, not an object store', 'give a podman volume name or an absolute path; only --quayStorage may be s3://')
    : parseStorage('pgStorage', pgValue ?? DEFAULT_PG_STORAGE, env, p);
  if (quayStorage && quayStorage.kind !== 's3' && pgStorage && sameStorage(quayStorage, pgStorage)) {
    p.add('pgStorage', pgValue ?? DEFAULT_PG_STORAGE, 'same storage as --quayStorage', 'give Quay and Postgres separate volumes or directories');
  }

  const certValue = str('sslCert');
  const keyValue = str('sslKey');
  const certPath = certValue === undefined ? undefined : parsePath('sslCert', certValue, env, p, '/etc/pki/quay/ssl.cert', false);
  const keyPath = keyValue === undefined ? undefined : parsePath('sslKey', keyValue, env, p, '/etc/pki/quay/ssl.key', false);
  const certRaw = (raw as Record<string, unknown>).sslCert;
  const keyRaw = (raw as Record<string, unknown>).sslKey;
  if (certRaw !== undefined && keyRaw === undefined) {
    p.add('sslCert', certValue, 'given without --sslKey', 'pass both --sslCert and --sslKey, or neither to generate a certificate');
  }
  if (keyRaw !== undefined && certRaw === undefined) {
    p.add('sslKey', keyValue, 'given without --sslCert', 'pass both --sslCert and --sslKey, or neither to generate a certificate');
  }
  // --sslCheckSkip without a certificate is accepted and ignored, as mirror-registry does.
  const tls: TlsSource = certPath && keyPath
    ? { kind: 'provided', certPath, keyPath, skipCheck: raw.sslCheckSkip === true }
    : { kind: 'generate' };

  const initUser = str('initUser') ?? DEFAULT_INIT_USER;
  if (!QUAY_USER_RE.test(initUser) || initUser.length < 2 || initUser.length > 255) {
    p.add('initUser', initUser, 'not a valid Quay user name',
      'use 2-255 lowercase letters and digits, optionally joined by single . _ or -, e.g. --initUser init');
  }

  const initPassword = str('initPassword');
  if (initPassword !== undefined) {
    if (initPassword.length < INIT_PASSWORD_MIN_LENGTH) {
      p.add('initPassword', initPassword, `shorter than ${INIT_PASSWORD_MIN_LENGTH} characters`,
        'choose a longer password, or leave --initPassword out to have one generated');
    } else if (/\s/.test(initPassword)) {
      p.add('initPassword', initPassword, 'contains whitespace', 'Quay does not allow whitespace in passwords; remove it');
    }
  }

  const archiveValue = str('imageArchive');
  // `-`: the archive comes on stdin (how `mreg up -H host -i FILE` streams it over ssh).
  const imageArchive = archiveValue === undefined ? undefined : archiveValue === '-' ? '-'
    : parsePath('imageArchive', archiveValue, env, p, '/root/image-archive.tar', false);

  const images: Images = {
    quay: parseImage('quayImage', str('quayImage') ?? DEFAULT_IMAGES.quay, DEFAULT_IMAGES.quay, p),
    postgres: parseImage('pgImage', str('pgImage') ?? DEFAULT_IMAGES.postgres, DEFAULT_IMAGES.postgres, p),
    redis: parseImage('redisImage', str('redisImage') ?? DEFAULT_IMAGES.redis, DEFAULT_IMAGES.redis, p),
  };
  const infraValue = str('infraImage');
  const infraImage = infraValue === undefined ? undefined : parseImage('infraImage', infraValue, 'registry.access.redhat.com/ubi8/pause:8.10', p);

  const accessRules = readAccessRules(raw, p);

  if (p.lines.length > 0 || !host || !quayRoot || !quayStorage || !pgStorage) {
    throw new UsageError(p.lines, 'see: mreg up --help');
  }
  const spec: InstallSpec = {
    scope: env.scope, hostname: host.hostname, port: host.port, quayRoot,
    quayStorage, pgStorage, tls, initUser, images,
  };
  if (initPassword !== undefined) spec.initPassword = initPassword;
  if (imageArchive !== undefined) spec.imageArchive = imageArchive;
  if (infraImage !== undefined) spec.infraImage = infraImage;
  if (Object.keys(accessRules).length > 0) spec.accessRules = accessRules;
  return spec;
}

function readAccessRules(raw: Pick<RawUpFlags, 'anonymousAccess' | 'userCreation'>, p: Problems): AccessRules {
  const rules: AccessRules = {};
  for (const [flag, key] of ACCESS_FLAGS) {
    const v = readString(raw as RawUpFlags, flag, p);
    if (v === 'true' || v === 'false') rules[key] = v === 'true';
    else if (v !== undefined) p.add(flag, v, 'expected true or false', `e.g. ${FLAG_NAMES[flag]} false; leave it out to keep what config.yaml says`);
  }
  return rules;
}

/** --anonymousAccess/--userCreation alone (adopt, whose other flags are checked against the old install). */
export function parseAccessFlags(raw: Pick<RawUpFlags, 'anonymousAccess' | 'userCreation'>, command: string): AccessRules | undefined {
  const p = new Problems();
  const rules = readAccessRules(raw, p);
  if (p.lines.length > 0) throw new UsageError(p.lines, `see: mreg ${command} --help`);
  return Object.keys(rules).length > 0 ? rules : undefined;
}

/**
 * --quayRoot as every command reads it (down, status, upgrade, cert find an install with it): the
 * same rules as `mreg up`, so a path up would refuse is refused everywhere with the same line.
 */
export function parseQuayRootFlag(value: unknown, env: OptionEnv): string {
  const p = new Problems();
  const raw = { quayRoot: value } as unknown as RawUpFlags;
  const s = readString(raw, 'quayRoot', p);
  const path = s === undefined ? undefined : parsePath('quayRoot', s, env, p, env.scope === 'rootful' ? '/etc/quay-install' : '~/quay-install', true);
  if (path === undefined || p.lines.length > 0) throw new UsageError(p.lines);
  return path;
}

/** `mreg storage migrate --to s3://BUCKET[/PREFIX]` with its --s3* flags, under up's rules and messages. */
export function parseMigrateTarget(raw: RawUpFlags, env: OptionEnv): ObjectStorage {
  const p = new Problems();
  const to = readString(raw, 'to', p);
  if (raw.to === undefined) p.add('to', undefined, 'needed', 'name the bucket to move the blobs into, e.g. --to s3://quay-blobs');
  else if (to !== undefined && !to.startsWith(S3_SCHEME)) p.add('to', to, 'not object storage', 'give s3://BUCKET[/PREFIX]; only a move into object storage is supported');
  const storage = to?.startsWith(S3_SCHEME) ? parseObjectStorage(raw, to, env, p, 'to') : undefined;
  if (storage === undefined || p.lines.length > 0) throw new UsageError(p.lines, 'see: mreg storage --help');
  return storage;
}

/** --quayStorage / --pgStorage as restore reads them: up's rules and messages. */
export function parseStorageFlag(flag: 'quayStorage' | 'pgStorage', value: unknown, env: OptionEnv): Storage {
  const p = new Problems();
  const s = readString({ [flag]: value } as unknown as RawUpFlags, flag, p);
  if (s?.startsWith(S3_SCHEME)) {
    p.add(flag, s, 'restore writes blobs to local storage only', 'leave it out: a backup of an object-storage install names its bucket, and the blobs stay there');
  }
  const storage = s === undefined || p.lines.length > 0 ? undefined : parseStorage(flag, s, env, p);
  if (storage === undefined || p.lines.length > 0) throw new UsageError(p.lines);
  return storage;
}

function sameStorage(a: Storage, b: Storage): boolean {
  if (a.kind === 'volume' && b.kind === 'volume') return a.name === b.name;
  if (a.kind === 'path' && b.kind === 'path') {
    return a.path === b.path || a.path.startsWith(`${b.path}/`) || b.path.startsWith(`${a.path}/`);
  }
  return false;
}
