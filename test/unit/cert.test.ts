// mreg cert: choosing the new pair (checks, reissue rules), writing it, the served-certificate probe,
// the trust anchor, and action validation. No host changes beyond a temp dir.
import t from 'tap';
import { mkdtempSync, statSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import {
  chooseNewPair, planPairWrites, leafFingerprint, trustAnchor, previousPair, rotateFailure,
} from '../../src/apply/cert-rotate.js';
import { readIfExists, writeFileAtomic } from '../../src/host/fs.js';
import { servedFingerprint } from '../../src/host/served-cert.js';
import { healthCas } from '../../src/apply/health-ca.js';
import { cert, upgradeCertAlias } from '../../src/commands/cert.js';
import { certsDDir } from '../../src/model/scope.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import type { InstallRecord } from '../../src/install-spec/record.js';
import { createCa, issueServerCert, certMatchesCa } from '../../src/tls/index.js';
import { HostError, UsageError } from '../../src/errors.js';
import type { CommandContext } from '../../src/cli.js';

const HOST = 'registry.example.com';
const now = new Date();
const mregCa = createCa({ commonName: 'mreg root CA', now });
const userCa = createCa({ commonName: 'user CA', now });
const userLeaf = issueServerCert({ ca: userCa, hostname: HOST, now });
const otherLeaf = issueServerCert({ ca: userCa, hostname: 'other.example.com', now });

function record(tls: InstallRecord['spec']['tls'], root: string): InstallRecord {
  return {
    schemaVersion: 1, mregVersion: '0.1.0', createdAt: now.toISOString(), updatedAt: now.toISOString(),
    spec: {
      scope: 'rootful', hostname: HOST, port: 8443, quayRoot: root,
      quayStorage: { kind: 'volume', name: 'quay-storage' }, pgStorage: { kind: 'volume', name: 'pg-storage' },
      tls, initUser: 'init', images: { quay: 'q', postgres: 'p', redis: 'r' },
    },
    files: [], secrets: [], volumes: [], lingerEnabledByMreg: false,
  };
}

function setup(withCa = true) {
  const root = mkdtempSync(join(tmpdir(), 'mreg-cert-'));
  const layout = quayRootLayout(root);
  mkdirSync(layout.configDir, { recursive: true });
  mkdirSync(layout.caDir, { recursive: true });
  if (withCa) {
    writeFileSync(layout.caCert, mregCa.certPem);
    writeFileSync(layout.caKey, mregCa.keyPem);
  }
  const file = (name: string, body: string) => { const p = join(root, name); writeFileSync(p, body); return p; };
  return { root, layout, file };
}

const problemsOf = async (p: Promise<unknown>): Promise<readonly string[]> => {
  try { await p; } catch (e) { if (e instanceof UsageError) return e.problems; throw e; }
  throw new Error('expected a UsageError');
};

t.test('reissue: a new leaf from mreg\'s CA for the hostname', async t => {
  const { root, layout } = setup();
  const pair = await chooseNewPair(record({ kind: 'generate' }, root), layout, { skipCheck: false, now }, readIfExists);
  t.equal(pair.source, 'reissue');
  t.same(pair.tls, { kind: 'generate' });
  t.ok(certMatchesCa(pair.certPem, mregCa.certPem), 'signed by mreg\'s CA');
  const again = await chooseNewPair(record({ kind: 'generate' }, root), layout, { skipCheck: false, now }, readIfExists);
  t.not(leafFingerprint(again.certPem), leafFingerprint(pair.certPem), 'a fresh certificate each time');
  t.ok(healthCas('provided', { servedPem: pair.certPem, caPem: pair.caPem })!.includes(mregCa.certPem), 'the health probe trusts mreg\'s CA');
});

t.test('--new-ca: a new CA and a leaf from it, also for an install on the user\'s own pair or with no CA; never with files', async t => {
  const { root, layout } = setup();
  const provided = record({ kind: 'provided', certPath: '/x/c.pem', keyPath: '/x/k.pem', skipCheck: false }, root);
  const pair = await chooseNewPair(provided, layout, { skipCheck: false, newCa: true, now }, readIfExists);
  t.equal(pair.source, 'new-ca');
  t.same(pair.tls, { kind: 'generate' }, 'the record\'s TLS becomes mreg\'s');
  t.ok(pair.newCa && certMatchesCa(pair.certPem, pair.newCa.certPem), 'the leaf is signed by the new CA');
  t.notOk(certMatchesCa(pair.certPem, mregCa.certPem), 'not by the CA on disk');
  t.equal(pair.caPem, pair.newCa?.certPem, 'the health probe trusts the new CA');
  const bare = setup(false);
  t.equal((await chooseNewPair(record({ kind: 'generate' }, bare.root), bare.layout, { skipCheck: false, newCa: true, now }, readIfExists)).source, 'new-ca', 'no CA on disk: made');
  const [line] = await problemsOf(chooseNewPair(provided, layout, { certPath: '/x/c.pem', keyPath: '/x/k.pem', skipCheck: false, newCa: true, now }, readIfExists));
  t.match(line, /^--new-ca with --sslCert\/--sslKey: choose one/);
});

t.test('reissue is refused for a user-provided install, without a CA, or with --sslCheckSkip', async t => {
  const { root, layout } = setup();
  const provided = record({ kind: 'provided', certPath: '/x/c.pem', keyPath: '/x/k.pem', skipCheck: false }, root);
  const [line] = await problemsOf(chooseNewPair(provided, layout, { skipCheck: false, now }, readIfExists));
  t.match(line, /serves your own certificate \(\/x\/c\.pem\); pass --sslCert FILE --sslKey FILE/);
  // Its hint once sent the user to mreg up, which keeps the installed pair of such an install: a dead end.
  await t.rejects(chooseNewPair(provided, layout, { skipCheck: false, now }, readIfExists), { message: /serves your own certificate/, hint: /^or --new-ca to serve a certificate from a new CA of mreg's/ } as never);
  t.match((await problemsOf(chooseNewPair(record({ kind: 'generate' }, root), layout, { skipCheck: true, now }, readIfExists)))[0], /--sslCheckSkip applies to --sslCert/);
  const bare = setup(false);
  await t.rejects(chooseNewPair(record({ kind: 'generate' }, bare.root), bare.layout, { skipCheck: false, now }, readIfExists), HostError);
});

t.test('provided: checked like up; every problem reported; paths made absolute', async t => {
  const { root, layout, file } = setup();
  const rec = record({ kind: 'generate' }, root);
  const chain = file('chain.pem', userLeaf.certPem + userCa.certPem);
  const key = file('leaf.key', userLeaf.keyPem);
  const pair = await chooseNewPair(rec, layout, { certPath: chain, keyPath: key, skipCheck: false, now }, readIfExists);
  t.equal(pair.source, 'provided');
  t.same(pair.tls, { kind: 'provided', certPath: chain, keyPath: key, skipCheck: false });
  t.equal(pair.certPem, userLeaf.certPem + userCa.certPem, 'the whole chain is served');

  const wrongKey = file('other.key', otherLeaf.keyPem);
  const p1 = await problemsOf(chooseNewPair(rec, layout, { certPath: chain, keyPath: wrongKey, skipCheck: false, now }, readIfExists));
  t.match(p1.join('\n'), /key does not match/);

  const wrongHost = file('other.pem', otherLeaf.certPem);
  const p2 = await problemsOf(chooseNewPair(rec, layout, { certPath: wrongHost, keyPath: wrongKey, skipCheck: false, now }, readIfExists));
  t.match(p2.join('\n'), /does not cover registry\.example\.com/);
  const p2skip = await problemsOf(chooseNewPair(rec, layout, { certPath: wrongHost, keyPath: file('other-leaf.key', otherLeaf.keyPem), skipCheck: true, now }, readIfExists));
  t.match(p2skip.join('\n'), /does not cover registry\.example\.com.*even with --sslCheckSkip/, '--sslCheckSkip never passes a pair Quay refuses at start');

  const p3 = await problemsOf(chooseNewPair(rec, layout, { certPath: join(root, 'nope.pem'), keyPath: join(root, 'nope.key'), skipCheck: false, now }, readIfExists));
  t.equal(p3.length, 2, 'one line per missing file');
  t.match(p3[0], /--sslCert .*nope\.pem: file not found/);
  t.match((await problemsOf(chooseNewPair(rec, layout, { certPath: chain, skipCheck: false, now }, readIfExists)))[0], /--sslCert given alone/);
  t.match((await problemsOf(chooseNewPair(rec, layout, { keyPath: key, skipCheck: false, now }, readIfExists)))[0], /--sslKey given alone/);
});

t.test('planPairWrites: the key, then the certificate, both 0640', async t => {
  const { layout } = setup();
  t.same(planPairWrites(layout, userLeaf, 'p').map(a => a.kind === 'write-file' && [a.path, a.content, a.mode]),
    [[layout.sslKey, userLeaf.keyPem, 0o640], [layout.sslCert, userLeaf.certPem, 0o640]]);
});

t.test('servedFingerprint reads what a TLS server presents for the servername', async t => {
  const server = createServer({ cert: userLeaf.certPem, key: userLeaf.keyPem }, s => s.end());
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { server.close(); });
  const port = (server.address() as AddressInfo).port;
  t.equal(await servedFingerprint(HOST, port), leafFingerprint(userLeaf.certPem));
  t.not(await servedFingerprint(HOST, port), leafFingerprint(otherLeaf.certPem));
});

t.test('trustAnchor: mreg\'s CA, the chain\'s CA, or an explanation', async t => {
  const { root, layout } = setup();
  const gen = trustAnchor(record({ kind: 'generate' }, root), layout, { caPem: mregCa.certPem });
  t.same(gen, { ok: true, pem: mregCa.certPem, from: layout.caCert });
  t.equal(trustAnchor(record({ kind: 'generate' }, root), layout, {}).ok, false);
  const provided = record({ kind: 'provided', certPath: '/x/c.pem', keyPath: '/x/k.pem', skipCheck: false }, root);
  const chain = trustAnchor(provided, layout, { servedPem: userLeaf.certPem + userCa.certPem });
  t.equal(chain.ok && chain.pem, userCa.certPem, 'the last certificate when it is a CA');
  const leafOnly = trustAnchor(provided, layout, { servedPem: userLeaf.certPem });
  t.equal(leafOnly.ok, false);
  if (!leafOnly.ok) t.match(leafOnly.why, /includes no CA certificate; copy the CA that issued it \(CN=user CA\)/);
});

t.test('certsDDir per scope', async t => {
  t.equal(certsDDir({ scope: 'rootful', home: '/root' }, HOST, 8443), '/etc/containers/certs.d/registry.example.com:8443');
  t.equal(certsDDir({ scope: 'rootless', home: '/home/u' }, HOST, 9443), '/home/u/.config/containers/certs.d/registry.example.com:9443');
});

t.test('unknown or missing action: UsageError naming the valid actions', async t => {
  const ctx = (args: string[]) => ({ args, flags: {}, env: {}, out: {} as CommandContext['out'], stdin: process.stdin }) as unknown as CommandContext;
  await t.rejects(cert(ctx(['renew'])), { constructor: UsageError, message: /unknown cert action "renew": valid actions are rotate and trust/ });
  await t.rejects(cert(ctx([])), { constructor: UsageError, message: /needs an action: rotate or trust/ });
  await t.rejects(cert(ctx(['trust', 'extra'])), UsageError);
});

t.test('rollback: the previous pair, and the exit-1 error after a failed rotation', async t => {
  t.strictSame(previousPair('C', 'K'), { certPem: 'C', keyPem: 'K' });
  t.equal(previousPair('C', undefined), undefined, 'no key: nothing to restore');
  t.equal(previousPair(undefined, 'K'), undefined);
  const layout = quayRootLayout('/etc/quay-install');
  const ok = rotateFailure('quay-app.service: systemd job ended with result "failed"', { ok: true }, layout, 'rootful');
  t.ok(ok instanceof HostError && ok.exitCode === 1);
  t.match(ok.message, /^quay-app did not come back healthy with the new certificate \(quay-app\.service: systemd job ended with result "failed"\); the previous certificate was restored/);
  t.match(ok.hint, /journalctl -u quay-app\.service/);
  const both = rotateFailure('health timeout', { ok: false, error: 'restart failed' }, layout, 'rootless');
  t.match(both.message, /restoring the previous certificate failed too \(restart failed\)/);
  t.match(both.hint, /journalctl --user .*then run mreg up/);
  t.match(rotateFailure('x', { ok: false, noPrevious: true }, layout, 'rootful').message, /no previous pair to restore/);
});

t.test('mreg upgrade --sslCert/--sslKey is cert rotate; refuses a mix with image flags', async t => {
  const ctx = (flags: Record<string, unknown>) => ({ args: [], flags, env: {}, out: {} as CommandContext['out'], stdin: process.stdin }) as unknown as CommandContext;
  t.equal(await upgradeCertAlias(ctx({ quayImage: 'q:2' })), false, 'no certificate flag: a normal upgrade');
  t.equal(await upgradeCertAlias(ctx({ sslCheckSkip: false })), false);
  await t.rejects(upgradeCertAlias(ctx({ sslCert: 'a.pem', sslKey: 'a.key', quayImage: 'q:2' })), { constructor: UsageError, message: /cannot be combined with --quayImage/ });
  await t.rejects(upgradeCertAlias(ctx({ sslCert: 'a.pem' })), { constructor: UsageError, message: /--sslCert given alone/ });
  await t.rejects(upgradeCertAlias(ctx({ sslCheckSkip: true })), { constructor: UsageError, message: /--sslCheckSkip applies to --sslCert\/--sslKey only/ });
});
