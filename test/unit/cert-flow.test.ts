// mreg cert rotate's run over the in-memory host (issue 14): the steps it reports, in its dry run's order,
// the calls it makes, and the rollback to the previous pair when the new one fails. Whether Quay really
// serves the new pair after its restart is the VM suite's (test/vm/cert.test.ts); here the fake's
// handshake presents whatever ssl.cert holds.
import t from 'tap';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { leafFingerprint } from '../../src/apply/cert-rotate.js';
import { cert } from '../../src/commands/cert.js';
import { HostError } from '../../src/errors.js';
import { parseRecord } from '../../src/install-spec/record.js';
import { createCa, issueServerCert } from '../../src/tls/index.js';
import { createFakeHost, fakeContext, recordFile, type FakeHost, type FakeHostOptions } from '../support/fake-host.js';
import { HOME, NOW, probe, ROOT, runningInstall } from '../support/running-install.js';

const HOST = 'registry.example.com';
const CONFIG = `${ROOT}/quay-config`;
const SSL_CERT = `${CONFIG}/ssl.cert`;
const SSL_KEY = `${CONFIG}/ssl.key`;
const RECORD = `${ROOT}/mreg-install.json`;
const APP = 'quay-app.service';
const ca = createCa({ commonName: 'mreg root CA', now: NOW });
const oldLeaf = issueServerCert({ ca, hostname: HOST, now: NOW });

/** runningInstall() with mreg's CA and the pair up issued from it. */
function fakeHost(opts: Partial<FakeHostOptions> = {}): FakeHost {
  const state = runningInstall();
  state.files[`${ROOT}/quay-rootCA/rootCA.pem`] = { content: ca.certPem, mode: 0o644 };
  state.files[`${ROOT}/quay-rootCA/rootCA.key`] = { content: ca.keyPem, mode: 0o600 };
  state.files[SSL_CERT] = { content: oldLeaf.certPem, mode: 0o640 };
  state.files[SSL_KEY] = { content: oldLeaf.keyPem, mode: 0o640 };
  const host: FakeHost = createFakeHost({ probe, state, servedFingerprint: async () => leafFingerprint(host.state.files[SSL_CERT]!.content), ...opts });
  return host;
}

const rotate = (host: FakeHost, flags: Record<string, unknown>, opts: { json?: boolean; verbose?: boolean } = {}) => {
  const c = fakeContext(host, flags, opts);
  return { ...c, done: cert({ ...c.ctx, args: ['rotate'] }) };
};
const stepLines = (stderr: string) => stderr.split('\n').filter(l => l.startsWith('step ')).map(l => l.slice(5));
const KEPT = `${ROOT}/cert-rotate-previous.json`;
const CA_CERT = `${ROOT}/quay-rootCA/rootCA.pem`;
const CA_KEY = `${ROOT}/quay-rootCA/rootCA.key`;
// quay-app runs: the executor clears a failed state only where there is one (unitState first).
const REWRITE = [`write ${SSL_KEY}`, `write ${SSL_CERT}`, `write ${RECORD}`, `restartUnit ${APP}`];

t.test('a reissue: --json steps are the dry run\'s plan; key, cert, record, then quay-app alone restarted', async t => {
  const host = fakeHost();
  const dry = rotate(host, { dryRun: true }, { json: true });
  await dry.done;
  const planned = JSON.parse(dry.stdout()) as { plan: { id: string; text: string }[]; actions: string[] };
  t.same(planned.actions, planned.plan.map(s => s.text), '`actions` are the plan\'s lines, as before');
  t.same(host.calls, ['probe'], 'the dry run changes nothing');
  host.calls.length = 0;

  const run = rotate(host, {}, { json: true });
  await run.done;
  const result = JSON.parse(run.stdout()) as { steps: string[]; source: string; fingerprint256: string; previousFingerprint256: string; restarted: string[]; served: boolean };
  t.same(result.steps, planned.plan.map(s => s.id), 'the steps taken are the steps the dry run listed, in its order');
  t.same(result.steps, ['new-pair', 'write-pair', 'record', `restart:${APP}`, 'health', 'served-certificate']);
  t.match(result, { source: 'reissue', previousFingerprint256: leafFingerprint(oldLeaf.certPem), restarted: [APP], served: true });
  t.same(host.calls, ['probe', `write ${KEPT}`, ...REWRITE, `remove ${KEPT}`], 'the pair it replaces kept, the key before the certificate, the record, then quay-app only; the kept pair removed at the end');
  t.equal(result.fingerprint256, leafFingerprint(host.state.files[SSL_CERT]!.content), 'the new certificate is on disk');
  t.not(host.state.files[SSL_KEY]!.content, oldLeaf.keyPem, 'with a new key');
  t.equal(host.state.files[SSL_CERT]!.mode, 0o640);
  t.equal(host.state.files[SSL_KEY]!.mode, 0o640);
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('--verbose prints "step ID" as each step ends, in the same order', async t => {
  const host = fakeHost();
  const run = rotate(host, {}, { verbose: true });
  await run.done;
  t.same(stepLines(run.stderr()), ['new-pair', 'write-pair', 'record', `restart:${APP}`, 'health', 'served-certificate']);
  t.match(run.stdout(), /^mreg: reissued the server certificate from mreg's CA; the registry serves it\n/, 'the human report as before');
});

t.test('a failed health check: the previous pair and record go back, quay-app restarts on them, exit 1', async t => {
  const host = fakeHost({ healthWaits: ['timeout', 'ok'] });
  const before = structuredClone(host.state.files);
  const run = rotate(host, {}, { verbose: true });
  const err = await run.done.then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof HostError && err.exitCode === 1, 'a HostError, exit 1');
  t.match((err as Error).message, /^quay-app did not come back healthy with the new certificate \(https:\/\/registry\.example\.com:8443\/health\/instance did not answer 200 within 600 s \(last: HTTP 502\)\); the previous certificate was restored and the registry is healthy again$/);
  t.same(host.calls, ['probe', `write ${KEPT}`, ...REWRITE, ...REWRITE.slice(0, 3), `remove ${KEPT}`, ...REWRITE.slice(3)],
    'the new pair and record, restart; then the old pair and record, the kept pair removed once it is on disk again, restart');
  t.same(host.state.files, before, 'every file as it was: the previous pair and the record');
  t.equal(parseRecord(host.state.files[RECORD]!.content, RECORD).updatedAt, parseRecord(before[RECORD]!.content, RECORD).updatedAt);
  t.same(stepLines(run.stderr()), ['new-pair', 'write-pair', 'record', `restart:${APP}`], 'the steps end with the last that finished; the rollback is not a step');
  t.match(run.stderr(), /warning: the new certificate failed \(https:\/\/registry\.example\.com:8443\/health\/instance did not answer 200 within 600 s \(last: HTTP 502\)\); restoring the previous one/);
  t.notOk(host.isLocked(), 'the lock is given back');
});

t.test('after a rotation killed in its health wait, the same command failing restores the pair from before both, not the one the first left', async t => {
  // The registry does not serve with the pair the killed run left; the new pair fails; the kept one serves.
  const host = fakeHost({ healthWaits: ['timeout', 'timeout', 'ok'] });
  const userCa = createCa({ commonName: 'user CA', now: NOW });
  const leaf = issueServerCert({ ca: userCa, hostname: HOST, now: NOW });
  host.state.files[`${HOME}/pair/chain.pem`] = { content: leaf.certPem + userCa.certPem, mode: 0o644 };
  host.state.files[`${HOME}/pair/leaf.key`] = { content: leaf.keyPem, mode: 0o600 };
  const flags = { sslCert: `${HOME}/pair/chain.pem`, sslKey: `${HOME}/pair/leaf.key` };
  // What the killed run left: the user's pair and its record on disk, and mreg's pair from before it kept.
  host.state.files[KEPT] = { content: JSON.stringify({ certPem: oldLeaf.certPem, keyPem: oldLeaf.keyPem, tls: { kind: 'generate' } }), mode: 0o600 };
  host.state.files[SSL_CERT] = { content: leaf.certPem + userCa.certPem, mode: 0o640 };
  host.state.files[SSL_KEY] = { content: leaf.keyPem, mode: 0o640 };
  const r = parseRecord(host.state.files[RECORD]!.content, RECORD);
  host.state.files[RECORD] = { content: JSON.stringify({ ...r, spec: { ...r.spec, tls: { kind: 'provided', certPath: flags.sslCert, keyPath: flags.sslKey, skipCheck: false } } }), mode: 0o600 };
  const run = rotate(host, flags);
  const err = await run.done.then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof HostError, 'the user\'s pair failed again', { err });
  t.match(run.stderr(), /an earlier cert rotate stopped midway, and the pair it left does not serve: a failure now restores the pair from before it/);
  t.equal(host.state.files[SSL_CERT]!.content, oldLeaf.certPem, 'mreg\'s pair from before the killed run is back, not the user\'s it left');
  t.equal(host.state.files[SSL_KEY]!.content, oldLeaf.keyPem);
  t.same(parseRecord(host.state.files[RECORD]!.content, RECORD).spec.tls, { kind: 'generate' }, 'and the record\'s TLS from then');
  t.notOk(host.state.files[KEPT], 'the kept pair is gone once it is back');
  t.notOk(host.calls.includes(`write ${KEPT}`), 'the kept pair was not replaced by the one the killed run left');
});

t.test('a kept pair from a rotation that stopped midway but whose pair works is stale: removed, and a failure restores the pair on disk', async t => {
  const host = fakeHost({ healthWaits: ['ok', 'timeout', 'ok'] });
  const ancient = issueServerCert({ ca, hostname: HOST, now: NOW });
  host.state.files[KEPT] = { content: JSON.stringify({ certPem: ancient.certPem, keyPem: ancient.keyPem, tls: { kind: 'generate' } }), mode: 0o600 };
  const run = rotate(host, {});
  const err = await run.done.then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof HostError, 'the new pair failed');
  t.match(run.stderr(), /the registry serves well with the pair it left: \S+cert-rotate-previous\.json removed/);
  t.equal(host.state.files[SSL_CERT]!.content, oldLeaf.certPem, 'the pair that served before this rotation is back, not the stale kept one');
  t.notOk(host.state.files[KEPT], 'no kept pair left');
});

t.test('quay-app does not restart, nor after the rollback: exit 1 says both failed', async t => {
  const host = fakeHost();
  delete host.state.units[APP]; // the fake's restart of an unknown unit ends "failed"
  const run = rotate(host, {}, { json: true });
  const err = await run.done.then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof HostError);
  t.equal(run.stdout(), '', '--json prints no document for a failed rotation');
  t.match((err as Error).message, /^quay-app did not come back healthy with the new certificate \(.*quay-app\.service.*\), and restoring the previous certificate failed too \(.*quay-app\.service/);
  t.equal(host.state.files[SSL_CERT]!.content, oldLeaf.certPem, 'the previous pair is back on disk');
});

t.test('--sslCheckSkip: the user\'s pair, no health probe (plan and run alike), the record names the files', async t => {
  const userCa = createCa({ commonName: 'user CA', now: NOW });
  const leaf = issueServerCert({ ca: userCa, hostname: HOST, now: NOW });
  // A health probe would fail the run: none may be made.
  const host = fakeHost({ healthWaits: ['timeout'] });
  host.state.files[`${HOME}/pair/chain.pem`] = { content: leaf.certPem + userCa.certPem, mode: 0o644 };
  host.state.files[`${HOME}/pair/leaf.key`] = { content: leaf.keyPem, mode: 0o600 };
  const flags = { sslCert: `${HOME}/pair/chain.pem`, sslKey: `${HOME}/pair/leaf.key`, sslCheckSkip: true };
  const dry = rotate(host, { ...flags, dryRun: true }, { json: true });
  await dry.done;
  const plan = (JSON.parse(dry.stdout()) as { plan: { id: string }[] }).plan.map(s => s.id);
  t.same(plan, ['new-pair', 'write-pair', 'record', `restart:${APP}`, 'served-certificate']);
  const run = rotate(host, flags, { json: true });
  await run.done;
  t.same((JSON.parse(run.stdout()) as { steps: string[] }).steps, plan);
  t.equal(host.state.files[SSL_CERT]!.content, leaf.certPem + userCa.certPem, 'the whole chain is served');
  t.same(parseRecord(host.state.files[RECORD]!.content, RECORD).spec.tls, { kind: 'provided', certPath: `${HOME}/pair/chain.pem`, keyPath: `${HOME}/pair/leaf.key`, skipCheck: true });
});

/** fakeHost() serving a pair of the user's own: no CA of mreg's, the record naming the user's files. */
function ownPairHost(opts: Partial<FakeHostOptions> = {}): FakeHost {
  const userCa = createCa({ commonName: 'user CA', now: NOW });
  const leaf = issueServerCert({ ca: userCa, hostname: HOST, now: NOW });
  const host = fakeHost(opts);
  delete host.state.files[CA_CERT];
  delete host.state.files[CA_KEY];
  host.state.files[SSL_CERT] = { content: leaf.certPem + userCa.certPem, mode: 0o640 };
  host.state.files[SSL_KEY] = { content: leaf.keyPem, mode: 0o640 };
  const r = parseRecord(host.state.files[RECORD]!.content, RECORD);
  host.state.files[RECORD] = recordFile({ ...r, spec: { ...r.spec, tls: { kind: 'provided', certPath: '/x/c.pem', keyPath: '/x/k.pem', skipCheck: false } } });
  return host;
}

t.test('--new-ca on an install serving the user\'s own pair: a new CA in quay-rootCA, a leaf from it, the record back on mreg\'s CA', async t => {
  const host = ownPairHost();
  const dry = rotate(host, { newCa: true, dryRun: true }, { json: true });
  await dry.done;
  const plan = JSON.parse(dry.stdout()) as { plan: { id: string; text: string }[] };
  t.match(plan.plan[0]!.text, /^make a new CA/);
  t.same(host.calls, ['probe'], 'the dry run changes nothing');
  host.calls.length = 0;
  const run = rotate(host, { newCa: true });
  await run.done;
  t.same(host.calls.slice(0, 3), ['probe', `write ${KEPT}`, `makeDir ${ROOT}/quay-rootCA`]);
  const ca = host.state.files[CA_CERT]!.content;
  t.equal(host.state.files[CA_KEY]!.mode, 0o600, 'the CA key owner-only');
  const served = host.state.files[SSL_CERT]!.content;
  t.ok(new X509Certificate(served).verify(new X509Certificate(ca).publicKey), 'the served certificate is the new CA\'s');
  const rec = parseRecord(host.state.files[RECORD]!.content, RECORD);
  t.same(rec.spec.tls, { kind: 'generate' }, 'the record\'s TLS is mreg\'s CA');
  t.ok(rec.files.includes(CA_CERT) && rec.files.includes(CA_KEY), 'the record lists the CA files, so down --purge removes them');
  t.notOk(host.state.files[KEPT], 'the kept pair removed at the end');
  t.match(run.stdout(), /made a new CA and a server certificate from it/);
  t.match(run.stdout(), /mreg cert trust here; elsewhere copy it to \/etc\/containers\/certs\.d\/registry\.example\.com:8443\/ca\.crt/, 'says what clients must trust');
});

t.test('--new-ca that fails its health check: the CA, pair and record from before back; on the user\'s own pair, no CA stays', async t => {
  for (const [what, make] of [['mreg\'s CA', fakeHost], ['the user\'s own pair', ownPairHost]] as const) {
    const host = make({ healthWaits: ['timeout', 'ok'] });
    const before = structuredClone(host.state.files);
    const err = await rotate(host, { newCa: true }).done.then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof HostError, `${what}: exit 1`, { err });
    t.same(host.state.files, before, `${what}: every file as it was`);
  }
});

t.test('cert trust --new-ca is refused: trust changes no certificate', async t => {
  const host = fakeHost();
  const c = fakeContext(host, { newCa: true });
  await t.rejects(cert({ ...c.ctx, args: ['trust'] }), { message: /mreg cert trust takes no --new-ca/ });
  t.same(host.calls, [], 'nothing asked of the host');
});

t.test('--new-ca after a rotation that stopped midway (its kept pair holds no CA): a failure puts back the CA on disk too', async t => {
  // The killed reissue left a pair that does not serve; --new-ca fails as well; the kept pair serves.
  const host = fakeHost({ healthWaits: ['timeout', 'timeout', 'ok'] });
  const left = issueServerCert({ ca, hostname: HOST, now: NOW });
  host.state.files[KEPT] = { content: JSON.stringify({ certPem: oldLeaf.certPem, keyPem: oldLeaf.keyPem, tls: { kind: 'generate' } }), mode: 0o600 };
  host.state.files[SSL_CERT] = { content: left.certPem, mode: 0o640 };
  host.state.files[SSL_KEY] = { content: left.keyPem, mode: 0o640 };
  const err = await rotate(host, { newCa: true }).done.then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof HostError, 'exit 1', { err });
  t.equal(host.state.files[CA_CERT]!.content, ca.certPem, 'mreg\'s CA from before is back, not the new one');
  t.equal(host.state.files[CA_KEY]!.content, ca.keyPem, 'with its key');
  t.equal(host.state.files[SSL_CERT]!.content, oldLeaf.certPem, 'and the pair from before the stopped rotation');
  t.notOk(host.state.files[KEPT], 'the kept pair is gone once it is back');
});

t.test('a reissue killed at each of its changes, then run again: a matching pair from mreg\'s CA on disk, quay-app started after it, nothing kept', async t => {
  const clock = () => ({ now: 0, mtimes: {}, activeSince: { [APP]: 0 } });
  const whole = fakeHost();
  whole.state.clock = clock();
  await rotate(whole, {}).done;
  const changes = whole.calls.length;
  let killedRuns = 0;
  for (let n = 2; n <= changes; n++) {
    const killed = fakeHost({ failAtCall: n });
    killed.state.clock = clock();
    const err = await rotate(killed, {}).done.then(() => undefined, (e: unknown) => e);
    const at = err instanceof Error ? /injected failure at (.*)$/m.exec(err.message)?.[1] : undefined;
    if (at === undefined) { t.fail(`killed at change ${n}: cert rotate should stop there`, { err }); continue; }
    killedRuns++;
    const again = createFakeHost({ probe, state: killed.state, servedFingerprint: async () => leafFingerprint(again.state.files[SSL_CERT]!.content) });
    const rerun = await rotate(again, {}).done.then(() => undefined, (e: unknown) => e);
    if (rerun !== undefined) { t.fail(`killed at change ${n} (${at}): the same rotate again should finish`, { err: rerun }); continue; }
    const { files, clock: c } = again.state;
    const served = new X509Certificate(files[SSL_CERT]!.content);
    t.ok(served.checkPrivateKey(createPrivateKey(files[SSL_KEY]!.content)) && served.checkIssued(new X509Certificate(ca.certPem)),
      `killed at change ${n} (${at}): the key on disk is the certificate's, issued by mreg's CA`);
    t.not(files[SSL_CERT]!.content, oldLeaf.certPem, `killed at change ${n}: a new certificate`);
    t.same(parseRecord(files[RECORD]!.content, RECORD).spec.tls, { kind: 'generate' });
    t.notOk(files[KEPT], `killed at change ${n}: no kept pair left`);
    t.ok(Math.max(c!.mtimes[SSL_CERT] ?? 0, c!.mtimes[SSL_KEY] ?? 0) < c!.activeSince[APP]!, `killed at change ${n}: quay-app started after the pair was written`);
    t.notOk(again.isLocked(), `killed at change ${n}: the lock is given back`);
  }
  t.ok(killedRuns >= 5, `killed at ${killedRuns} changes`);
});
