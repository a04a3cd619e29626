// apply/tls-step.ts ensureTls on real files: a certificate near its end is reissued from mreg's CA, unless it
// already ends with the CA (a new one could not last longer: each up would reissue it and restart quay-app).
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ensureTls } from '../../src/apply/tls-step.js';
import { createHostPorts } from '../../src/ports.js';
import { createOutput } from '../../src/ui/output.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';
import { createCa, issueServerCert, type KeyPair } from '../../src/tls/index.js';

const HOST = 'registry.example.com';
const DAY = 86_400_000;
const now = new Date();
const spec = { hostname: HOST, tls: { kind: 'generate' } } as InstallSpec;
const out = createOutput({ stdout: new PassThrough(), stderr: new PassThrough() });
const io = { files: createHostPorts({ env: process.env, out }).files, out };

/** A quayRoot holding `ca` and a leaf it issued at `issuedAt`. */
function installed(root: string, ca: KeyPair, issuedAt: Date) {
  const layout = quayRootLayout(root);
  mkdirSync(layout.caDir, { recursive: true, mode: 0o700 });
  mkdirSync(layout.configDir, { recursive: true, mode: 0o750 });
  writeFileSync(layout.caCert, ca.certPem, { mode: 0o644 });
  writeFileSync(layout.caKey, ca.keyPem, { mode: 0o600 });
  const leaf = issueServerCert({ ca, hostname: HOST, now: issuedAt });
  writeFileSync(layout.sslCert, leaf.certPem, { mode: 0o640 });
  writeFileSync(layout.sslKey, leaf.keyPem, { mode: 0o640 });
  return { layout, leaf };
}

t.test('a certificate that ends with its CA is kept near the end', async t => {
  const ca = createCa({ commonName: 'old CA', now: new Date(now.getTime() - 1014 * DAY), days: 1024 });
  const { layout, leaf } = installed(join(t.testdir(), 'qr'), ca, new Date(now.getTime() - 2 * DAY));
  const r = await ensureTls(spec, layout, now, 'registry', io);
  t.same(r.changed, [], 'nothing rewritten');
  t.equal(readFileSync(layout.sslCert, 'utf8'), leaf.certPem);
});

t.test('a certificate near its end under a CA with years left is reissued', async t => {
  const ca = createCa({ commonName: 'young CA', now: new Date(now.getTime() - 400 * DAY), days: 3650 });
  const { layout, leaf } = installed(join(t.testdir(), 'qr'), ca, new Date(now.getTime() - 350 * DAY));
  const r = await ensureTls(spec, layout, now, 'registry', io);
  t.same(r.changed, [layout.sslKey, layout.sslCert], 'a new pair');
  t.not(readFileSync(layout.sslCert, 'utf8'), leaf.certPem);
});
