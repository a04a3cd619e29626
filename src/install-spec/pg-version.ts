// PostgreSQL major versions: the data directory's PG_VERSION against the image's server. Pure.
// A server refuses (or worse, half-starts on) data of another major version, and mreg does not run
// pg_upgrade: so up, upgrade and adopt check before they change anything.

/**
 * A major version as PostgreSQL writes it in PG_VERSION: "10", "15", or "9.6" before 10
 * (then major is the first two numbers).
 */
export type PgMajor = string;

const MAJOR_RE = /^(\d+)(?:\.(\d+))?/;

/** Major of a version string: "15" → "15", "15.4-1.pgdg120+1" → "15", "9.6.24" → "9.6", "17.12 (Debian…)" → "17". */
export function pgMajorOf(version: string): PgMajor | undefined {
  const m = MAJOR_RE.exec(version.trim());
  if (!m) return undefined;
  const major = Number(m[1]);
  if (major >= 10) return String(major);
  return m[2] !== undefined ? `${major}.${Number(m[2])}` : undefined;
}

/** The content of a data directory's PG_VERSION file ("15\n"). */
export function parsePgVersionFile(text: string): PgMajor | undefined {
  const line = text.split('\n')[0]?.trim() ?? '';
  return /^\d+(\.\d+)?$/.test(line) ? pgMajorOf(line) : undefined;
}

/** `postgres --version` output: "postgres (PostgreSQL) 15.8" → "15". */
export function parseServerVersion(text: string): PgMajor | undefined {
  const m = /\(PostgreSQL\)\s+(\S+)/.exec(text);
  return m ? pgMajorOf(m[1]!) : undefined;
}

/**
 * The major an image declares, from `podman image inspect` Env and Labels: sclorg's
 * POSTGRESQL_VERSION, the official image's PG_MAJOR / PG_VERSION, else a "postgresqlNN" tag in
 * sclorg's io.openshift.tags label. Undefined when the image says nothing.
 */
export function imageDeclaredMajor(env: readonly string[], labels: Readonly<Record<string, string>> = {}): PgMajor | undefined {
  const vars = new Map(env.map(e => { const i = e.indexOf('='); return [e.slice(0, i), e.slice(i + 1)] as const; }));
  for (const name of ['POSTGRESQL_VERSION', 'PG_MAJOR', 'PG_VERSION']) {
    const v = vars.get(name);
    const major = v === undefined ? undefined : pgMajorOf(v);
    if (major) return major;
  }
  const tag = /(?:^|,)\s*postgresql-?(\d+)\b/.exec(labels['io.openshift.tags'] ?? '');
  return tag ? pgMajorOf(tag[1]!) : undefined;
}

export interface PgMajorCheck {
  /** Where the data lives, for the message: "volume pg-storage" or a host path. */
  where: string;
  dataMajor: PgMajor;
  image: string;
  imageMajor: PgMajor;
}

/** True when the server in the image can run on the data as it is. */
export function pgMajorsMatch(dataMajor: PgMajor, imageMajor: PgMajor): boolean {
  return dataMajor === imageMajor;
}

/** An image (by ID) whose server mreg found able to open data of this major. */
export interface PgVerified { imageId: string; major: PgMajor }

/**
 * True when the data can be trusted to open without running the image's server: the image declares
 * the data's major, or this very image ID was already checked against data of this major.
 */
export function knownCompatible(c: { dataMajor: PgMajor; imageId?: string; declared?: PgMajor; verified?: PgVerified }): boolean {
  if (c.declared !== undefined && pgMajorsMatch(c.dataMajor, c.declared)) return true;
  return c.imageId !== undefined && c.verified !== undefined && c.verified.imageId === c.imageId && pgMajorsMatch(c.verified.major, c.dataMajor);
}

/** The one-line refusal, or undefined when the majors match. */
export function pgMajorMismatch(c: PgMajorCheck): { message: string; hint: string } | undefined {
  if (pgMajorsMatch(c.dataMajor, c.imageMajor)) return undefined;
  return {
    message: `PostgreSQL data in ${c.where} is version ${c.dataMajor} but ${c.image} runs ${c.imageMajor}; `
      + `mreg does not upgrade PostgreSQL major versions: pass --pgImage with a PostgreSQL ${c.dataMajor} image, `
      + `or migrate the data to ${c.imageMajor} first (pg_dump and restore, or pg_upgrade)`,
    hint: 'nothing was changed',
  };
}
