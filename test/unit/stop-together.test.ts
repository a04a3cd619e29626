// adopt stops mirror-registry's four units with all stop jobs queued at once (systemd orders them by
// After=), instead of one D-Bus job after another inside the downtime (issue 15).
import t from 'tap';
import { stopTogether } from '../../src/apply/stop-together.js';
import { STOP_ORDER } from '../../src/model/views.js';
import type { JobResult } from '../../src/host/systemd.js';

function fakeSystemd(results: Record<string, JobResult> = {}) {
  const calls: string[] = [];
  const pending: Array<() => void> = [];
  return {
    calls,
    finishAll: () => { for (const f of pending.splice(0)) f(); },
    systemd: {
      stopUnit: (u: string) => new Promise<JobResult>(resolve => { calls.push(`stop ${u}`); pending.push(() => { calls.push(`done ${u}`); resolve(results[u] ?? 'done'); }); }),
      resetFailed: async (u: string) => { calls.push(`reset ${u}`); },
    },
  };
}

t.test('every stop job is queued before any finishes, in stop order', async t => {
  const f = fakeSystemd();
  const run = stopTogether(f.systemd, STOP_ORDER);
  await new Promise(r => setImmediate(r));
  t.same(f.calls, STOP_ORDER.map(u => `stop ${u}`), 'four jobs in flight at once, quay-app first');
  f.finishAll();
  t.same(await run, [], 'all stopped');
  t.same(f.calls.filter(c => c.startsWith('reset')), STOP_ORDER.map(u => `reset ${u}`), 'each unit\'s failed state reset');
  t.ok(f.calls.findIndex(c => c.startsWith('reset')) > f.calls.lastIndexOf(`done ${STOP_ORDER.at(-1)}`), 'resets after every job ended');
});

t.test('a job that ends other than done or skipped is named with its result', async t => {
  const f = fakeSystemd({ 'quay-postgres.service': 'timeout', 'quay-redis.service': 'skipped' });
  const run = stopTogether(f.systemd, STOP_ORDER);
  await new Promise(r => setImmediate(r));
  f.finishAll();
  t.same(await run, [{ unit: 'quay-postgres.service', result: 'timeout' }]);
});
