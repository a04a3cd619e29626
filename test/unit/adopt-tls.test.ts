// adopt decides the certificate before anything stops (issue 15, 1 and 2): the install's CA is kept while
// valid, an expired one is refused with the choices, a pair the CA did not issue is the user's and stays.
import t from 'tap';
import { chooseAdoptTls, type FoundTls } from '../../src/adopt/tls-choice.js';
import { createCa, issueServerCert } from '../../src/tls/index.js';
import { UsageError } from '../../src/errors.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000);
const HOST = 'registry.example.com';
const opts = { newCa: false, now: NOW, hostname: HOST, port: 8443 };
const paths = { certPath: '/etc/quay-install/quay-config/ssl.cert', keyPath: '/etc/quay-install/quay-config/ssl.key', caPath: '/etc/quay-install/quay-rootCA/rootCA.pem' };

// mirror-registry's lifetimes: CA 1024 days, certificate 356.
const validCa = createCa({ commonName: 'Quay', now: daysAgo(400), days: 1024 });
const expiredCa = createCa({ commonName: 'Quay', now: daysAgo(1100), days: 1024 });
const leaf = (ca: typeof validCa, issuedDaysAgo: number) => issueServerCert({ ca, hostname: HOST, now: daysAgo(issuedDaysAgo), days: 356 }).certPem;
const found = (over: Partial<FoundTls>): FoundTls => ({ ...paths, caKeyPresent: true, ...over });

t.test('a valid CA is kept and renews an expired certificate it issued', async t => {
  const c = chooseAdoptTls(found({ caCertPem: validCa.certPem, certPem: leaf(validCa, 400) }), undefined, opts);
  t.same(c.tls, { kind: 'generate' });
  t.equal(c.newCa, false);
  t.match(c.notes[0], /the install's CA \(valid until 2028-\d\d-\d\d\) is kept/);
});

t.test('a CA near its end is kept, and the note says the certificate ends with it and the way out', async t => {
  const oldCa = createCa({ commonName: 'Quay', now: daysAgo(1014), days: 1024 });
  const c = chooseAdoptTls(found({ caCertPem: oldCa.certPem, certPem: leaf(oldCa, 300) }), undefined, opts);
  t.same(c.tls, { kind: 'generate' });
  t.match(c.notes[0], /is kept; mreg renews ssl\.cert from it, and ssl\.cert ends with it: clients refuse the registry from 2026-12-1\d unless you run mreg adopt with --new-ca now/);
  t.notMatch(chooseAdoptTls(found({ caCertPem: validCa.certPem, certPem: leaf(validCa, 400) }), undefined, opts).notes[0], /ends with it/, 'not for a CA with years left');
});

t.test('an expired CA is refused before anything stops, naming the choices', async t => {
  const err = t.throws(() => chooseAdoptTls(found({ caCertPem: expiredCa.certPem, certPem: leaf(expiredCa, 1100) }), undefined, opts)) as unknown as UsageError;
  t.type(err, UsageError);
  t.match(err.message, /quay-rootCA\/rootCA\.pem: the install's CA expired on 2026-09-\d\d/);
  t.match(err.hint, /--sslCert FILE --sslKey FILE, or --new-ca/);
  t.match(err.hint, /certs\.d\/registry\.example\.com:8443\/ca\.crt/);
  t.match(err.hint, /oc create configmap registry-cas -n openshift-config --from-file=registry\.example\.com\.\.8443=/);
  t.match(err.hint, /nothing was stopped/);
  const fresh = chooseAdoptTls(found({ caCertPem: expiredCa.certPem }), undefined, { ...opts, newCa: true });
  t.same(fresh, { tls: { kind: 'generate' }, newCa: true, notes: [fresh.notes[0]] }, '--new-ca: a new CA');
});

t.test('a pair the CA did not issue is the user\'s own: kept as it is', async t => {
  const other = createCa({ commonName: 'Corp CA', now: daysAgo(10) });
  const c = chooseAdoptTls(found({ caCertPem: validCa.certPem, certPem: leaf(other, 5) }), undefined, opts);
  t.same(c.tls, { kind: 'provided', certPath: paths.certPath, keyPath: paths.keyPath, skipCheck: true });
  t.match(c.notes[0], /ssl\.cert was not issued by .*rootCA\.pem: kept as your own certificate/);
  // An expired CA does not matter when the served pair is not from it.
  t.equal(chooseAdoptTls(found({ caCertPem: expiredCa.certPem, certPem: leaf(other, 5) }), undefined, opts).tls.kind, 'provided');
});

t.test('no CA: the pair is kept unless it has expired', async t => {
  const other = createCa({ commonName: 'Corp CA', now: daysAgo(1000) });
  t.equal(chooseAdoptTls(found({ caKeyPresent: false, certPem: leaf(other, 5) }), undefined, opts).tls.kind, 'provided');
  t.throws(() => chooseAdoptTls(found({ caKeyPresent: false, certPem: leaf(other, 400) }), undefined, opts),
    { message: /ssl\.cert: expired on 2026-\d\d-\d\d \(there is no CA in .*, so mreg cannot renew it\)/ });
});

t.test('--sslCert wins; with --new-ca it is a usage error', async t => {
  const own = { kind: 'provided' as const, certPath: '/root/wild.pem', keyPath: '/root/wild.key', skipCheck: false };
  t.same(chooseAdoptTls(found({ caCertPem: expiredCa.certPem }), own, opts).tls, own, 'an expired CA is no obstacle to your own pair');
  t.throws(() => chooseAdoptTls(found({}), own, { ...opts, newCa: true }), UsageError);
});
