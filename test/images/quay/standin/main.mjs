// Quay stand-in for mreg's integration tests: the outward contract of a Quay container, small.
//   config:  $QUAYCONF/stack/config.yaml (+ ssl.cert/ssl.key -> HTTPS on 8443; HTTP on 8080 always)
//   GET  /health/instance       200 only if Postgres (DB_URI) and Redis (BUILDLOGS_REDIS) accept our passwords
//   POST /api/v1/user/initialize first user only (FEATURE_USER_INITIALIZE), 400 once a user exists
//   /v2/...                      docker-registry behind HTTP Basic auth against the stored users
//   GET  /api/v1/discovery      {standin, version}; every answer carries X-Mreg-Standin: <version>
// Logs carry method, path and status only: never a password, token or query string.
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { parseDbUri, psql, redisPing, SCHEMA, initializeUser, verifyUser } from './backends.mjs';
import { startRegistry, registryReady, proxy } from './registry.mjs';

const require = createRequire(import.meta.url);
const yaml = (() => { try { return require('js-yaml'); } catch { return require('/usr/share/nodejs/js-yaml'); } })();

const VERSION = process.env.STANDIN_VERSION || 'v1';
const BROKEN = Boolean(process.env.STANDIN_BROKEN);
const STACK = path.join(process.env.QUAYCONF || '/quay-registry/conf', 'stack');
const log = (msg) => console.log(`${new Date().toISOString()} quay-standin ${msg}`);
const fail = (msg) => { console.error(`quay-standin: ${msg}`); process.exitCode = 1; };

function loadConfig() {
  const file = path.join(STACK, 'config.yaml');
  const cfg = yaml.load(fs.readFileSync(file, 'utf8'));
  if (!cfg || typeof cfg !== 'object') throw new Error(`${file}: not a YAML mapping`);
  if (!cfg.DB_URI) throw new Error(`${file}: DB_URI is missing`);
  if (!cfg.BUILDLOGS_REDIS?.host) throw new Error(`${file}: BUILDLOGS_REDIS.host is missing`);
  return cfg;
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readJson(req, limit = 65536) {
  return new Promise((resolve, reject) => {
    let size = 0; const chunks = [];
    req.on('data', (c) => { size += c.length; if (size > limit) { reject(new Error('body too large')); req.destroy(); } else chunks.push(c); });
    req.on('end', () => { try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')); } catch { reject(new Error('invalid JSON')); } });
    req.on('error', reject);
  });
}

function basicAuth(req) {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const raw = Buffer.from(m[1], 'base64').toString('utf8');
  const i = raw.indexOf(':');
  return i < 0 ? null : { username: raw.slice(0, i), password: raw.slice(i + 1) };
}

async function main() {
  const mode = process.argv[2] ?? 'registry';
  let cfg;
  try { cfg = loadConfig(); } catch (e) { return fail(`invalid configuration: ${e.message}`); }
  let db;
  try { db = parseDbUri(cfg.DB_URI); } catch (e) { return fail(`invalid DB_URI: ${e.message}`); }
  const redis = cfg.BUILDLOGS_REDIS;

  if (mode === 'migrate') { // Quay's "migrate <rev>": bring the schema up, then exit
    const r = await psql(db, SCHEMA);
    if (r.code !== 0) return fail(`migration failed: ${r.stderr.trim().split('\n')[0]}`);
    return log('schema is up to date');
  }
  if (mode !== 'registry' && mode !== 'registry-nomigrate') return fail(`unsupported mode ${mode}`);

  const storage = cfg.DISTRIBUTED_STORAGE_CONFIG?.default?.[1]?.storage_path ?? '/datastorage';
  let stopping = false;
  const registry = startRegistry(storage, (why) => { if (!stopping) { fail(`docker-registry exited (${why})`); shutdown(); } });

  // Quay migrates on start; we create our table, retrying while the database is not up yet.
  (async () => {
    for (let i = 0; !stopping && mode === 'registry'; i++) {
      const r = await psql(db, SCHEMA);
      if (r.code === 0) { log('schema ready'); return; }
      if (i % 6 === 0) log('database not reachable yet; retrying');
      await new Promise((r2) => setTimeout(r2, 5000));
    }
  })();

  async function health(res) {
    const [database, redisOk, registryOk] = await Promise.all([
      psql(db, 'SELECT 1;\n', 8000).then((r) => r.code === 0 && r.stdout.trim() === '1'),
      redisPing(redis), registryReady()]);
    const ok = database && redisOk && registryOk && !BROKEN;
    const status = ok ? 200 : 503;
    send(res, status, { data: { services: { auth: true, database, disk_space: true, redis: redisOk,
      registry_gunicorn: registryOk && !BROKEN, service_key: true, web_gunicorn: true } }, status_code: status });
  }

  async function initialize(req, res) {
    if (cfg.FEATURE_USER_INITIALIZE !== true) return send(res, 404, { message: 'Not Found' });
    let body;
    try { body = await readJson(req); } catch (e) { return send(res, 400, { message: e.message }); }
    const { username, password, email } = body ?? {};
    if (typeof username !== 'string' || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(username) || username.length < 2 || username.length > 255)
      return send(res, 400, { message: 'Invalid username' });
    if (typeof password !== 'string' || password.length < 8 || /\s/.test(password))
      return send(res, 400, { message: 'Invalid password, password must be at least 8 characters and contain no whitespace.' });
    let created;
    try { created = await initializeUser(db, { username, password, email: typeof email === 'string' ? email : '' }); }
    catch (e) { return send(res, 500, { message: e.message }); }
    if (!created) return send(res, 400, { message: 'Cannot initialize user in a non-empty database' });
    log(`initialized first user ${username}`);
    send(res, 200, { username, email: email ?? null, encrypted_password: '', access_token: body.access_token ? crypto.randomBytes(20).toString('hex') : null });
  }

  async function v2(req, res) {
    const cred = basicAuth(req);
    if (!cred || !(await verifyUser(db, cred.username, cred.password))) {
      return send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }, {
        'www-authenticate': 'Basic realm="mreg-test quay stand-in"', 'docker-distribution-api-version': 'registry/2.0', connection: 'close' });
    }
    proxy(req, res);
  }

  async function handle(req, res) {
    const t0 = Date.now();
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    res.setHeader('x-mreg-standin', VERSION);
    res.on('finish', () => log(`${req.method} ${p} ${res.statusCode} ${Date.now() - t0}ms`));
    try {
      if (p === '/v2' || p.startsWith('/v2/')) return await v2(req, res);
      if (req.method === 'GET' && (p === '/health/instance' || p === '/health/endtoend')) return await health(res);
      if (req.method === 'POST' && p === '/api/v1/user/initialize') return await initialize(req, res);
      if (req.method === 'GET' && p === '/api/v1/discovery') return send(res, 200, { standin: 'mreg-test/quay', version: VERSION, broken: BROKEN });
      if (req.method === 'GET' && p === '/') return send(res, 200, { standin: 'mreg-test/quay', version: VERSION });
      send(res, 404, { message: 'Not Found' });
    } catch (e) {
      if (!res.headersSent) send(res, 500, { message: e.message }); else res.destroy();
    }
  }

  const servers = [http.createServer(handle).listen(8080)];
  const cert = path.join(STACK, 'ssl.cert'), key = path.join(STACK, 'ssl.key');
  if (fs.existsSync(cert) && fs.existsSync(key)) {
    servers.push(https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handle).listen(8443));
  } else log('no ssl.cert/ssl.key in the config folder: HTTP only');
  log(`serving (${VERSION}${BROKEN ? ', broken' : ''}) on 8080${servers.length > 1 ? ' and 8443 (TLS)' : ''}`);

  function shutdown() {
    if (stopping) return;
    stopping = true;
    log('shutting down');
    for (const s of servers) { s.close(); s.closeAllConnections?.(); }
    registry.kill('SIGTERM');
    setTimeout(() => process.exit(), 3000).unref();
    registry.once('exit', () => process.exit());
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((e) => fail(e.stack ?? String(e)));
