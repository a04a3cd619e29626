// up's beforeApp hook (restore): up starts every unit but quay-app, runs the hook in place of its health
// wait, and only then makes or keeps the first user. Until 2026-12-06 restore's data went back after
// up's first user, so Quay first ran on an empty database and, for a backup without a credentials file
// (an adopted mirror-registry install), up created a first user there that the restored database then
// replaced: the credentials file named a password the registry did not know.
// up's phases are mocked (each is its own suite's); what is tested is their order.
import t, { type Test } from 'tap';
import type { CommandContext } from '../../src/cli.js';
import type { UpHooks } from '../../src/commands/up.js';
import { createFakeHost, fakeContext } from '../support/fake-host.js';
import { probe, runningInstall } from '../support/running-install.js';

async function upWithMockedPhases(t: Test, events: string[], opts: { healthy?: boolean } = {}) {
  const actualStart = await import('../../src/up/start.js');
  const spec = { scope: 'rootless', hostname: 'registry.example.com', port: 8443, initUser: 'init' };
  return (await t.mockImport<typeof import('../../src/commands/up.js')>('../../src/commands/up.js', {
    '../../src/remote/on-target.js': { runOnTarget: async () => false },
    '../../src/up/read.js': {
      readUp: async () => ({ probe, look: {}, podman: {}, target: probe, layout: { root: '/q' },
        checked: { previous: undefined, review: { changes: [] }, taken: [], spec } }),
    },
    '../../src/actions/lock-as-read.js': { lockAsRead: async () => async () => {} },
    '../../src/apply/secrets-step.js': { readStoredSecretsAt: async () => ({}) },
    '../../src/up/early-health.js': { askHealthEarly: async () => undefined },
    '../../src/up/host-checks.js': { checkHost: async () => ({ spec, config: { text: undefined, kept: {} }, shown: undefined }) },
    '../../src/up/record.js': { writeFirstRecord: async () => {}, writeRecord: async () => { events.push('record'); },
      forgetRestoreMarker: async () => { events.push('forget restore marker'); },
      refuseUnfinishedRestore: async () => { events.push('unfinished restore?'); } },
    '../../src/up/tls-secrets.js': { makeTlsAndSecrets: async () => ({ secrets: {}, tls: {}, missing: [] }) },
    '../../src/up/write.js': { writeFiles: async () => ({ planned: { volumes: [] }, files: [], stale: [] }) },
    '../../src/up/start.js': {
      ...actualStart,
      startChanged: async (...a: unknown[]) => { events.push(`start all but ${String(a[4])}`); return { ep: { hostname: spec.hostname, port: spec.port }, unchanged: false }; },
      ...(opts.healthy === undefined ? {} : { waitHealthy: async () => { events.push('health'); if (!opts.healthy) throw new Error('not healthy (mock)'); return undefined; } }),
    },
    '../../src/apply/first-user.js': { ensureInitUser: async () => { events.push('first user'); return { created: false }; } },
    '../../src/up/report.js': { reportUp: () => {} },
  })).up;
}

function context(): CommandContext {
  const host = createFakeHost({ probe, state: runningInstall() });
  return fakeContext(host, {}).ctx;
}

t.test('with beforeApp: quay-app held, the hook in place of the health wait, then the first user', async t => {
  const events: string[] = [];
  const up = await upWithMockedPhases(t, events);
  const hooks: UpHooks = {
    beforeApp: async run => { events.push(`hook (${run.spec.hostname})`); },
    beforeReport: async () => { events.push('before report'); },
  };
  await up(context(), hooks);
  t.same(events, ['start all but quay-app.service', 'hook (registry.example.com)', 'first user', 'before report', 'record'],
    'restore\'s own up leaves the restore marker to restore');
});

t.test('an up of its own that ends healthy forgets a failed restore\'s marker, after the record', async t => {
  const events: string[] = [];
  const up = await upWithMockedPhases(t, events, { healthy: true });
  await up(context(), {});
  t.same(events, ['unfinished restore?', 'start all but undefined', 'health', 'first user', 'record', 'forget restore marker'],
    'first refused if the restore stopped before its data was back');
});

t.test('without it: up starts every unit and waits for the health itself', async t => {
  const events: string[] = [];
  const up = await upWithMockedPhases(t, events, { healthy: false });
  await t.rejects(up(context(), {}), /not healthy \(mock\)/, 'up\'s own wait ran and its failure ends the run');
  t.same(events, ['unfinished restore?', 'start all but undefined', 'health'], 'nothing held, and no first user before the health');
});
