// Commands read the install record before the scope's lock and write one built from that read (issue 14,
// found in stop 40): under the lock the record is read again, and a command refuses, changing nothing,
// when another mreg wrote it in between.
import t from 'tap';
import { lockAsRead } from '../../src/actions/lock-as-read.js';
import { cert } from '../../src/commands/cert.js';
import { down } from '../../src/commands/down.js';
import { up } from '../../src/commands/up.js';
import { upgrade } from '../../src/commands/upgrade.js';
import { HostError } from '../../src/errors.js';
import { parseRecord } from '../../src/install-spec/record.js';
import type { CommandContext } from '../../src/cli.js';
import { createCa, issueServerCert } from '../../src/tls/index.js';
import { createFakeHost, fakeContext, recordFile, writeRecordBeforeLock, type FakeHost } from '../support/fake-host.js';
import { NOW, probe, ROOT, runningInstall } from '../support/running-install.js';

const RECORD = `${ROOT}/mreg-install.json`;
const CHANGED = /the install record in \/.* changed while this mreg was reading it \(another mreg ran meanwhile\); nothing was changed/;

function installed(): FakeHost {
  const state = runningInstall();
  const record = parseRecord(state.files[RECORD]!.content, RECORD);
  state.files[RECORD] = recordFile({ ...record, spec: { ...record.spec, images: { quay: 'localhost/t/quay:1', postgres: 'localhost/t/postgres:15', redis: 'localhost/t/redis:7' } } });
  const ca = createCa({ commonName: 'mreg root CA', now: NOW });
  const leaf = issueServerCert({ ca, hostname: 'registry.example.com', now: NOW });
  state.files[`${ROOT}/quay-rootCA/rootCA.pem`] = { content: ca.certPem, mode: 0o644 };
  state.files[`${ROOT}/quay-rootCA/rootCA.key`] = { content: ca.keyPem, mode: 0o600 };
  state.files[`${ROOT}/quay-config/ssl.cert`] = { content: leaf.certPem, mode: 0o640 };
  state.files[`${ROOT}/quay-config/ssl.key`] = { content: leaf.keyPem, mode: 0o640 };
  return createFakeHost({ probe, state });
}

const commands: [string, (c: CommandContext) => Promise<void>, Record<string, unknown>][] = [
  ['mreg up', c => up(c), {}],
  ['mreg upgrade', c => upgrade(c), { quayImage: 'localhost/t/quay:2' }],
  ['mreg down', c => down(c), {}],
  ['mreg down --purge --yes', c => down(c), { purge: true, yes: true }],
  ['mreg cert rotate', c => cert({ ...c, args: ['rotate'] }), {}],
];

for (const [name, run, flags] of commands) {
  t.test(`${name}: a record written between its read and its lock: refused, nothing changed`, async t => {
    const host = installed();
    writeRecordBeforeLock(host, RECORD, '2026-12-05T23:59:00.000Z');
    const c = fakeContext(host, flags);
    const err = await run(c.ctx).then(() => undefined, (e: unknown) => e);
    t.type(err, HostError);
    t.match((err as Error).message, CHANGED);
    t.match((err as HostError).hint, new RegExp(`^run ${name.split(' -')[0]} again`));
    t.same(host.calls.filter(l => !/^(probe|identify)/.test(l)), [], 'no change made');
    t.match(host.state.files[RECORD]!.content, /2026-12-05T23:59:00/, 'the other mreg\'s record is kept');
    t.notOk(host.isLocked(), 'lock released');
  });
}

t.test('lockAsRead: the same record keeps the lock; a new one where none was read is refused too', async t => {
  const host = installed();
  const read = parseRecord(host.state.files[RECORD]!.content, RECORD);
  const release = await lockAsRead(host, probe, { quayRoot: ROOT, record: read }, 'mreg up');
  t.ok(host.isLocked(), 'held');
  await release();
  t.notOk(host.isLocked());

  // Two first installs side by side: the second read no record, the first made one meanwhile.
  const err = await lockAsRead(host, probe, { quayRoot: '/srv/other', record: undefined }, 'mreg up').then(() => undefined, (e: unknown) => e);
  t.match(err, { message: new RegExp(`^a ${probe.scope} install was made while this mreg was reading it`), hint: /^run mreg up again/ });
  t.notOk(host.isLocked(), 'released');

  const gone = createFakeHost({ probe, state: { ...runningInstall(), files: {} } });
  const none = await lockAsRead(gone, probe, { quayRoot: ROOT, record: undefined }, 'mreg up');
  await none();
  const vanished = await lockAsRead(gone, probe, { quayRoot: ROOT, record: read }, 'mreg upgrade').then(() => undefined, (e: unknown) => e);
  t.match(vanished, { message: CHANGED }, 'a record that went away is a change too');
});
