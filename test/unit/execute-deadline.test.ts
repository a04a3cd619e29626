// The executor on a deadline (upgrade's --timeout, issue 14): each job and the health wait get what is left
// of the run's time; a job that times out is its unit's failure with its journal, told after the jobs beside
// it ended; `done` hears each action as it ends, the step log upgrade's --json reports.
import t from 'tap';
import { action } from '../../src/actions/action.js';
import { executeActions } from '../../src/actions/execute.js';
import type { ActionPorts } from '../../src/actions/ports.js';
import { CrashLoopError } from '../../src/host/http.js';
import { HostError, UnitFailedError } from '../../src/errors.js';
import { planRestart } from '../../src/plan/upgrade-steps.js';

const out = { step: async (_: string, fn: () => Promise<void>) => fn(), info: () => {}, warn: () => {} } as never;
const EP = { hostname: 'registry.example.com', port: 8443 };

function ports(jobs: Record<string, () => Promise<string>> = {}) {
  const calls: string[] = [];
  const timeouts: Record<string, number> = {};
  const job = (verb: string) => (u: string, o: { timeoutMs: number }) => {
    calls.push(`${verb} ${u}`);
    timeouts[u] = o.timeoutMs;
    return (jobs[u] ?? (async () => 'done'))();
  };
  const p = {
    systemd: {
      unitState: async () => ({ loadState: 'loaded', activeState: 'active' }),
      resetFailed: async (u: string) => { calls.push(`reset ${u}`); },
      restartUnit: job('restart'),
      startUnit: job('start'),
    },
    journalTail: async (u: string) => [`${u}: the last line`],
  } as unknown as ActionPorts;
  return { ports: p, calls, timeouts };
}

t.test('planRestart: the roots restarted and quay-app started in one batch, then the health wait', async t => {
  t.same(planRestart(['quay-redis.service'], EP, 'p').map(a => a.id),
    ['start-unit:quay-redis.service', 'start-unit:quay-app.service', 'wait-health:https://registry.example.com:8443/health/instance']);
  t.same(planRestart(['quay-app.service'], EP, 'p').map(a => a.kind === 'start-unit' && a.restart), [true, false], 'quay-app a root: restarted, not started again');
  t.same(planRestart([], EP, 'p').map(a => a.id), ['start-unit:quay-app.service', 'wait-health:https://registry.example.com:8443/health/instance']);
});

t.test('each job and the health wait get only what is left of the deadline; done hears each action as it ends', async t => {
  const { ports: p, calls, timeouts } = ports();
  let waited = -1;
  const done: string[] = [];
  const deadline = Date.now() + 90_000;
  await executeActions(planRestart(['quay-redis.service'], EP, 'restart'), { files: {} as never, connect: async () => p, health: async ms => { waited = ms ?? -1; calls.push('health'); } },
    { out, deadline, done: a => done.push(a.id) });
  t.same(calls, ['restart quay-redis.service', 'start quay-app.service', 'health']);
  t.ok(timeouts['quay-redis.service']! <= 90_000 && timeouts['quay-redis.service']! > 80_000, 'the restart job gets the time left, not 15 minutes');
  t.ok(waited <= 90_000 && waited > 80_000, 'the health wait too');
  t.same(done, ['start-unit:quay-redis.service', 'start-unit:quay-app.service', 'wait-health:https://registry.example.com:8443/health/instance']);
});

t.test('a job that times out fails its unit, with its journal, after the job beside it ended; the health wait never runs', async t => {
  let appEnded = false;
  const { ports: p } = ports({
    'quay-redis.service': async () => { throw new HostError('restart of quay-redis.service did not finish within 90 s'); },
    'quay-app.service': async () => { await new Promise(r => setTimeout(r, 20)); appEnded = true; return 'done'; },
  });
  let health = false;
  const err = await executeActions(planRestart(['quay-redis.service'], EP, 'restart'), { files: {} as never, connect: async () => p, health: async () => { health = true; } },
    { out, deadline: Date.now() + 90_000 }).then(() => undefined, (e: unknown) => e);
  t.type(err, UnitFailedError);
  const u = err as UnitFailedError;
  t.equal(u.unit, 'quay-redis.service');
  t.match(u.message, /^quay-redis\.service: not ready within (90|89) s \(restart of quay-redis\.service did not finish within 90 s\)$/);
  t.same(u.journalTail, ['quay-redis.service: the last line']);
  t.ok(appEnded, 'quay-app\'s job ended first');
  t.notOk(health, 'nothing after the failed batch runs');
});

t.test('a deadline already past: no job is asked for; the first unit fails with why', async t => {
  const { ports: p, calls } = ports();
  const err = await executeActions(planRestart(['quay-app.service'], EP, 'restart'), { files: {} as never, connect: async () => p, health: async () => undefined },
    { out, deadline: Date.now() - 1 }).then(() => undefined, (e: unknown) => e);
  t.type(err, UnitFailedError);
  t.equal((err as UnitFailedError).message, 'quay-app.service: the time ran out before its job was asked for');
  t.same(calls, [], 'no job');
});

t.test('the health wait\'s failure is the run\'s, as it came: a crash loop keeps its unit', async t => {
  const { ports: p } = ports();
  const loop = new CrashLoopError('quay-app.service', 'exited 5 times');
  const err = await executeActions(planRestart(['quay-app.service'], EP, 'restart'), { files: {} as never, connect: async () => p, health: async () => { throw loop; } },
    { out, deadline: Date.now() + 60_000 }).then(() => undefined, (e: unknown) => e);
  t.equal(err, loop);
  const none = await executeActions([action({ kind: 'wait-health', url: 'https://h/health/instance' })], { files: {} as never, connect: async () => p }, { out })
    .then(() => undefined, (e: unknown) => e);
  t.match((none as Error).message, /^internal: a health wait, run without a health port/, 'a health wait needs the port');
});

t.test('a failed unit is cleared before its restart (a crash-looped quay-app would refuse it: start-limit-hit)', async t => {
  const { ports: p, calls } = ports();
  (p.systemd as { unitState: unknown }).unitState = async (u: string) => ({ loadState: 'loaded', activeState: u === 'quay-app.service' ? 'failed' : 'active' });
  await executeActions(planRestart(['quay-app.service'], EP, 'restart'), { files: {} as never, connect: async () => p, health: async () => undefined }, { out });
  t.same(calls, ['reset quay-app.service', 'restart quay-app.service']);
});

t.test('without a deadline, a job the port rejected is the run\'s error as it came (up\'s), after the job beside it ended', async t => {
  let appEnded = false;
  const cause = new HostError('the D-Bus connection closed');
  const { ports: p } = ports({
    'quay-redis.service': async () => { throw cause; },
    'quay-app.service': async () => { await new Promise(r => setTimeout(r, 20)); appEnded = true; return 'done'; },
  });
  const err = await executeActions(planRestart(['quay-redis.service'], EP, 'restart'), { files: {} as never, connect: async () => p, health: async () => undefined }, { out })
    .then(() => undefined, (e: unknown) => e);
  t.equal(err, cause);
  t.ok(appEnded);
});
