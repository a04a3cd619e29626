// waitForHealth: its timeout is an expected failure (exit 1 with a hint), not a bug report with a stack;
// and its probes share one connection.
import t from 'tap';
import { createServer, type AddressInfo } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import { waitForHealth } from '../../src/host/http.js';
import { HostError } from '../../src/errors.js';
import { createCa, issueServerCert } from '../../src/tls/index.js';

t.test('a registry that never answers 200 ends in a HostError naming the URL and the last answer', async t => {
  // A port that refuses: listen, note the port, close.
  const port = await new Promise<number>(resolve => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
  const err = await waitForHealth({ hostname: 'localhost', port }, 0, { intervalMs: 10 }).catch((e: unknown) => e);
  t.type(err, HostError);
  t.match((err as HostError).message, new RegExp(`^https://localhost:${port}/health/instance did not answer 200 within 0 s \\(last: .*ECONNREFUSED`));
  t.match((err as HostError).hint, /mreg status.*mreg logs quay-app/);
});

t.test('the wait keeps one TLS connection while Quay answers 503, instead of a handshake per probe', async t => {
  const now = new Date();
  const ca = createCa({ commonName: 'health wait CA', now });
  const leaf = issueServerCert({ ca, hostname: 'localhost', now });
  let asked = 0;
  let handshakes = 0;
  const srv = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => {
    asked += 1;
    res.statusCode = asked < 4 ? 503 : 200;
    res.end('{}');
  });
  srv.on('secureConnection', () => { handshakes += 1; });
  await new Promise<void>(r => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { srv.closeAllConnections(); srv.close(); });
  await waitForHealth({ hostname: 'localhost', port: (srv.address() as AddressInfo).port, ca: ca.certPem }, 10_000, { intervalMs: 10 });
  t.equal(asked, 4, 'three 503s, then 200');
  t.equal(handshakes, 1, 'one TLS handshake for all four probes');
});
