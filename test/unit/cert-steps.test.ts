// cert rotate's steps as its dry run lists them (`actions`, and with --json `plan`): the ids
// `cert rotate --json` reports as `steps` and --verbose prints, up's and upgrade's where the kind is the same.
import t from 'tap';
import { CERT_STEP as S, probesHealth, rotateSteps } from '../../src/plan/cert-steps.js';
import { UP_STEP } from '../../src/plan/up-steps.js';
import { UPGRADE_STEP } from '../../src/plan/upgrade-steps.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';

const layout = quayRootLayout('/etc/quay-install');
const at = { hostname: 'registry.example.com', port: 8443, layout };
const ids = (steps: { id: string }[]) => steps.map(s => s.id);

t.test('a reissue from mreg\'s CA: the pair, its files, the record, quay-app restarted, health, the served fingerprint', async t => {
  const steps = rotateSteps({ ...at, tls: { kind: 'generate' } });
  t.same(ids(steps), ['new-pair', 'write-pair', 'record', 'restart:quay-app.service', 'health', 'served-certificate']);
  t.same(steps.map(s => s.text), [
    'issue a new server certificate for registry.example.com from /etc/quay-install/quay-rootCA/rootCA.pem',
    'keep the pair it replaces in /etc/quay-install/cert-rotate-previous.json (0600) until the rotation ends; write /etc/quay-install/quay-config/ssl.key and /etc/quay-install/quay-config/ssl.cert (mode 0640)',
    'record spec.tls in /etc/quay-install/mreg-install.json',
    'restart quay-app.service only and wait for its job',
    'wait for https://registry.example.com:8443/health/instance',
    'check that 127.0.0.1:8443 serves the new certificate',
  ], 'the lines the dry run printed before it had ids (and, since 2026-12-07, where it keeps the pair it replaces)');
});

t.test('the ids of the same kind of step are up\'s and upgrade\'s', async t => {
  t.equal(S.record, UP_STEP.record);
  t.equal(S.health, UP_STEP.health);
  t.equal(S.restart, UPGRADE_STEP.restart('quay-app.service'));
});

t.test('the user\'s files: named in the first step; with --sslCheckSkip no health probe (the restart job waits for the healthcheck)', async t => {
  const tls = { kind: 'provided' as const, certPath: '/root/chain.pem', keyPath: '/root/leaf.key', skipCheck: false };
  const checked = rotateSteps({ ...at, tls });
  t.equal(checked[0]!.text, 'install /root/chain.pem (checked)');
  t.ok(ids(checked).includes(S.health));
  t.ok(probesHealth(tls));
  t.notOk(probesHealth({ ...tls, skipCheck: true }));
  const skipped = rotateSteps({ ...at, tls: { ...tls, skipCheck: true } });
  t.same(ids(skipped), ['new-pair', 'write-pair', 'record', 'restart:quay-app.service', 'served-certificate']);
  t.equal(skipped[0]!.text, 'install /root/chain.pem (--sslCheckSkip: only what Quay checks, the key and the name)', 'a skipped check is not called checked');
});
