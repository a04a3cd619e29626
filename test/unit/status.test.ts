// mreg status over the in-memory host (issue 14: a command that reads only through its ports): what it
// reports for a healthy install, the problems it names, and exit 3 when anything is wrong.
import t from 'tap';
import { status, type StatusReport } from '../../src/commands/status.js';
import { UnhealthyError } from '../../src/errors.js';
import { createFakeHost, fakeContext, type FakeHostOptions } from '../support/fake-host.js';
import { probe, ROOT, runningInstall } from '../support/running-install.js';
import { createCa, issueServerCert } from '../../src/tls/index.js';
import { X509Certificate } from 'node:crypto';

// runningInstall() plus what status reads: a served certificate with a year left, private modes.
function installed() {
  const state = runningInstall();
  const ca = createCa({ commonName: 'mreg CA', now: new Date(), days: 3650 });
  state.files[`${ROOT}/quay-config/ssl.cert`] = { content: issueServerCert({ ca, hostname: 'registry.example.com', now: new Date(), days: 365 }).certPem, mode: 0o640 };
  state.files[`${ROOT}/quay-config/config.yaml`]!.mode = 0o640;
  state.files[`${ROOT}/credentials`]!.mode = 0o600;
  return state;
}

async function runStatus(opts: Partial<FakeHostOptions> = {}, state = installed()) {
  const host = createFakeHost({ probe, state, ...opts });
  const c = fakeContext(host, {}, { json: true });
  const err = await status(c.ctx).then(() => undefined, (e: unknown) => e);
  return { host, err, report: JSON.parse(c.stdout()) as StatusReport };
}

t.test('a healthy install: four active units, health 200, both volumes with their space', async t => {
  const { host, err, report } = await runStatus();
  t.equal(err, undefined, 'no error (exit 0)');
  t.equal(report.healthy, true);
  t.same(report.units.map(u => [u.name, u.activeState]), [['quay-pod.service', 'active'], ['quay-postgres.service', 'active'], ['quay-redis.service', 'active'], ['quay-app.service', 'active']]);
  t.same(report.storage.map(s => [s.name, s.location]), [['quayStorage', '/var/lib/containers/storage/volumes/quay-storage/_data'], ['pgStorage', '/var/lib/containers/storage/volumes/pg-storage/_data']]);
  t.same(host.calls, [], 'nothing on the host changed');
});

t.test('each problem named, in order, and exit 3', async t => {
  const state = installed();
  delete state.files[`${ROOT}/quay-config/ssl.cert`];
  state.units['quay-redis.service'] = 'failed';
  state.files[`${ROOT}/credentials`]!.mode = 0o644;
  const { err, report } = await runStatus({ health: { ok: false, status: 503, error: null }, space: { freeBytes: 512 * 1024 ** 2, totalBytes: 100 * 1024 ** 3 } }, state);
  t.ok(err instanceof UnhealthyError && err.exitCode === 3, 'UnhealthyError, exit 3');
  t.equal(report.healthy, false);
  t.match(report.problems, [
    /^quay-redis\.service is failed \(dead, result exit-code\): see systemctl --user status quay-redis\.service$/,
    /^\/health\/instance answered HTTP 503: see mreg logs quay-app$/,
    /^\S+\/quay-install\/quay-config\/ssl\.cert is missing: run mreg up to reissue it$/,
    /credentials: mode 0644 is too open \(at most 0600\)/,
    /^quayStorage \S+: only 512 MiB free of 102400 MiB; free space or move storage$/,
    /^pgStorage \S+: only 512 MiB free/,
  ]);
  t.equal(report.problems.length, 6, 'nothing else');
});

t.test('an install mreg down removed: says so and exits 3', async t => {
  const state = installed();
  const rec = JSON.parse(state.files[`${ROOT}/mreg-install.json`]!.content) as Record<string, unknown>;
  state.files[`${ROOT}/mreg-install.json`]!.content = JSON.stringify({ ...rec, removedAt: '2026-02-01T00:00:00.000Z' });
  const { err, report } = await runStatus({}, state);
  t.ok(err instanceof UnhealthyError);
  t.match((err as Error).message, /removed by mreg down on 2026-02-01.*its data was kept/);
  t.same(report, { healthy: false, removed: true, removedAt: '2026-02-01T00:00:00.000Z', quayRoot: ROOT });
});

t.test('without --json: the unit table, the registry, certificate, storage and backup lines, each problem, the verdict', async t => {
  const state = installed();
  state.units['quay-redis.service'] = 'failed';
  const host = createFakeHost({ probe, state });
  const c = fakeContext(host, {});
  const err = await status(c.ctx).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof UnhealthyError);
  t.equal((err as Error).message, 'registry is not healthy (1 problem)');
  t.equal((err as UnhealthyError).hint, 'see: mreg logs, systemctl --user status quay-app');
  const lines = c.stdout().split('\n');
  t.same(lines.slice(0, 5), [
    'UNIT                   LOAD    ACTIVE  SUB      SINCE  PID  RESTARTS  RESULT',
    'quay-pod.service       loaded  active  running  -      100  0         success',
    'quay-postgres.service  loaded  active  running  -      100  0         success',
    'quay-redis.service     loaded  failed  dead     -      -    0         exit-code',
    'quay-app.service       loaded  active  running  -      100  0         success',
  ]);
  t.match(lines.slice(5).join('\n'), new RegExp([
    '',
    'registry:    https://registry\\.example\\.com:8443  health: ok',
    'certificate: expires \\d{4}-\\d\\d-\\d\\d \\((364|365) days\\)',
    'quayStorage  /var/lib/containers/storage/volumes/quay-storage/_data  \\(100\\.0 GiB free\\)',
    'pgStorage    /var/lib/containers/storage/volumes/pg-storage/_data  \\(100\\.0 GiB free\\)',
    'last backup: none \\(mreg backup FILE\\)',
    'problem: quay-redis\\.service is failed \\(dead, result exit-code\\): see systemctl --user status quay-redis\\.service',
    'NOT healthy',
    '',
  ].join('\n') + '$'));
  t.equal(c.stderr(), '', 'no warning with a year left');
});

t.test('mreg\'s CA is read too: near its end a warning, past it a problem (clients refuse the registry then)', async t => {
  const day = 86_400_000;
  for (const [left, expect] of [[10, 'warning'], [-3, 'problem']] as const) {
    const state = installed();
    const ca = createCa({ commonName: 'mreg CA', now: new Date(Date.now() - (1024 - left) * day), days: 1024 });
    state.files[`${ROOT}/quay-rootCA/rootCA.pem`] = { content: ca.certPem, mode: 0o644 };
    const { err, report } = await runStatus({}, state);
    t.equal(report.certificate.caExpires?.slice(0, 10), new Date(new X509Certificate(ca.certPem).validTo).toISOString().slice(0, 10), `${left} days: the CA's end reported`);
    if (expect === 'warning') {
      t.equal(err, undefined, 'still healthy');
      t.match(report.certificate.warning, /^mreg's CA \S+rootCA\.pem expires in (9|10) days \(\d{4}-\d\d-\d\d\), and with it the registry's certificate: run mreg cert rotate --new-ca/);
    } else {
      t.ok(err instanceof UnhealthyError, 'exit 3');
      t.match(report.problems, [/^mreg's CA \S+rootCA\.pem expired on \d{4}-\d\d-\d\d: clients refuse every certificate it issued; run mreg cert rotate --new-ca/]);
    }
  }
});

t.test('an ssl.cert that is not a certificate is a problem in the report (exit 3), not a failure of status', async t => {
  const state = installed();
  state.files[`${ROOT}/quay-config/ssl.cert`] = { content: '-----BEGIN CERTIFICATE-----\ncut short', mode: 0o640 };
  const { err, report } = await runStatus({}, state);
  t.ok(err instanceof UnhealthyError, 'exit 3, with the report on stdout');
  t.match(report.problems, [/^\S+\/quay-config\/ssl\.cert is not a readable certificate \(.*\): run mreg up to reissue it/]);
  t.same(report.certificate, { expires: null, daysLeft: null, warning: null });
});
