// Quay stand-in for mreg's integration tests: the outward contract of a Quay container, small.
//   start:   validate the config bundle online (exit 1 on any error), migrate the schema, then serve
//   config:  $QUAYCONF/stack/config.yaml (+ ssl.key -> HTTPS on 8443 only, else HTTP on 8080 only)
//   GET  /health/instance       Quay's instance checks: database, disk, workers (not Redis)
//   POST /api/v1/user/initialize first user only (FEATURE_USER_INITIALIZE), 400 once a user exists
//   /v2/...                      docker-registry behind HTTP Basic auth and Quay's namespace rules; anonymous
//                                pulls of public repositories with FEATURE_ANONYMOUS_ACCESS
//   POST /api/v1/repository/NS/NAME/changevisibility  Bearer token of the initialized user: public/private
//   GET  /api/v1/discovery      {standin, version}; every answer carries X-Mreg-Standin: <version>
// Logs carry method, path and status only: never a password, token or query string.
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { parseDbUri, connect } from './pg.mjs';
import { migrate, initializeUser, verifyUser, pushAllowed, splitRepository, recordRepository, isPublic, storeToken, tokenUser, setVisibility } from './backends.mjs';
import { validateConfig, validationTable } from './validate.mjs';
import { startRegistry, registryReady, proxy } from './registry.mjs';
import { storageLocation, trustBundle } from './objectstore.mjs';

const require = createRequire(import.meta.url);
const yaml = (() => { try { return require('js-yaml'); } catch { return require('/usr/share/nodejs/js-yaml'); } })();

// The image's own file first (it survives a root filesystem import, which loses ENV), then ENV.
const BAKED = (() => { try { return JSON.parse(fs.readFileSync(new URL('../standin-version.json', import.meta.url), 'utf8')); } catch { return {}; } })();
const VERSION = BAKED.version ?? (process.env.STANDIN_VERSION || 'v1');
const SCHEMA = Number(BAKED.schema ?? (process.env.STANDIN_SCHEMA || 1));
const BROKEN = BAKED.broken ?? Boolean(process.env.STANDIN_BROKEN);
// Idle connections the rest of Quay keeps: registry_services() in conf/init/supervisord_conf_create.py
// starts about 25 database-using worker processes besides the gunicorn pools.
const BASELINE = Number(process.env.STANDIN_DB_BASELINE ?? 25);
const STACK = path.join(process.env.QUAYCONF || '/quay-registry/conf', 'stack');
const log = (msg) => console.log(`${new Date().toISOString()} quay-standin ${msg}`);
const fatal = (msg) => { console.error(msg); process.exit(1); };

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

/** peewee's pooled driver as Quay configures it (data/database.py): max_connections None, so unbounded. */
function makePool(db) {
  const idle = [];
  return {
    async acquire() {
      for (let c = idle.pop(); c; c = idle.pop()) if (!c.closed) return c;
      return connect(db, { timeoutMs: 10_000 });
    },
    release(c) { if (!c.closed) idle.push(c); },
  };
}

function diskOk(dir) { // health/services.py: at least 1% free where Quay runs and in the temp dir
  const s = fs.statfsSync(dir);
  return s.bavail / s.blocks >= 0.01;
}

async function main() {
  const mode = process.argv[2] ?? 'registry';
  if (!['registry', 'registry-nomigrate', 'migrate'].includes(mode)) fatal(`unsupported mode ${mode}`);
  console.log(`\nStartup timestamp: \n${new Date().toString()}\n`);

  let cfg;
  try {
    cfg = yaml.load(fs.readFileSync(path.join(STACK, 'config.yaml'), 'utf8'));
    if (!cfg || typeof cfg !== 'object') throw new Error('config.yaml is not a YAML mapping');
  } catch (e) { // a YAML error's message quotes the offending line, which may hold a secret: reason and line only
    fatal(`level=fatal msg="${e.reason ? `${e.reason} at line ${(e.mark?.line ?? 0) + 1}` : e.message}"`);
  }

  // conf/init/*.sh in order: d_validate_config_bundle.sh, then runmigration.sh
  console.log('Validating Configuration');
  const rows = await validateConfig(cfg, STACK);
  for (const line of validationTable(rows)) console.log(line);
  if (rows.some(([, , ok]) => !ok)) process.exit(1);

  const db = parseDbUri(cfg.DB_URI);
  if (mode !== 'registry-nomigrate') {
    const rev = mode === 'migrate' ? (process.argv[3] ?? 'head') : 'head'; // Quay: "migrate <revision>"
    const target = rev === 'head' ? SCHEMA : Number(rev.replace(/^standin0*/, ''));
    const conn = await connect(db, { timeoutMs: 5000 }).catch((e) => fatal(`sqlalchemy.exc.OperationalError: ${e.message}`));
    try {
      await migrate(conn, target, log);
    } catch (e) {
      console.error(`ERROR [alembic.util.messaging] ${e.message}`);
      fatal(`  FAILED: ${e.message}`);
    } finally { conn.close(); }
    if (mode === 'migrate') return;
  }

  let stopping = false;
  const pool = makePool(db);
  const baseline = [];
  (async () => { // the workers connect while the web servers come up
    for (let i = 0; i < BASELINE && !stopping; i++) {
      try { baseline.push(await connect(db, { timeoutMs: 10_000 })); } catch (e) { log(`worker could not connect to the database: ${e.message}`); break; }
    }
  })();

  const registry = startRegistry(storageLocation(cfg), cfg.FEATURE_PROXY_STORAGE === true, trustBundle(STACK), (why) => { if (!stopping) { console.error(`docker-registry exited (${why})`); process.exitCode = 1; shutdown(); } });

  async function health(conn, res) {
    const [database, registryOk] = await Promise.all([
      conn.query('SELECT 1').then((r) => r[0]?.[0] === '1', () => false), registryReady()]);
    const disk = diskOk('/') && diskOk(os.tmpdir());
    const services = { auth: database, database, disk_space: disk, registry_gunicorn: registryOk && !BROKEN,
      service_key: true, web_gunicorn: true };
    const status = Object.values(services).every(Boolean) ? 200 : 503;
    send(res, status, { data: { services }, status_code: status });
  }

  async function initialize(conn, req, res) {
    if (cfg.FEATURE_USER_INITIALIZE !== true) return send(res, 404, { message: 'Not Found' });
    let body;
    try { body = await readJson(req); } catch (e) { return send(res, 400, { message: e.message }); }
    const { username, password, email } = body ?? {};
    if (typeof username !== 'string' || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(username) || username.length < 2 || username.length > 255)
      return send(res, 400, { message: 'Invalid username' });
    if (typeof password !== 'string' || password.length < 8 || /\s/.test(password))
      return send(res, 400, { message: 'Invalid password, password must be at least 8 characters and contain no whitespace.' });
    const created = await initializeUser(conn, { username, password, email: typeof email === 'string' ? email : '' });
    if (!created) return send(res, 400, { message: 'Cannot initialize user in a non-empty database' });
    log(`initialized first user ${username}`);
    const token = body.access_token ? crypto.randomBytes(20).toString('hex') : null;
    if (token) await storeToken(conn, username, token);
    send(res, 200, { username, email: email ?? null, encrypted_password: '', access_token: token });
  }

  // endpoints/api/repository.py RepositoryVisibility: an OAuth token (the API takes no Basic auth), the
  // repository's admin, {"visibility": "public"|"private"}; answers {"success": true}.
  async function changeVisibility(conn, req, res, where) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const user = bearer && await tokenUser(conn, bearer);
    if (!user) return send(res, 401, { error: 'Unauthorized', message: 'Unauthorized' });
    let body;
    try { body = await readJson(req); } catch (e) { return send(res, 400, { message: e.message }); }
    if (body?.visibility !== 'public' && body?.visibility !== 'private') return send(res, 400, { message: "'visibility' must be one of ['public', 'private']" });
    const done = await setVisibility(conn, user, where, body.visibility);
    if (done === 'not-found') return send(res, 404, { message: 'Not Found' });
    if (done === 'forbidden') return send(res, 403, { message: 'Unauthorized' });
    log(`repository ${where.namespace}/${where.name} is now ${body.visibility}`);
    send(res, 200, { success: true });
  }

  const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
  async function v2(conn, req, res, p) {
    const cred = basicAuth(req);
    const repo = /^\/v2\/(.+?)\/(?:blobs|manifests|tags)\//.exec(p)?.[1];
    // No credentials (containers/image sends "Basic :" when it has none): endpoints/decorators.py anon_protect
    // lets an anonymous request through only with FEATURE_ANONYMOUS_ACCESS, and v2auth.py then grants pull
    // of a public repository only.
    if ((!cred || (cred.username === '' && cred.password === '')) && repo && !WRITE.has(req.method ?? '')
      && cfg.FEATURE_ANONYMOUS_ACCESS === true && await isPublic(conn, splitRepository(repo))) return proxy(req, res);
    if (!cred || !(await verifyUser(conn, cred.username, cred.password, () => connect(db, { timeoutMs: 10_000 })))) {
      return send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }, {
        'www-authenticate': 'Basic realm="mreg-test quay stand-in"', 'docker-distribution-api-version': 'registry/2.0', connection: 'close' });
    }
    if (repo && WRITE.has(req.method ?? '')) {
      const where = splitRepository(repo);
      const refused = await pushAllowed(conn, cfg, cred.username, where.namespace);
      if (refused) return send(res, 403, { errors: [{ code: 'DENIED', message: refused, detail: null }] });
      await recordRepository(conn, where);
    }
    proxy(req, res);
  }

  async function handle(req, res) {
    const t0 = Date.now();
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    res.setHeader('x-mreg-standin', VERSION);
    res.on('finish', () => log(`${req.method} ${p} ${res.statusCode} ${Date.now() - t0}ms`));
    if (req.method === 'GET' && p === '/api/v1/discovery') return send(res, 200, { standin: 'mreg-test/quay', version: VERSION, schema: SCHEMA, broken: BROKEN });
    // Every other request uses the database, holding one pooled connection until its answer is sent.
    let conn;
    try { conn = await pool.acquire(); } catch (e) {
      console.error(`peewee.OperationalError: ${e.message}`);
      if (p.startsWith('/health/')) return send(res, 503, { data: { services: { database: false } }, status_code: 503 });
      return send(res, 500, { errors: [{ code: 'UNKNOWN', message: 'Internal Server Error', detail: e.message }] });
    }
    res.once('close', () => pool.release(conn));
    try {
      if (p === '/v2' || p.startsWith('/v2/')) return await v2(conn, req, res, p);
      if (req.method === 'GET' && (p === '/health/instance' || p === '/health/endtoend')) return await health(conn, res);
      if (req.method === 'POST' && p === '/api/v1/user/initialize') return await initialize(conn, req, res);
      const vis = /^\/api\/v1\/repository\/([^/]+)\/([^/]+)\/changevisibility$/.exec(p);
      if (req.method === 'POST' && vis) return await changeVisibility(conn, req, res, { namespace: vis[1], name: vis[2] });
      if (req.method === 'GET' && p === '/') return send(res, 200, { standin: 'mreg-test/quay', version: VERSION });
      send(res, 404, { message: 'Not Found' });
    } catch (e) {
      if (!res.headersSent) send(res, 500, { message: e.message }); else res.destroy();
    }
  }

  // conf/init/nginx_conf_create.py: TLS on 8443 when ssl.key exists, and then no plain listener; IPv4 only
  // unless FEATURE_LISTEN_IP_VERSION says IPv6 (then only that) or dual-stack.
  const cert = path.join(STACK, 'ssl.cert'), key = path.join(STACK, 'ssl.key');
  const family = String(cfg.FEATURE_LISTEN_IP_VERSION ?? 'IPv4').toLowerCase();
  const listen = family === 'ipv6' ? { host: '::', ipv6Only: true } : family === 'dual-stack' ? { host: '::' } : { host: '0.0.0.0' };
  const server = (fs.existsSync(key) ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handle) : http.createServer(handle))
    .listen({ port: fs.existsSync(key) ? 8443 : 8080, ...listen });
  log(`serving (${VERSION}, schema ${SCHEMA}${BROKEN ? ', broken' : ''}) on ${listen.host} ${fs.existsSync(key) ? '8443 (TLS)' : '8080'}`);

  function shutdown() {
    if (stopping) return;
    stopping = true;
    log('shutting down');
    server.close(); server.closeAllConnections?.();
    for (const c of baseline) c.close();
    registry.kill('SIGTERM');
    setTimeout(() => process.exit(), 3000).unref();
    registry.once('exit', () => process.exit());
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((e) => fatal(e.stack ?? String(e)));
