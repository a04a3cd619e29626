// A found mirror-registry install → the InstallSpec and secrets mreg will run it with. Pure.
import { posix } from 'node:path';
import { HostError, UsageError } from '../errors.js';
import { parseUpOptions, type RawUpFlags } from '../install-spec/options.js';
import { COMPONENTS } from '../model/components.js';
import { ALL_UNITS, UNITS } from '../model/views.js';
import { flagSpelling } from '../options-table.js';
import { PG_USER } from '../install-spec/defaults.js';
import type { InstallSecrets, InstallSpec, Scope } from '../install-spec/spec.js';
import type { TakenDir } from '../install-spec/taken-dirs.js';
import { dbCredentials, parseLegacyConfig, parseLegacyUnit, type LegacyRun } from './legacy.js';

/** mirror-registry named its plain units as Quadlet names mreg's services (which is why they shadow them). */
export const LEGACY_UNITS = ALL_UNITS;
export type LegacyUnitName = typeof LEGACY_UNITS[number];

export interface LegacyFiles {
  /** Unit file texts by name; quay-app.service is required, the others are read when present. */
  units: Partial<Record<LegacyUnitName, string>>;
  configYaml: string;
  /** Whether quayRoot/quay-rootCA/rootCA.{pem,key} exist (mirror-registry generated the cert). */
  hasRootCa: boolean;
}

export interface AdoptOverrides {
  quayRoot?: string;
  quayImage?: string;
  pgImage?: string;
  redisImage?: string;
  imageArchive?: string;
  /** --sslCert/--sslKey/--sslCheckSkip: the pair to serve instead of what the install has. */
  sslCert?: string;
  sslKey?: string;
  sslCheckSkip?: boolean;
}

export interface Adoption {
  spec: InstallSpec;
  /** Values carried over from config.yaml; the caller fills pgAdminPassword and initPassword. */
  secrets: Pick<InstallSecrets, 'secretKey' | 'databaseSecretKey' | 'pgPassword' | 'redisPassword'>;
  /** The Postgres role Quay used; mreg's units use PG_USER, so a different one is renamed. */
  pgUser: string;
  /** podman secrets the old units referenced (1.3.11: pgdb_pass, redis_pass), removed once adopted. */
  legacySecrets: string[];
  /** The Quay image the old unit runs: another one migrates the database at its first start. */
  previousQuayImage: string;
  warnings: string[];
}

/**
 * The secrets mreg runs an adopted install with (issue 15, 5). SECRET_KEY and DATABASE_SECRET_KEY are
 * carried over: Quay encrypts database fields (robot tokens, mirror credentials) with the one and
 * signs sessions and tokens with the other, so new values would make that data unreadable. The
 * PostgreSQL and Redis passwords are new: mirror-registry 1.2 and 1.3.0–1.3.10 used the literal
 * `password`, and both images re-apply the password from their environment at every start.
 */
/**
 * The folders an adopted install records as taken. The storage folders held the data before mreg:
 * --purge deletes what the containers wrote there and leaves the folder. quayRoot is deleted whole as
 * mreg's own is, unless its parent is not this user's to change (an admin made /data/quay for a
 * rootless install): then it is emptied and stays.
 */
export function adoptedTakenDirs(spec: InstallSpec, quayRootParentWritable: boolean): TakenDir[] {
  const folders = [spec.quayStorage, spec.pgStorage].flatMap(s => (s.kind === 'path' && s.path !== spec.quayRoot ? [s.path] : []));
  const root: TakenDir = quayRootParentWritable ? { path: spec.quayRoot, createdFrom: spec.quayRoot } : { path: spec.quayRoot, adopted: true };
  return [root, ...folders.map(path => ({ path, adopted: true }))];
}

export function adoptedSecrets(found: Adoption['secrets'], generated: InstallSecrets): InstallSecrets {
  return { ...generated, secretKey: found.secretKey, databaseSecretKey: found.databaseSecretKey };
}

// mirror-registry ran the same images, so it mounted at the same targets.
const CONFIG_TARGET = COMPONENTS.app.quayRootMounts[0].target;
const QUAY_DATA_TARGET = COMPONENTS.app.storage.target;
const PG_DATA_TARGET = COMPONENTS.postgres.storage.target;

/** quayRoot as the old quay-app unit mounted it (…/quay-config), so a non-default -r needs no flag. */
export function quayRootFromAppUnit(appUnit: string): string | undefined {
  const src = parseLegacyUnit(appUnit)?.mounts.find(m => m.target === CONFIG_TARGET)?.source;
  return src && src.startsWith('/') ? posix.dirname(posix.normalize(src).replace(/\/+$/, '')) : undefined;
}

function storageArg(run: LegacyRun | undefined, target: string): string | undefined {
  return run?.mounts.find(m => m.target.replace(/\/+$/, '') === target)?.source;
}

/**
 * Throws HostError when a value mreg needs is missing (naming the file), UsageError when a
 * found value (or an override) would not pass `mreg up`'s own checks.
 */
export function adoptionFrom(files: LegacyFiles, env: { scope: Scope; home: string; fqdn: string; quayRoot: string }, over: AdoptOverrides = {}): Adoption {
  const parse = (name: LegacyUnitName) => {
    const text = files.units[name];
    return text === undefined ? undefined : parseLegacyUnit(text);
  };
  const app = parse(UNITS.app);
  const pg = parse(UNITS.postgres);
  const redis = parse(UNITS.redis);
  const pod = parse(UNITS.pod);
  if (!app?.image) throw new HostError('quay-app.service has no `podman run … IMAGE` line mreg understands', 'adopt only takes over mirror-registry 1.2/1.3 installs');
  if (!pg?.image) throw new HostError('quay-postgres.service is missing or has no `podman run … IMAGE` line', 'mirror-registry 2.x (SQLite) installs cannot be adopted');

  const cfg = parseLegacyConfig(files.configYaml);
  const missing = (['secretKey', 'databaseSecretKey', 'dbUri', 'redisPassword', 'serverHostname'] as const).filter(k => !cfg[k]);
  if (missing.length > 0) throw new HostError(`quay-config/config.yaml lacks ${missing.join(', ')}`, 'restore the config.yaml mirror-registry wrote, then run mreg adopt again');
  const db = dbCredentials(cfg.dbUri!);
  if (!db.user || !db.password) throw new HostError('DB_URI in quay-config/config.yaml has no user or password', 'restore the config.yaml mirror-registry wrote');

  const warnings: string[] = [];
  // The published port is what clients use; SERVER_HOSTNAME should agree, and is trusted for the name.
  const [host = '', portText] = cfg.serverHostname!.split(':');
  const port = pod?.publishedPort ?? (portText ? Number(portText) : undefined);
  if (pod?.publishedPort && portText && Number(portText) !== pod.publishedPort) {
    warnings.push(`SERVER_HOSTNAME says port ${portText} but quay-pod publishes ${pod.publishedPort}; keeping ${pod.publishedPort}`);
  }
  const raw: RawUpFlags = {
    quayHostname: port ? `${host}:${port}` : host,
    quayRoot: env.quayRoot,
    quayStorage: storageArg(app, QUAY_DATA_TARGET),
    pgStorage: storageArg(pg, PG_DATA_TARGET),
    quayImage: over.quayImage ?? app.image,
    pgImage: over.pgImage ?? pg.image,
    redisImage: over.redisImage ?? redis?.image,
    infraImage: pod?.infraImage,
    imageArchive: over.imageArchive,
    sslCert: over.sslCert,
    sslKey: over.sslKey,
    sslCheckSkip: over.sslCheckSkip,
  };
  if (!raw.quayStorage) throw new HostError(`quay-app.service mounts nothing at ${QUAY_DATA_TARGET}`, 'adopt needs the old blob storage; check the unit');
  if (!raw.pgStorage) throw new HostError(`quay-postgres.service mounts nothing at ${PG_DATA_TARGET}`, 'adopt needs the old database; check the unit');
  let spec: InstallSpec;
  try {
    spec = parseUpOptions(raw, { scope: env.scope, fqdn: env.fqdn, home: env.home });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // A value the user gave is named as the flag it is; one read from the old units, as where it came from.
    const given = Object.entries(over).filter(([, v]) => v !== undefined && v !== false).flatMap(([k]) => [`--${k}`, flagSpelling(k)]);
    const fromFlag = (p: string) => given.some(f => p.startsWith(`${f} `) || p.startsWith(`${f}:`));
    const old = err.problems.filter(p => !fromFlag(p));
    throw new UsageError(err.problems.map(p => (fromFlag(p) ? p : `from the old install: ${p}`)),
      old.length === 0 ? 'nothing was changed; see: mreg adopt --help' : 'pass the flag to adopt to override the value, or fix the old unit first');
  }
  // mirror-registry generated its cert from quay-rootCA: keep that CA (clients trust it) and let mreg
  // renew the leaf from it. Without it the pair was the user's own: serve it as provided.
  if (!files.hasRootCa && over.sslCert === undefined) {
    const configDir = posix.join(spec.quayRoot, 'quay-config');
    spec.tls = { kind: 'provided', certPath: posix.join(configDir, 'ssl.cert'), keyPath: posix.join(configDir, 'ssl.key'), skipCheck: true };
  }
  if (db.user !== PG_USER) warnings.push(`the Postgres role "${db.user}" will be renamed to "${PG_USER}" (mreg's units use that name)`);

  const legacySecrets = [...new Set([pg, redis, app].flatMap(r => Object.keys(r?.secrets ?? {})))].filter(n => n !== '');
  return {
    spec,
    secrets: { secretKey: cfg.secretKey!, databaseSecretKey: cfg.databaseSecretKey!, pgPassword: db.password, redisPassword: cfg.redisPassword! },
    pgUser: db.user,
    legacySecrets,
    previousQuayImage: app.image,
    warnings,
  };
}
