// mreg status asks /health/instance again when a busy registry misses one answer (CI, 2026-11-30:
// a healthy rootless registry gave none within 5 s and status called it unreachable), but an HTTP
// answer or a certificate error is final.
import t from 'tap';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { probeHealth, type HttpResult } from '../../src/host/http.js';
import { createCa, issueServerCert } from '../../src/tls/index.js';

const now = new Date();
const ca = createCa({ commonName: 'probe test CA', now });
const leaf = issueServerCert({ ca, hostname: 'localhost', now });

/** An HTTPS server that answers nothing to its first `silent` requests, then 200. */
async function server(silent: number): Promise<{ port: number; seen: () => number; close: () => void }> {
  let n = 0;
  const s = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => {
    n += 1;
    if (n > silent) res.end('{"status_code":200}');
  });
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, seen: () => n, close: () => { s.closeAllConnections(); s.close(); } };
}

t.test('one missed answer is asked again; the second answer counts', async t => {
  const srv = await server(1);
  t.teardown(srv.close);
  const r = await probeHealth({ hostname: 'localhost', port: srv.port, ca: ca.certPem }, { timeoutMs: 300, pauseMs: 10 });
  t.same(r, { ok: true, status: 200, error: null });
  t.equal(srv.seen(), 2, 'asked twice');
});

t.test('no answer at all: unreachable, saying how often it asked', async t => {
  const srv = await server(99);
  t.teardown(srv.close);
  const r = await probeHealth({ hostname: 'localhost', port: srv.port, ca: ca.certPem }, { tries: 3, timeoutMs: 200, pauseMs: 10 });
  t.same(r, { ok: false, status: null, error: 'no answer within 200 ms (asked 3 times)' });
  t.equal(srv.seen(), 3);
});

t.test('an HTTP answer is final, even 503', async t => {
  let calls = 0;
  const r = await probeHealth({ hostname: 'x', port: 1 }, { pauseMs: 0 }, async (): Promise<HttpResult> => { calls += 1; return { status: 503, body: '' }; });
  t.same(r, { ok: false, status: 503, error: null });
  t.equal(calls, 1);
});

t.test('a certificate error is final: asking again cannot fix it', async t => {
  const srv = await server(0);
  t.teardown(srv.close);
  const other = createCa({ commonName: 'another CA', now });
  const r = await probeHealth({ hostname: 'localhost', port: srv.port, ca: other.certPem }, { pauseMs: 10 });
  t.equal(r.ok, false);
  t.notMatch(r.error ?? '', /asked/);
  t.equal(srv.seen(), 0, 'the handshake failed, no request reached the server');
});

t.test('a refused connection (a restarting registry) is asked again too', async t => {
  let calls = 0;
  const r = await probeHealth({ hostname: 'x', port: 1 }, { tries: 2, pauseMs: 0 }, async (): Promise<HttpResult> => {
    calls += 1;
    if (calls === 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    return { status: 200, body: '' };
  });
  t.same(r, { ok: true, status: 200, error: null });
});

t.test('an aborted probe ends at once with a final "no" (up aborts its early probe as it ends)', async t => {
  const srv = await server(99);
  t.teardown(srv.close);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 50);
  // Without the signal this waits for its 3 s timeout and says so instead.
  const r = await probeHealth({ hostname: 'localhost', port: srv.port, ca: ca.certPem }, { tries: 3, timeoutMs: 3_000, pauseMs: 10, signal: stop.signal });
  t.equal(r.ok, false);
  t.match(r.error, /abort/i, 'aborted, not timed out');
  t.notMatch(r.error ?? '', /asked/, 'and not asked again');
});
