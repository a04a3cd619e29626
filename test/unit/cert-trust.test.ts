// mreg cert trust over the in-memory host (issue 14): the CA goes to podman's certs.d folder for this
// registry and into the record (so down --purge removes it); run again, nothing changes.
import t from 'tap';
import { cert } from '../../src/commands/cert.js';
import { parseRecord } from '../../src/install-spec/record.js';
import { TRUST_STEP } from '../../src/plan/cert-steps.js';
import { createCa } from '../../src/tls/index.js';
import { createFakeHost, fakeContext, writeRecordBeforeLock } from '../support/fake-host.js';
import { HOME, probe, ROOT, runningInstall } from '../support/running-install.js';

const CERTS_D = `${HOME}/.config/containers/certs.d/registry.example.com:8443`;

/** An install on mreg's CA that has not run cert trust (runningInstall records a trusted CA already). */
function untrusted() {
  const state = runningInstall();
  const ca = createCa({ commonName: 'mreg CA', now: new Date(), days: 3650 });
  state.files[`${ROOT}/quay-rootCA/rootCA.pem`] = { content: ca.certPem, mode: 0o644 };
  const rec = parseRecord(state.files[`${ROOT}/mreg-install.json`]!.content, 'record');
  state.files[`${ROOT}/mreg-install.json`]!.content = JSON.stringify({ ...rec, files: rec.files.filter(f => !f.startsWith(`${HOME}/.config/containers/certs.d/`)) });
  delete state.files[`${CERTS_D}/ca.crt`];
  return { state, ca };
}

t.test('trust writes the CA once and records it', async t => {
  const { state, ca } = untrusted();
  const host = createFakeHost({ probe, state });

  const first = fakeContext(host, {}, { json: true });
  await cert({ ...first.ctx, args: ['trust'] });
  t.equal(host.state.files[`${CERTS_D}/ca.crt`]?.content, ca.certPem, 'the CA in certs.d');
  t.equal(host.state.files[`${CERTS_D}/ca.crt`]?.mode, 0o644);
  t.ok(host.state.dirs[CERTS_D], 'its folder made');
  t.ok(parseRecord(host.state.files[`${ROOT}/mreg-install.json`]!.content, 'record').files.includes(`${CERTS_D}/ca.crt`), 'recorded for down --purge');
  t.match(JSON.parse(first.stdout()), { path: `${CERTS_D}/ca.crt`, unchanged: false });

  const calls = host.calls.length;
  const again = fakeContext(host, {}, { json: true });
  await cert({ ...again.ctx, args: ['trust'] });
  t.match(JSON.parse(again.stdout()), { unchanged: true }, 'a second run: unchanged');
  t.same(host.calls.slice(calls).filter(c => !c.startsWith('probe')), [], 'and writes nothing');
});

t.test('--dry-run lists the steps and writes nothing', async t => {
  const state = runningInstall();
  state.files[`${ROOT}/quay-rootCA/rootCA.pem`] = { content: createCa({ commonName: 'mreg CA', now: new Date(), days: 3650 }).certPem, mode: 0o644 };
  delete state.files[`${CERTS_D}/ca.crt`];
  const host = createFakeHost({ probe, state });
  const c = fakeContext(host, { dryRun: true }, { json: true });
  await cert({ ...c.ctx, args: ['trust'] });
  t.match(JSON.parse(c.stdout()), { dryRun: true, unchanged: false, actions: [`create ${CERTS_D}`, /^write .*ca\.crt \(mode 0644\)/] });
  t.same(host.calls.filter(c => !c.startsWith('probe')), [], 'no change');
});

t.test('steps: each id once, in the dry run\'s order; the record is read again under the lock', async t => {
  const state = runningInstall();
  state.files[`${ROOT}/quay-rootCA/rootCA.pem`] = { content: createCa({ commonName: 'mreg CA', now: new Date(), days: 3650 }).certPem, mode: 0o644 };
  const rec = parseRecord(state.files[`${ROOT}/mreg-install.json`]!.content, 'record');
  state.files[`${ROOT}/mreg-install.json`]!.content = JSON.stringify({ ...rec, files: rec.files.filter(f => !f.startsWith(`${HOME}/.config/containers/certs.d/`)) });
  delete state.files[`${CERTS_D}/ca.crt`];
  const host = createFakeHost({ probe, state });

  const dry = fakeContext(host, { dryRun: true }, { json: true });
  await cert({ ...dry.ctx, args: ['trust'] });
  const planned = (JSON.parse(dry.stdout()) as { plan: { id: string }[] }).plan.map(p => p.id);
  t.same(planned, [TRUST_STEP.dir, TRUST_STEP.writeCa, TRUST_STEP.record]);

  // Another mreg (an up, say) writes the record after trust read it and before trust takes the lock.
  writeRecordBeforeLock(host, `${ROOT}/mreg-install.json`, 'written meanwhile');
  const run = fakeContext(host, {}, { json: true });
  await cert({ ...run.ctx, args: ['trust'] });
  t.same((JSON.parse(run.stdout()) as { steps: string[] }).steps, planned, 'the steps it took are the dry run\'s plan');
  const after = parseRecord(host.state.files[`${ROOT}/mreg-install.json`]!.content, 'record');
  t.ok(after.files.includes(`${CERTS_D}/ca.crt`), 'ca.crt recorded');
  t.equal(after.updatedAt, 'written meanwhile', 'and the other command\'s write is kept');
  t.notOk(host.isLocked(), 'lock released');
});

t.test('a ca.crt mreg did not write (an admin\'s) is copied aside first, and only mreg\'s is recorded for down --purge', async t => {
  const { state, ca } = untrusted();
  state.files[`${CERTS_D}/ca.crt`] = { content: 'THE SITE CA\n', mode: 0o644 };
  const host = createFakeHost({ probe, state });
  const dry = fakeContext(host, { dryRun: true }, { json: true });
  await cert({ ...dry.ctx, args: ['trust'] });
  t.equal((JSON.parse(dry.stdout()) as { plan: { id: string }[] }).plan[0]?.id, TRUST_STEP.keepOther, 'the dry run says so first');
  const c = fakeContext(host, {}, { json: true });
  await cert({ ...c.ctx, args: ['trust'] });
  t.equal(host.state.files[`${CERTS_D}/ca.crt.before-mreg`]?.content, 'THE SITE CA\n', 'the admin\'s file kept, under a name podman does not read');
  t.equal(host.state.files[`${CERTS_D}/ca.crt`]?.content, ca.certPem, 'mreg\'s CA in its place');
  const files = parseRecord(host.state.files[`${ROOT}/mreg-install.json`]!.content, 'record').files;
  t.notOk(files.includes(`${CERTS_D}/ca.crt.before-mreg`), 'the copy is not mreg\'s: down --purge leaves it');
});
