// Health probes of an install serving the admin's own certificate from a site CA: Node's default roots
// refused it (so up, status, upgrade and a put-back adopt waited out their timeouts on a healthy registry);
// readHealthCas trusts the installed chain, or the host's bundle when ssl.cert holds the leaf alone.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { healthCas, readHealthCas } from '../../src/apply/health-ca.js';
import { httpsRequest } from '../../src/host/http.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { createCa, issueServerCert } from '../../src/tls/index.js';

const now = new Date();
const site = createCa({ commonName: 'site CA', now });
const leaf = issueServerCert({ ca: site, hostname: 'localhost', now });
const mregCa = createCa({ commonName: 'mreg CA', now });

async function serve(t: Test): Promise<number> {
  const srv = createHttpsServer({ cert: leaf.certPem + site.certPem, key: leaf.keyPem }, (_req, res) => res.end('{}'));
  await new Promise<void>(r => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { srv.closeAllConnections(); srv.close(); });
  return (srv.address() as AddressInfo).port;
}

const probe = (port: number, ca: string | undefined) =>
  httpsRequest({ hostname: 'localhost', port, ca }, 'GET', '/health/instance').then(r => String(r.status), (e: Error) => e.message);

t.test('a pair from a site CA: the installed chain verifies it, Node\'s roots alone do not', async t => {
  const port = await serve(t);
  t.match(await probe(port, undefined), /certificate/, 'the default context refuses it (the old behaviour)');
  t.equal(await probe(port, healthCas('provided', { servedPem: leaf.certPem + site.certPem })), '200', 'the chain in ssl.cert');
  t.equal(await probe(port, healthCas('provided', { servedPem: leaf.certPem, hostBundle: site.certPem })), '200', 'a leaf alone, its CA in the host bundle');
  t.match(await probe(port, healthCas('provided', { servedPem: leaf.certPem })), /certificate/, 'a leaf alone and nothing vouching for it is still refused');
});

t.test('a generated pair is verified with the install\'s CA only', async t => {
  t.equal(healthCas('generate', { caPem: mregCa.certPem, servedPem: leaf.certPem + site.certPem, hostBundle: site.certPem }), mregCa.certPem);
  const port = await serve(t);
  t.match(await probe(port, healthCas('generate', { caPem: mregCa.certPem })), /certificate/, 'a pair mreg\'s CA did not issue fails the probe');
});

t.test('readHealthCas reads the layout: served chain, and the install\'s CA only when asked', async t => {
  const root = mkdtempSync(join(tmpdir(), 'mreg-health-ca-'));
  const layout = quayRootLayout(root);
  mkdirSync(join(root, 'quay-config'), { recursive: true });
  mkdirSync(join(root, 'quay-rootCA'), { recursive: true });
  writeFileSync(layout.sslCert, leaf.certPem + site.certPem);
  writeFileSync(layout.caCert, mregCa.certPem);
  t.equal(await readHealthCas('generate', layout), mregCa.certPem);
  const provided = (await readHealthCas('provided', layout))!;
  t.ok(provided.includes(site.certPem.trim()), 'the chain of ssl.cert');
  t.notOk(provided.includes(mregCa.certPem.trim()), 'not the install\'s CA');
  t.ok((await readHealthCas('provided', layout, { withInstallCa: true }))!.includes(mregCa.certPem.trim()), 'with it when asked (mirror-registry put back)');
  const port = await serve(t);
  t.equal(await probe(port, provided), '200');
});
