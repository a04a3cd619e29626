// Postgres (through psql, password in the child's env only) and Redis (RESP over a socket) for the
// Quay stand-in. Nothing here logs a secret.
import { spawn } from 'node:child_process';
import net from 'node:net';
import crypto from 'node:crypto';

const PSQL = '/usr/lib/postgresql/17/bin/psql';

/** postgresql://user:pass@host:port/db -> connection fields (percent-decoded, as Quay/SQLAlchemy do). */
export function parseDbUri(uri) {
  const u = new URL(String(uri));
  if (!/^postgres(ql)?(\+\w+)?:$/.test(u.protocol)) throw new Error(`DB_URI scheme ${u.protocol} is not postgresql`);
  return {
    host: u.hostname || 'localhost',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
}

export const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** Runs SQL (on stdin) as the DB_URI user; resolves {code, stdout, stderr}. */
export function psql(db, sql, timeoutMs = 15000) {
  return new Promise((resolve) => {
    const child = spawn(PSQL, ['-X', '-q', '-tA', '-F', '\t', '-v', 'ON_ERROR_STOP=1',
      '-h', db.host, '-p', String(db.port), '-U', db.user, '-d', db.database, '-f', '-'], {
      env: { PATH: process.env.PATH, HOME: '/tmp', PGPASSWORD: db.password, PGCONNECT_TIMEOUT: '3' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (e) => { stderr += e.message; });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
    child.stdin.on('error', () => {});
    child.stdin.end(sql);
  });
}

/** AUTH (when a password is set) then PING; true only on +OK/+PONG. */
export function redisPing(cfg, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const cmd = (...args) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('');
    const want = cfg.password ? 2 : 1;
    let buf = '';
    let done = false;
    const finish = (ok) => { if (!done) { done = true; sock.destroy(); resolve(ok); } };
    const sock = net.connect({ host: cfg.host || 'localhost', port: Number(cfg.port || 6379) });
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.on('error', () => finish(false));
    sock.on('connect', () => sock.write((cfg.password ? cmd('AUTH', cfg.password) : '') + cmd('PING')));
    sock.on('data', (d) => {
      buf += d;
      const lines = buf.split('\r\n').filter(Boolean);
      if (lines.some((l) => l.startsWith('-'))) return finish(false);
      if (lines.length >= want) finish(lines[want - 1] === '+PONG');
    });
  });
}

// The stand-in's own user table (real Quay has its own schema; only the outward behaviour matters).
export const SCHEMA = `CREATE TABLE IF NOT EXISTS standin_user (
  username text PRIMARY KEY, email text, salt text NOT NULL, hash text NOT NULL,
  created timestamptz NOT NULL DEFAULT now());\n`;

const scrypt = (password, salt) => new Promise((res, rej) =>
  crypto.scrypt(password, salt, 32, (e, k) => (e ? rej(e) : res(k.toString('hex')))));

/** Creates the first user; false when a user already exists (Quay: "non-empty database"). */
export async function initializeUser(db, { username, password, email }) {
  const salt = crypto.randomBytes(16).toString('hex');
  const hash = await scrypt(password, salt);
  const r = await psql(db, `${SCHEMA}BEGIN;
LOCK TABLE standin_user IN EXCLUSIVE MODE;
INSERT INTO standin_user (username, email, salt, hash)
  SELECT ${lit(username)}, ${lit(email ?? '')}, ${lit(salt)}, ${lit(hash)}
  WHERE NOT EXISTS (SELECT 1 FROM standin_user) RETURNING username;
COMMIT;\n`);
  if (r.code !== 0) throw new Error(`database error: ${r.stderr.trim().split('\n')[0]}`);
  return r.stdout.trim() === username;
}

const verified = new Map(); // sha256(user:pass) -> expiry; saves a psql spawn per registry request

/** True when username/password match a stored user. */
export async function verifyUser(db, username, password) {
  const key = crypto.createHash('sha256').update(`${username}\0${password}`).digest('hex');
  if ((verified.get(key) ?? 0) > Date.now()) return true;
  // A failed query is retried once on a new connection, then is a server error, never a 401: Quay's
  // RetryOperationalError (data/database.py) does the same, and the exception becomes a 500.
  const query = `SELECT salt, hash FROM standin_user WHERE username = ${lit(username)};\n`;
  let r = await psql(db, query);
  if (r.code !== 0) r = await psql(db, query);
  if (r.code !== 0) throw new Error('database error while checking credentials');
  const [salt, hash] = r.stdout.trim().split('\t');
  if (!salt || !hash) return false;
  const got = Buffer.from(await scrypt(password, salt), 'hex');
  const ok = crypto.timingSafeEqual(got, Buffer.from(hash, 'hex'));
  if (ok) verified.set(key, Date.now() + 60_000);
  return ok;
}
