// adopt's stop of mirror-registry: quay-app stops first, so a unit after it that does not stop would leave
// the registry down while the error said "nothing was changed"; the units already stopped start again.
import t from 'tap';
import { stopLegacy } from '../../src/adopt/switch.js';
import { UnitFailedError } from '../../src/errors.js';

function ports(failing: string, startResult = 'done') {
  const calls: string[] = [];
  const systemd = {
    stopUnit: async (u: string) => { calls.push(`stop ${u}`); return u === failing ? 'failed' : 'done'; },
    startUnit: async (u: string) => { calls.push(`start ${u}`); return startResult; },
    resetFailed: async () => undefined,
  };
  const podman = { containersRemove: async () => undefined, podRemove: async () => undefined };
  return { calls, ports: { systemd, podman, journalTail: async () => ['a line'] } as never };
}

t.test('redis does not stop: quay-app starts again, and the error says mirror-registry runs as before', async t => {
  const { calls, ports: p } = ports('quay-redis.service');
  const err = await stopLegacy(p).then(() => undefined, (e: unknown) => e);
  t.type(err, UnitFailedError);
  t.same(calls, ['stop quay-app.service', 'stop quay-redis.service', 'start quay-app.service']);
  t.equal((err as UnitFailedError).hint, 'mirror-registry (quay-app.service started again) runs as before and nothing else was changed; stop quay-redis.service by hand and run mreg adopt again');
});

t.test('one that does not start again is named, never "nothing was changed"', async t => {
  const { ports: p } = ports('quay-postgres.service', 'failed');
  const err = await stopLegacy(p).then(() => undefined, (e: unknown) => e);
  t.match((err as UnitFailedError).hint, /^quay-redis\.service, quay-app\.service did not start again: start them/);
  t.notMatch((err as UnitFailedError).hint, /nothing was changed/);
});
