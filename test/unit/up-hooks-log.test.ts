// up's hooks.log (issue 14): a command that runs up inside its own run (restore, storage migrate) hands
// up its step log, and up continues it, so up's report lists the caller's steps, then up's.
import t from 'tap';
import { up } from '../../src/commands/up.js';
import { HostError } from '../../src/errors.js';
import { parseRecord } from '../../src/install-spec/record.js';
import { stepLog } from '../../src/ui/step-log.js';
import { createFakeHost, fakeContext, recordFile } from '../support/fake-host.js';
import { probe, ROOT, runningInstall } from '../support/running-install.js';

const RECORD = `${ROOT}/mreg-install.json`;

t.test('up continues the log it is given: its first step lands after the caller\'s', async t => {
  const state = runningInstall();
  const record = parseRecord(state.files[RECORD]!.content, RECORD);
  state.files[RECORD] = recordFile({ ...record, spec: { ...record.spec, images: { quay: 'localhost/t/quay:1', postgres: 'localhost/t/postgres:15', redis: 'localhost/t/redis:7' } } });
  const host = createFakeHost({ probe, state });
  const c = fakeContext(host, { quayHostname: 'other.example.com:8443' });
  const log = stepLog(c.ctx.out);
  log.did('caller-step');
  // A new hostname is a change, up's first step; its host checks then reach past what the fake host fakes.
  const err = await up(c.ctx, { log }).then(() => undefined, (e: unknown) => e);
  t.type(err, HostError, 'up stops at the host checks (the fake host resolves no name)');
  t.match(log.ran, ['caller-step', /^change:--quayHostname: registry\.example\.com:8443 → other\.example\.com:8443 /]);
  t.equal(log.ran.length, 2);
});
