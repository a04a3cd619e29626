// The executor's stop step over ports whose stop jobs end only when the test says so: every stop job is
// in flight at once (systemd orders them, as `systemctl stop a b c`), and a failure is reported for the
// first unit in plan order, after every job of the step has ended.
import t from 'tap';
import { action } from '../../src/actions/action.js';
import { executeActions } from '../../src/actions/execute.js';
import type { ActionPorts } from '../../src/actions/ports.js';
import type { JobResult } from '../../src/host/systemd.js';
import { UnitFailedError } from '../../src/errors.js';

const UNITS = ['quay-app.service', 'quay-redis.service', 'quay-postgres.service', 'quay-pod.service'];
const out = { step: async (_: string, fn: () => Promise<void>) => fn(), warn: () => {} } as never;

function slowPorts() {
  const pending = new Map<string, (r: JobResult) => void>();
  const released = new Map<string, JobResult>();
  const calls: string[] = [];
  let inFlight = 0;
  let most = 0;
  const ports = {
    systemd: {
      stopUnit: (u: string) => new Promise<JobResult>(resolve => {
        calls.push(`stop ${u}`); inFlight++; most = Math.max(most, inFlight);
        const end = (r: JobResult) => { inFlight--; resolve(r); };
        const r = released.get(u);
        if (r) end(r); else pending.set(u, end);
      }),
      resetFailed: async (u: string) => { calls.push(`reset ${u}`); },
      reload: async () => { calls.push('reload'); },
      stopPostsSucceeded: async () => false,
    },
    podman: { containersRemove: async (n: string[]) => { calls.push(`rm ${n.join(',')}`); } },
    journalTail: async (u: string) => [`${u}: journal`],
  } as unknown as ActionPorts;
  /** Lets the asked-for jobs settle in the order given (a job asked for later ends at once). */
  const finish = async (results: Array<[string, JobResult]>) => {
    for (let i = 0; i < 20; i++) await new Promise(r => setImmediate(r));
    for (const [u, r] of results) {
      released.set(u, r);
      pending.get(u)?.(r);
      pending.delete(u);
      await new Promise(r => setImmediate(r));
    }
  };
  return { ports, calls, most: () => most, finish };
}

const plan = [...UNITS.map(unit => action({ kind: 'stop-unit', unit }, 'stop units')),
  action({ kind: 'daemon-reload' }, 'remove units'), action({ kind: 'remove-container', name: 'quay-app', unit: 'quay-app.service' }, 'remove units')];

t.test('all stop jobs are in flight together; the next step waits for every one', async t => {
  const { ports, calls, most, finish } = slowPorts();
  const run = executeActions(plan, ports, { out });
  await finish(UNITS.map(u => [u, 'done']));
  await run;
  t.equal(most(), UNITS.length, 'four stop jobs at once (one at a time before)');
  t.same(calls.slice(-2), ['reload', 'rm quay-app'], 'the removals run after the stop step');
  t.same(calls.filter(c => c.startsWith('reset ')).length, UNITS.length, 'each stopped unit is reset');
});

t.test('a failure names the first unit in plan order, even when a later one fails first', async t => {
  const { ports, calls, finish } = slowPorts();
  const run = executeActions(plan, ports, { out }).catch((e: unknown) => e);
  await finish([['quay-pod.service', 'timeout'], ['quay-postgres.service', 'done'], ['quay-app.service', 'done'], ['quay-redis.service', 'failed']]);
  const err = await run;
  t.ok(err instanceof UnitFailedError);
  t.match(err, { unit: 'quay-redis.service', result: 'failed', journalTail: ['quay-redis.service: journal'] });
  t.notOk(calls.includes('reload'), 'nothing after the stop step ran');
});

t.test('leftover containers are removed in one call, then the pod', async t => {
  const calls: string[] = [];
  const ports = {
    podman: {
      containersRemove: async (n: string[]) => { calls.push(`rm ${n.join(',')}`); },
      podRemove: async (n: string) => { calls.push(`pod rm ${n}`); },
    },
  } as unknown as ActionPorts;
  await executeActions([...['quay-app', 'quay-redis', 'quay-postgres'].map(name => action({ kind: 'remove-container', name, unit: `${name}.service` }, 'remove units')),
    action({ kind: 'remove-pod', name: 'quay-pod', unit: 'quay-pod.service' }, 'remove units')], ports, { out });
  t.same(calls, ['rm quay-app,quay-redis,quay-postgres', 'pod rm quay-pod'], 'one podman process for three containers (three before)');
});

// Issue 19: down's reload and its removal of leftovers (two podman processes) ran one after the other.
t.test('the reload and the removal of leftovers run side by side; the containers still before the pod', async t => {
  const calls: string[] = [];
  let endReload!: () => void;
  const ports = {
    systemd: { reload: () => new Promise<void>(resolve => { calls.push('reload asked'); endReload = () => { calls.push('reload done'); resolve(); }; }) },
    podman: {
      containersRemove: async (n: string[]) => { calls.push(`rm ${n.join(',')}`); },
      podRemove: async (n: string) => { calls.push(`pod rm ${n}`); },
    },
  } as unknown as ActionPorts;
  const run = executeActions([action({ kind: 'daemon-reload' }, 'remove units'), ...['quay-app', 'quay-redis'].map(name => action({ kind: 'remove-container', name, unit: `${name}.service` }, 'remove units')),
    action({ kind: 'remove-pod', name: 'quay-pod', unit: 'quay-pod.service' }, 'remove units'), action({ kind: 'keep', what: 'x' }, 'remove units')], ports, { out });
  for (let i = 0; i < 20; i++) await new Promise(r => setImmediate(r));
  t.same(calls, ['reload asked', 'rm quay-app,quay-redis', 'pod rm quay-pod'], 'the removals ran while the reload was still going');
  endReload();
  await run;
  t.same(calls.at(-1), 'reload done');
});

t.test('a failed reload is still the error, after the removals beside it ended', async t => {
  const calls: string[] = [];
  const ports = {
    systemd: { reload: async () => { throw new Error('reload failed'); } },
    podman: { containersRemove: async (n: string[]) => { calls.push(`rm ${n.join(',')}`); }, podRemove: async () => { calls.push('pod rm'); } },
  } as unknown as ActionPorts;
  await t.rejects(executeActions([action({ kind: 'daemon-reload' }, 'p'), action({ kind: 'remove-container', name: 'quay-app', unit: 'quay-app.service' }, 'p'), action({ kind: 'remove-pod', name: 'quay-pod', unit: 'quay-pod.service' }, 'p')], ports, { out }), /reload failed/);
  t.same(calls, ['rm quay-app', 'pod rm']);
});

// Issue 19: down removed the containers and the pod with two podman processes (a second each under
// emulation) even when the units' own stop commands had just removed them.
t.test('a container or pod its unit\'s stop removed in this run needs no podman process; others are removed', async t => {
  const calls: string[] = [];
  const asked: Array<[string, number]> = [];
  const cleanly = new Set(['quay-app.service', 'quay-pod.service']);
  const ports = {
    systemd: {
      stopUnit: async (u: string) => { calls.push(`stop ${u}`); return 'done'; },
      resetFailed: async () => undefined,
      reload: async () => { calls.push('reload'); },
      stopPostsSucceeded: async (u: string, since: number) => { asked.push([u, since]); return cleanly.has(u); },
    },
    podman: {
      containersRemove: async (n: string[]) => { calls.push(`rm ${n.join(',')}`); },
      podRemove: async (n: string) => { calls.push(`pod rm ${n}`); },
    },
  } as unknown as ActionPorts;
  const before = Date.now();
  await executeActions([...[...UNITS, 'quay-storage-volume.service'].map(unit => action({ kind: 'stop-unit', unit }, 'stop units')),
    action({ kind: 'daemon-reload' }, 'remove units'),
    ...['quay-app', 'quay-redis', 'quay-postgres'].map(name => action({ kind: 'remove-container', name, unit: `${name}.service` }, 'remove units')),
    action({ kind: 'remove-pod', name: 'quay-pod', unit: 'quay-pod.service' }, 'remove units')], ports, { out });
  t.same(calls.filter(c => !c.startsWith('stop ')), ['reload', 'rm quay-redis,quay-postgres'], 'only the containers whose stop did not remove them; no pod rm');
  t.same(asked.map(a => a[0]).sort(), [...UNITS].sort(), 'only units a removal names are asked about (not the volume unit)');
  t.ok(asked.every(([, since]) => since >= before && since <= Date.now()), 'asked since the run began');
  calls.length = 0;
  await executeActions([action({ kind: 'remove-container', name: 'quay-app', unit: 'quay-app.service' }, 'p'), action({ kind: 'remove-pod', name: 'quay-pod', unit: 'quay-pod.service' }, 'p')], ports, { out });
  t.same(calls, ['rm quay-app', 'pod rm quay-pod'], 'without a stop in the same run, a removal always runs');
});
