// A quay-app that keeps exiting ends the health wait at once, instead of at the 10-minute timeout.
import t from 'tap';
import { createServer } from 'node:net';
import { crashWatch, CRASH_LOOP_EXITS } from '../../src/apply/crash-watch.js';
import { CrashLoopError, waitForHealth } from '../../src/host/http.js';
import type { UnitState } from '../../src/host/systemd.js';

function state(over: Partial<UnitState>): UnitState {
  return { name: 'quay-app.service', loadState: 'loaded', activeState: 'activating', subState: 'start', mainPid: 0, nRestarts: 0,
    result: 'success', fragmentPath: '', sourcePath: '', needDaemonReload: false, ...over };
}

t.test('counts exits from its first look, not since boot', async t => {
  const seq = [5, 5, 6, 7, 8].map(n => state({ nRestarts: n, execMainCode: 1, execMainStatus: 1 }));
  const check = crashWatch(async () => seq.shift()!, 'quay-app.service');
  t.equal(await check(), undefined, 'baseline: 5 restarts before the wait do not count');
  t.equal(await check(), undefined);
  t.equal(await check(), undefined, 'one exit');
  t.equal(await check(), undefined, 'two exits');
  t.match(await check(), /exited 3 times since it was started, last exit status 1; it will not get healthy/);
  t.equal(CRASH_LOOP_EXITS, 3);
});

t.test('the last exit seen is kept: between samples the new process shows none', async t => {
  const seq = [state({ nRestarts: 0 }), state({ nRestarts: 1, activeState: 'activating', execMainCode: 1, execMainStatus: 2 }),
    state({ nRestarts: 2, activeState: 'active', execMainCode: 0, execMainStatus: 0 }), state({ nRestarts: 3, activeState: 'active', execMainCode: 0, execMainStatus: 0 })];
  const check = crashWatch(async () => seq.shift()!, 'quay-app.service');
  for (let i = 0; i < 3; i++) t.equal(await check(), undefined);
  t.match(await check(), /exited 3 times since it was started, last exit status 2;/);
});

t.test('a failed unit (start limit) ends the wait at once', async t => {
  const check = crashWatch(async () => state({ activeState: 'failed', result: 'start-limit-hit', execMainCode: 2, execMainStatus: 9 }), 'quay-app.service');
  t.match(await check(), /failed \(start-limit-hit, last killed by signal 9\) and systemd stopped restarting it/);
});

t.test('waitForHealth stops at the first reason and names the unit and the last answer', async t => {
  const port = await new Promise<number>(resolve => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
  let asked = 0;
  const err = await waitForHealth({ hostname: 'localhost', port }, 60_000, {
    intervalMs: 5, giveUp: { unit: 'quay-app.service', everyMs: 20, check: async () => (++asked >= 2 ? 'it exited 3 times' : undefined) },
  }).catch((e: unknown) => e);
  t.type(err, CrashLoopError);
  t.equal(asked, 2, 'asked until it had a reason');
  t.match((err as CrashLoopError).message, /^quay-app\.service: it exited 3 times \(\/health\/instance: .*ECONNREFUSED/);
  t.match((err as CrashLoopError).reason, /^it exited 3 times \(\/health\/instance: /, 'reason without the unit, for upgrade to name it once');
  t.equal((err as CrashLoopError).hint, 'see why: mreg logs quay-app');
});
