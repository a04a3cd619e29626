import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import {
  createCa, issueServerCert, checkProvidedCert, certExpiry, expiresSoon, certMatchesCa, splitPemChain,
  SERVER_MAX_DAYS, BACKDATE_MS,
} from '../../src/tls/index.js';
import type { KeyPair } from '../../src/tls/index.js';
import * as der from '../../src/tls/der.js';
import { HostError, UsageError } from '../../src/errors.js';

const DAY = 86_400_000;
const HOST = 'registry.example.com';
const now = new Date();
const ca = createCa({ commonName: `mreg root CA ${HOST}`, now });
const server = issueServerCert({ ca, hostname: HOST, now });

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' });
function files(dir: string, pairs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(pairs).map(([name, body]) => {
    writeFileSync(join(dir, name), body);
    return [name, join(dir, name)];
  }));
}

t.test('DER encoder: lengths, integers, OIDs, times', async t => {
  t.equal(der.int(0).toString('hex'), '020100');
  t.equal(der.int(0x80).toString('hex'), '02020080', 'top bit set gets a 0x00 so it stays positive');
  t.equal(der.int(Buffer.from([0, 0, 0x7f])).toString('hex'), '02017f', 'redundant leading zeros dropped');
  t.equal(der.oid('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
  t.equal(der.octets(Buffer.alloc(200)).subarray(0, 3).toString('hex'), '0481c8');
  t.equal(der.octets(Buffer.alloc(300)).subarray(0, 4).toString('hex'), '0482012c');
  t.equal(der.time(new Date('2049-12-31T23:59:59Z')).toString('latin1').slice(2), '491231235959Z', 'UTCTime to 2049');
  t.equal(der.time(new Date('2050-01-01T00:00:00Z')).toString('latin1').slice(2), '20500101000000Z', 'then GeneralizedTime');
  for (const d of ['1999-02-03T04:05:06Z', '2049-12-31T23:59:59Z', '2050-01-01T00:00:00Z']) {
    const b = der.time(new Date(d));
    t.equal(der.readTime(b, der.readNode(b)).toISOString(), new Date(d).toISOString(), `round trip ${d}`);
  }
});

t.test('openssl accepts the CA and the server certificate', async t => {
  const f = files(t.testdir(), { 'ca.pem': ca.certPem, 'server.pem': server.certPem, 'server.key': server.keyPem });
  for (const name of [HOST, 'registry', 'localhost'])
    t.match(openssl('verify', '-x509_strict', '-CAfile', f['ca.pem']!, '-purpose', 'sslserver', '-verify_hostname', name, f['server.pem']!), /: OK/, name);
  t.throws(() => openssl('verify', '-CAfile', f['ca.pem']!, '-verify_hostname', 'other.example.com', f['server.pem']!), 'wrong host fails');
  t.match(openssl('verify', '-x509_strict', '-CAfile', f['ca.pem']!, f['ca.pem']!), /: OK/, 'CA verifies as its own root');

  const leaf = openssl('x509', '-in', f['server.pem']!, '-noout', '-text');
  t.match(leaf, /Version: 3/);
  t.match(leaf, /Signature Algorithm: ecdsa-with-SHA256/);
  t.match(leaf, /NIST CURVE: P-256/);
  t.match(leaf, `Subject: CN = ${HOST}`);
  t.match(leaf, `Issuer: CN = mreg root CA ${HOST}`);
  t.match(leaf, `DNS:${HOST}, DNS:registry, DNS:localhost`);
  t.match(leaf, /Basic Constraints: critical\s+CA:FALSE/);
  t.match(leaf, /Key Usage: critical\s+Digital Signature\n/);
  t.match(leaf, /Extended Key Usage: \s+TLS Web Server Authentication\n/);
  t.match(leaf, /Subject Key Identifier/);
  const caText = openssl('x509', '-in', f['ca.pem']!, '-noout', '-text');
  t.match(caText, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  t.match(caText, /Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
  const ski = /Subject Key Identifier: \s+(\S+)/.exec(caText)?.[1];
  t.ok(ski);
  t.match(leaf, new RegExp(`Authority Key Identifier: \\s+(keyid:)?${ski}`), 'leaf AKI = CA SKI');
  t.match(openssl('pkey', '-in', f['server.key']!, '-noout', '-text'), /Private-Key: \(256 bit\)/);
  t.match(server.keyPem, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8 PEM');
  t.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8 PEM');
});

t.test('validity, serial and clock-skew backdate', async t => {
  const leaf = new X509Certificate(server.certPem);
  const notBefore = Math.floor(now.getTime() / 1000) * 1000 - BACKDATE_MS;
  t.equal(new Date(leaf.validFrom).getTime(), notBefore, 'notBefore an hour back');
  t.equal(certExpiry(server.certPem).getTime(), notBefore + 365 * DAY, 'server default 365 days in total');
  t.equal(certExpiry(ca.certPem).getTime(), notBefore + 3650 * DAY, 'CA default 10 years');
  t.match(leaf.serialNumber, /^[0-7][0-9A-F]{31}$/, '16 bytes, positive');
  t.not(leaf.serialNumber, new X509Certificate(issueServerCert({ ca, hostname: HOST, now }).certPem).serialNumber);

  const max = issueServerCert({ ca, hostname: HOST, now, days: SERVER_MAX_DAYS });
  t.equal(certExpiry(max.certPem).getTime() - notBefore, 397 * DAY, '397 days allowed');
  // Refuse rather than clamp: a silently shorter certificate would surprise whoever asked for more.
  t.throws(() => issueServerCert({ ca, hostname: HOST, now, days: 398 }), UsageError);
  t.throws(() => issueServerCert({ ca, hostname: HOST, now, days: 0 }), UsageError);
  t.throws(() => createCa({ commonName: 'x', now, days: 1.5 }), UsageError);
});

t.test('a TLS handshake with node:https trusts the CA for the right names only', async t => {
  const srv = https.createServer({ cert: server.certPem, key: server.keyPem }, (_req, res) => res.end('ok'));
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve));
  t.teardown(() => srv.close());
  const port = (srv.address() as AddressInfo).port;
  const get = (servername: string, trust: string | undefined) =>
    new Promise<string>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, servername, ca: trust, headers: { host: servername }, agent: false }, res => {
        let body = '';
        res.on('data', c => (body += c)).on('end', () => resolve(body));
      });
      req.on('error', reject);
    });
  for (const name of [HOST, 'registry', 'localhost']) t.equal(await get(name, ca.certPem), 'ok', `handshake as ${name}`);
  await t.rejects(get('other.example.com', ca.certPem), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  const otherCa = createCa({ commonName: 'someone else', now });
  await t.rejects(get(HOST, otherCa.certPem), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
});

t.test('IP hostname gets an iPAddress SAN', async t => {
  const f = files(t.testdir(), {
    'ca.pem': ca.certPem,
    'v4.pem': issueServerCert({ ca, hostname: '10.0.0.5', now }).certPem,
    'v6.pem': issueServerCert({ ca, hostname: 'fd00::5', now }).certPem,
  });
  t.match(openssl('verify', '-CAfile', f['ca.pem']!, '-verify_ip', '10.0.0.5', f['v4.pem']!), /OK/);
  t.match(openssl('verify', '-CAfile', f['ca.pem']!, '-verify_ip', 'fd00::5', f['v6.pem']!), /OK/);
  t.match(openssl('x509', '-in', f['v4.pem']!, '-noout', '-ext', 'subjectAltName'), /IP Address:10\.0\.0\.5, DNS:localhost/);
});

t.test('an RSA CA made by openssl (old mirror-registry rootCA) can sign', async t => {
  const dir = t.testdir();
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'rootCA.key'), '-out', join(dir, 'rootCA.pem'),
    '-subj', '/C=US/O=Quay/CN=old', '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:1', '-addext', 'keyUsage=critical,keyCertSign');
  const rsaCa: KeyPair = { certPem: readFileSync(join(dir, 'rootCA.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'rootCA.key'), 'utf8') };
  const leaf = issueServerCert({ ca: rsaCa, hostname: HOST, now });
  const f = files(dir, { 'leaf.pem': leaf.certPem });
  t.match(openssl('verify', '-x509_strict', '-CAfile', join(dir, 'rootCA.pem'), '-purpose', 'sslserver', f['leaf.pem']!), /OK/);
  t.ok(certMatchesCa(leaf.certPem, rsaCa.certPem));
});

t.test('CA problems are HostErrors', async t => {
  const other = createCa({ commonName: 'other', now });
  t.throws(() => issueServerCert({ ca: { certPem: ca.certPem, keyPem: other.keyPem }, hostname: HOST, now }), HostError);
  t.throws(() => issueServerCert({ ca: { certPem: 'junk', keyPem: ca.keyPem }, hostname: HOST, now }), HostError);
});

t.test('certMatchesCa, certExpiry, expiresSoon, splitPemChain', async t => {
  t.ok(certMatchesCa(server.certPem, ca.certPem));
  t.notOk(certMatchesCa(server.certPem, createCa({ commonName: `mreg root CA ${HOST}`, now }).certPem), 'same name, other key');
  t.ok(certMatchesCa(server.certPem + ca.certPem, ca.certPem), 'leaf first in a chain file');
  t.notOk(expiresSoon(server.certPem, now));
  t.ok(expiresSoon(server.certPem, new Date(now.getTime() + 340 * DAY)), 'within 30 days');
  t.ok(expiresSoon(server.certPem, new Date(now.getTime() + 400 * DAY)), 'already expired');
  t.throws(() => certExpiry('not a cert'), HostError);
  t.equal(splitPemChain(`junk\n${server.certPem}\n${ca.certPem}`).length, 2);
  t.same(splitPemChain('nothing'), []);
});

t.test('checkProvidedCert: one line per problem, naming flag and fix', async t => {
  const label = { certFlag: '--sslCert /p/c.pem', keyFlag: '--sslKey /p/k.pem' };
  const check = (o: Partial<Parameters<typeof checkProvidedCert>[0]>) =>
    checkProvidedCert({ certPem: server.certPem, keyPem: server.keyPem, hostname: HOST, now: later, ...label, ...o });
  const dir = t.testdir();
  const mk = (name: string, ...args: string[]) => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
      '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), ...args);
    return { certPem: readFileSync(join(dir, `${name}.pem`), 'utf8'), keyPem: readFileSync(join(dir, `${name}.key`), 'utf8') };
  };
  const cnOnly = mk('cn', '-subj', `/CN=${HOST}`);
  const client = mk('client', '-subj', '/CN=c', '-addext', `subjectAltName=DNS:${HOST}`, '-addext', 'extendedKeyUsage=clientAuth');
  const wild = mk('wild', '-subj', '/CN=w', '-addext', 'subjectAltName=DNS:*.example.com');
  const old = issueServerCert({ ca, hostname: HOST, now: new Date(now.getTime() - 800 * DAY), days: 30 });
  const future = issueServerCert({ ca, hostname: HOST, now: new Date(now.getTime() + 2 * DAY) });
  const later = new Date(Date.now() + 1000); // openssl's certificates start at the moment they were made
  const encrypted = openssl('pkey', '-in', join(dir, 'wild.key'), '-aes256', '-passout', 'pass:x');

  t.same(check({}), [], 'generated pair is fine');
  t.same(check({ certPem: server.certPem + ca.certPem }), [], 'leaf + CA chain is fine');
  t.same(check({ ...wild }), [], 'wildcard SAN covers the host');
  // --sslCheckSkip leaves what Quay checks at every start (key matches, SAN names the host), nothing more.
  t.same(check({ ...old, skipCheck: true }), [], '--sslCheckSkip: an expired certificate is the user\'s call');
  t.same(check({ ...future, skipCheck: true }), [], '--sslCheckSkip: not yet valid too');
  t.same(check({ ...client, skipCheck: true }), [], '--sslCheckSkip: key usage too');
  t.same(check({ certPem: server.certPem + wild.certPem, skipCheck: true }), [], '--sslCheckSkip: a chain that does not chain too');
  t.match(check({ hostname: 'other.example.com', skipCheck: true }), [/does not cover other\.example\.com .*Quay refuses to start with it \(even with --sslCheckSkip\)/],
    '--sslCheckSkip never passes a certificate Quay refuses at start');
  t.match(check({ keyPem: ca.keyPem, skipCheck: true }), [/key does not match/], '--sslCheckSkip: a key that does not match is still refused');
  t.same(check({ hostname: `${HOST.toUpperCase()}.` }), [], 'case and trailing dot');

  const cases: [string, Partial<Parameters<typeof checkProvidedCert>[0]>, RegExp][] = [
    ['expired', { ...old }, /^--sslCert \/p\/c\.pem: certificate expired on \d{4}-\d\d-\d\d; supply a current certificate or omit --sslCert and --sslKey to let mreg generate one$/],
    ['not yet valid', { ...future }, /^--sslCert \/p\/c\.pem: certificate is not valid before \S+Z; check this host's clock or supply a current certificate$/],
    ['wrong hostname', { hostname: 'other.example.com' }, /^--sslCert \/p\/c\.pem: certificate does not cover other\.example\.com \(it names DNS:registry\.example\.com, DNS:registry, DNS:localhost\), and Quay refuses to start with it \(even with --sslCheckSkip\); supply one with subjectAltName DNS:other\.example\.com, or use a name it covers as --quayHostname$/],
    ['CN only', { ...cnOnly }, /does not cover registry\.example\.com \(it has no subjectAltName, and clients ignore the CN\)/],
    ['key mismatch', { keyPem: ca.keyPem }, /^--sslKey \/p\/k\.pem: key does not match the certificate in --sslCert \/p\/c\.pem; supply the private key that belongs to that certificate$/],
    ['chain in wrong order', { certPem: ca.certPem + server.certPem }, /^--sslCert \/p\/c\.pem: the certificate for --sslKey is #2 in the file; put the server certificate first/],
    ['garbage cert', { certPem: 'hello' }, /^--sslCert \/p\/c\.pem: no PEM certificate found \(expected -----BEGIN CERTIFICATE-----\); supply a PEM certificate or omit --sslCert and --sslKey/],
    ['bad cert body', { certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, /^--sslCert \/p\/c\.pem: certificate #1 cannot be parsed \(.+\); supply a valid PEM certificate/],
    ['garbage key', { keyPem: 'hello' }, /^--sslKey \/p\/k\.pem: not a readable private key \(no PEM private key found\); supply the unencrypted PEM private key for --sslCert$/],
    ['bad key body', { keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }, /^--sslKey \/p\/k\.pem: not a readable private key \(.+\)/],
    ['encrypted key', { certPem: wild.certPem, keyPem: encrypted }, /^--sslKey \/p\/k\.pem: the private key is encrypted; supply it decrypted/],
    ['clientAuth only', { ...client }, /^--sslCert \/p\/c\.pem: certificate's extendedKeyUsage lacks serverAuth/],
  ];
  for (const [name, o, want] of cases) {
    const problems = check(o);
    t.equal(problems.length, 1, `${name}: exactly one problem`);
    t.match(problems[0] ?? '', want, name);
    t.notOk(problems.some(p => p.includes('\n')), `${name}: one line`);
  }

  const many = check({ certPem: old.certPem, keyPem: ca.keyPem, hostname: 'x.example.com' });
  t.equal(many.length, 3, 'all problems at once: key, expiry, hostname');
  t.match(checkProvidedCert({ certPem: 'x', keyPem: server.keyPem, hostname: HOST, now })[0], /^--sslCert: /, 'default flag labels');
});

t.test('a certificate never outlives its CA, and an expired CA issues none (clients check the CA\'s dates too)', async t => {
  const day = 86_400_000;
  const old = createCa({ commonName: 'a CA near its end', now: new Date(now.getTime() - 1014 * day), days: 1024 });
  const leaf = issueServerCert({ ca: old, hostname: HOST, now });
  const ends = (pem: string) => new X509Certificate(pem).validTo;
  t.equal(ends(leaf.certPem), ends(old.certPem), 'the leaf ends with the CA, not 365 days on');
  const f = files(t.testdir(), { 'ca.pem': old.certPem, 'leaf.pem': leaf.certPem });
  t.match(openssl('verify', '-x509_strict', '-CAfile', f['ca.pem']!, f['leaf.pem']!), /OK/);
  const gone = createCa({ commonName: 'an expired CA', now: new Date(now.getTime() - 1030 * day), days: 1024 });
  t.throws(() => issueServerCert({ ca: gone, hostname: HOST, now }), { message: /^the CA "CN=an expired CA" expired on \d{4}-\d\d-\d\d: podman and skopeo refuse any certificate it issues$/, hint: /^run mreg cert rotate --new-ca/ });
});
