// Debian's docker-registry (CNCF distribution) on 127.0.0.1:5000 inside the Quay stand-in container,
// and a streaming reverse proxy for /v2/ in front of it.
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { registryStorageYaml } from './objectstore.mjs';

const UPSTREAM = { host: '127.0.0.1', port: 5000 };
const HOP = ['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer', 'authorization', 'host'];

/** Starts the registry on Quay's storage location ([driver, args]); onExit(code) is called if it dies. */
export function startRegistry(location, proxyStorage, caBundle, onExit) {
  const conf = '/tmp/standin-registry.yml';
  // relativeurls: Location headers stay valid behind the proxy, whatever host/port the client used.
  fs.writeFileSync(conf, `version: 0.1
log: {level: warn, formatter: text, accesslog: {disabled: true}}
storage:
${registryStorageYaml(location, proxyStorage)}  delete: {enabled: true}
http:
  addr: 127.0.0.1:5000
  relativeurls: true
  secret: ${crypto.randomBytes(16).toString('hex')}
`, { mode: 0o600 });
  // Go reads SSL_CERT_FILE: the extra CAs reach the s3 driver as certs_install.sh gives them to boto.
  const child = spawn('/usr/bin/docker-registry', ['serve', conf], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, SSL_CERT_FILE: caBundle } });
  child.on('exit', (code, sig) => onExit(code ?? sig));
  child.on('error', (e) => onExit(e.message));
  return child;
}

/** Resolves true once the registry answers /v2/. */
export async function registryReady() {
  return new Promise((resolve) => {
    const r = http.get({ ...UPSTREAM, path: '/v2/', timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    r.on('error', () => resolve(false));
    r.on('timeout', () => { r.destroy(); resolve(false); });
  });
}

/** Streams req to the registry and the answer back (chunked uploads included). */
export function proxy(req, res) {
  const headers = { ...req.headers };
  for (const h of HOP) delete headers[h];
  headers['x-forwarded-proto'] = req.socket.encrypted ? 'https' : 'http';
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  const up = http.request({ ...UPSTREAM, method: req.method, path: req.url, headers }, (ures) => {
    const out = { ...ures.headers };
    delete out.connection; delete out['keep-alive'];
    res.writeHead(ures.statusCode ?? 502, out);
    ures.pipe(res);
  });
  up.on('error', (e) => {
    if (!res.headersSent) { res.writeHead(502, { 'content-type': 'application/json' }); res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: e.message }] })); }
    else res.destroy();
  });
  req.pipe(up);
}
