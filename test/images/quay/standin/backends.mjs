// Redis (RESP over a socket), the stand-in's tables and their schema versions, users and namespaces.
// Nothing here logs a secret.
import net from 'node:net';
import crypto from 'node:crypto';
import { lit } from './pg.mjs';

/** AUTH (when a password is set) then PING; resolves 'PONG' or the error Redis (or the socket) gave. */
export function redisPing(cfg, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const cmd = (...args) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('');
    const want = cfg.password ? 2 : 1;
    let buf = '';
    let done = false;
    const finish = (answer) => { if (!done) { done = true; sock.destroy(); resolve(answer); } };
    const sock = net.connect({ host: cfg.host || 'localhost', port: Number(cfg.port || 6379) });
    sock.setTimeout(timeoutMs, () => finish(`i/o timeout after ${timeoutMs} ms`));
    sock.on('error', (e) => finish(e.message));
    sock.on('connect', () => sock.write((cfg.password ? cmd('AUTH', cfg.password) : '') + cmd('PING')));
    sock.on('data', (d) => {
      buf += d;
      const lines = buf.split('\r\n').filter(Boolean);
      const err = lines.find((l) => l.startsWith('-'));
      if (err) return finish(err.slice(1));
      if (lines.length >= want) finish(lines[want - 1] === '+PONG' ? 'PONG' : lines[want - 1]);
    });
  });
}

/**
 * The stand-in's schema, one migration per version (Quay: alembic revisions under data/migrations,
 * run by conf/init/runmigration.sh on every start). The version lives in the database.
 */
const MIGRATIONS = {
  1: `CREATE TABLE standin_user (username text PRIMARY KEY, email text, salt text NOT NULL, hash text NOT NULL,
        created timestamptz NOT NULL DEFAULT now());
      CREATE TABLE standin_namespace (name text PRIMARY KEY, owner text NOT NULL REFERENCES standin_user(username));
      CREATE TABLE standin_repository (namespace text NOT NULL, name text NOT NULL, public boolean NOT NULL DEFAULT false,
        PRIMARY KEY (namespace, name));
      CREATE TABLE standin_token (hash text PRIMARY KEY, username text NOT NULL REFERENCES standin_user(username));`,
  2: 'ALTER TABLE standin_user ADD COLUMN last_login timestamptz;',
  3: 'ALTER TABLE standin_namespace ADD COLUMN created timestamptz NOT NULL DEFAULT now();',
};
export const revision = (v) => `standin${String(v).padStart(4, '0')}`;

/**
 * Brings the schema to `target` in one transaction, logging each step like alembic. Rejects, as alembic
 * does, when the database is at a revision this image does not know (a newer image migrated it).
 */
export async function migrate(conn, target, log) {
  await conn.query('CREATE TABLE IF NOT EXISTS standin_schema (version integer NOT NULL)');
  const [[current = '0'] = []] = await conn.query('SELECT version FROM standin_schema');
  const from = Number(current);
  if (from > target || !(target in MIGRATIONS)) {
    throw new Error(`Can't locate revision identified by '${revision(from > target ? from : target)}'`);
  }
  log(`INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.`);
  if (from === target) return from;
  let sql = 'BEGIN;\n';
  for (let v = from + 1; v <= target; v++) {
    log(`INFO  [alembic.runtime.migration] Running upgrade ${v > 1 ? revision(v - 1) : ''} -> ${revision(v)}`);
    sql += `${MIGRATIONS[v]}\n`;
  }
  sql += `DELETE FROM standin_schema; INSERT INTO standin_schema VALUES (${target});\nCOMMIT;`;
  await conn.query(sql);
  return from;
}

const scrypt = (password, salt) => new Promise((res, rej) =>
  crypto.scrypt(password, salt, 32, (e, k) => (e ? rej(e) : res(k.toString('hex')))));

/** Creates the first user; false when a user already exists (Quay: "non-empty database"). */
export async function initializeUser(conn, { username, password, email }) {
  const salt = crypto.randomBytes(16).toString('hex');
  const hash = await scrypt(password, salt);
  // Quay with FEATURE_MAILING off stores a random unique value when no e-mail is given (create_user_noverify).
  const stored = email || crypto.randomUUID();
  const rows = await conn.query(`BEGIN;
LOCK TABLE standin_user IN EXCLUSIVE MODE;
INSERT INTO standin_user (username, email, salt, hash)
  SELECT ${lit(username)}, ${lit(stored)}, ${lit(salt)}, ${lit(hash)}
  WHERE NOT EXISTS (SELECT 1 FROM standin_user) RETURNING username;
COMMIT;`);
  return rows.length === 1;
}

const verified = new Map(); // sha256(user:pass) -> expiry; saves an scrypt per registry request

/** True when username/password match a stored user; `reconnect` opens a new connection for the retry. */
export async function verifyUser(conn, username, password, reconnect) {
  const key = crypto.createHash('sha256').update(`${username}\0${password}`).digest('hex');
  if ((verified.get(key) ?? 0) > Date.now()) return true;
  // A failed query is retried once on a new connection, then is a server error, never a 401: Quay's
  // RetryOperationalError (data/database.py) does the same, and the exception becomes a 500.
  const sql = `SELECT salt, hash FROM standin_user WHERE username = ${lit(username)}`;
  let rows;
  try { rows = await conn.query(sql); } catch {
    const again = await reconnect().catch(() => null);
    try { rows = again && await again.query(sql); } catch { rows = null; } finally { again?.close(); }
    if (!rows) throw new Error('database error while checking credentials');
  }
  const [[salt, hash] = []] = rows;
  if (!salt || !hash) return false;
  const got = Buffer.from(await scrypt(password, salt), 'hex');
  const ok = crypto.timingSafeEqual(got, Buffer.from(hash, 'hex'));
  if (ok) verified.set(key, Date.now() + 60_000);
  return ok;
}

/** Who owns `namespace`: the organization's owner, the user of that name, or undefined when nobody has it. */
async function namespaceOwner(conn, namespace) {
  const [[owner] = []] = await conn.query(`SELECT owner FROM standin_namespace WHERE name = ${lit(namespace)}
    UNION ALL SELECT username FROM standin_user WHERE username = ${lit(namespace)}`);
  return owner;
}

/**
 * May `username` push into `namespace`? Quay's rule (endpoints/v2/v2auth.py): a user's own namespace and
 * organizations it owns, yes. A namespace nobody has is created as an organization owned by the pusher
 * only with CREATE_NAMESPACE_ON_PUSH, and its e-mail is derived from the pusher's ("a@b" -> "a+ns@b"),
 * which must be unique: a pusher without an '@' in its e-mail gets "Cannot create organization".
 * Resolves null when allowed, else the refusal message.
 */
export async function pushAllowed(conn, cfg, username, namespace) {
  if (namespace === username) return null;
  const owner = await namespaceOwner(conn, namespace);
  if (owner !== undefined) return owner === username && owner !== namespace ? null : 'requested access to the resource is denied';
  if (cfg.CREATE_NAMESPACE_ON_PUSH !== true) return 'requested access to the resource is denied';
  const [[email] = []] = await conn.query(`SELECT email FROM standin_user WHERE username = ${lit(username)}`);
  if (!email || !email.includes('@')) return 'Cannot create organization';
  await conn.query(`INSERT INTO standin_namespace (name, owner) VALUES (${lit(namespace)}, ${lit(username)}) ON CONFLICT DO NOTHING`);
  return null;
}

/** "ns/name" (or "name": the library namespace) of a /v2/ repository path. */
export function splitRepository(repo) {
  const i = repo.indexOf('/');
  return i < 0 ? { namespace: 'library', name: repo } : { namespace: repo.slice(0, i), name: repo.slice(i + 1) };
}

/**
 * A push creates its repository private (data/model/repository.py create_repository, visibility="private",
 * called by endpoints/v2/v2auth.py for push-to-create); an existing one keeps its visibility.
 */
export async function recordRepository(conn, { namespace, name }) {
  await conn.query(`INSERT INTO standin_repository (namespace, name) VALUES (${lit(namespace)}, ${lit(name)}) ON CONFLICT DO NOTHING`);
}

export async function isPublic(conn, { namespace, name }) {
  const [[pub] = []] = await conn.query(`SELECT public FROM standin_repository WHERE namespace = ${lit(namespace)} AND name = ${lit(name)}`);
  return pub === 't';
}

const tokenHash = (token) => crypto.createHash('sha256').update(token).digest('hex');

/** The OAuth access token /api/v1/user/initialize hands out with access_token: true (stored hashed). */
export async function storeToken(conn, username, token) {
  await conn.query(`INSERT INTO standin_token (hash, username) VALUES (${lit(tokenHash(token))}, ${lit(username)})`);
}

/** The user a Bearer token belongs to, or undefined. */
export async function tokenUser(conn, token) {
  const [[username] = []] = await conn.query(`SELECT username FROM standin_token WHERE hash = ${lit(tokenHash(token))}`);
  return username;
}

/**
 * Quay's POST /api/v1/repository/<ns>/<name>/changevisibility for `username`: the repository's admin
 * (here: the namespace's owner) sets public or private. Resolves 'ok', 'not-found' or 'forbidden'.
 */
export async function setVisibility(conn, username, { namespace, name }, visibility) {
  const owner = await namespaceOwner(conn, namespace);
  const rows = await conn.query(`SELECT 1 FROM standin_repository WHERE namespace = ${lit(namespace)} AND name = ${lit(name)}`);
  if (rows.length === 0) return 'not-found';
  if (owner !== username) return 'forbidden';
  await conn.query(`UPDATE standin_repository SET public = ${visibility === 'public'} WHERE namespace = ${lit(namespace)} AND name = ${lit(name)}`);
  return 'ok';
}
