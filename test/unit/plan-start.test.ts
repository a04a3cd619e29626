// plan/start.ts: the start and restart jobs up plans from the units' states before its reload, and how the
// executor runs them (every unit checked loaded first, failed ones reset, the jobs at once, the barriers).
import t from 'tap';
import { describeAction, type Action } from '../../src/actions/action.js';
import { executeActions } from '../../src/actions/execute.js';
import type { ActionPorts } from '../../src/actions/ports.js';
import { HostError, UnitFailedError } from '../../src/errors.js';
import { planStart, START_PROGRESS } from '../../src/plan/start.js';

const POD = 'quay-pod.service';
const SERVICES = ['quay-postgres.service', 'quay-redis.service', 'quay-app.service'];
const VOLUMES = ['quay-storage', 'pg-storage'];
const QD = '/etc/containers/systemd';
const states = (active: readonly string[]) => new Map([POD, ...SERVICES].map(u => [u, { activeState: active.includes(u) ? 'active' : 'inactive' }]));
const lines = (actions: readonly Action[]) => actions.map(a => `${a.progress ?? '-'}: ${describeAction(a)}`);

t.test('a new install: a start job per container, in start order, one step', async t => {
  t.same(lines(planStart({ before: new Map(), services: SERVICES, volumes: VOLUMES, changed: [`${QD}/quay.pod`] })),
    SERVICES.map(s => `${START_PROGRESS}: start ${s}`));
});

t.test('running, config.yaml changed: quay-app alone restarts; nothing changed: no job', async t => {
  const before = states([POD, ...SERVICES]);
  t.same(lines(planStart({ before, services: SERVICES, volumes: VOLUMES, changed: ['/etc/quay-install/quay-config/config.yaml'] })),
    [`${START_PROGRESS}: restart quay-app.service (a file it runs changed)`]);
  t.same(planStart({ before, services: SERVICES, volumes: VOLUMES, changed: [] }), []);
});

t.test('a changed pod that runs: its restart alone first, then a start job for every container it stopped', async t => {
  const actions = planStart({ before: states([POD, ...SERVICES]), services: SERVICES, volumes: VOLUMES, changed: [`${QD}/quay.pod`, `${QD}/quay-app.container`] });
  t.same(actions.map(a => a.id), [`restart-unit:${POD}`, ...SERVICES.map(s => `start-unit:${s}`)]);
  t.notOk(actions.some(a => a.kind === 'start-unit' && a.restart), 'no container restart: the pod\'s stopped them');
});

t.test('hold (restore): the pod alone and the volumes under their own progress, so the container jobs wait for them', async t => {
  const actions = planStart({ before: new Map(), services: SERVICES, volumes: VOLUMES, changed: [], hold: 'quay-app.service' });
  t.same(lines(actions), [
    `start ${POD} and the volumes (without quay-app.service): start ${POD} alone (not what it wants)`,
    `start ${POD} and the volumes (without quay-app.service): start quay-storage-volume.service`,
    `start ${POD} and the volumes (without quay-app.service): start pg-storage-volume.service`,
    `${START_PROGRESS}: start quay-postgres.service`,
    `${START_PROGRESS}: start quay-redis.service`,
  ]);
  t.same(planStart({ before: states([POD, ...SERVICES.slice(0, 2)]), services: SERVICES, volumes: VOLUMES, changed: [], hold: 'quay-app.service' }), [],
    'a resumed restore with postgres and redis running: nothing to start');
});

function ports(loaded: Record<string, string>, results: Record<string, string> = {}) {
  const calls: string[] = [];
  const p = {
    systemd: {
      unitState: async (u: string) => ({ name: u, loadState: loaded[u] === 'not-found' ? 'not-found' : 'loaded', activeState: loaded[u] ?? 'inactive' }),
      resetFailed: async (u: string) => { calls.push(`reset ${u}`); },
      startUnit: async (u: string) => { calls.push(`start ${u}`); return results[u] ?? 'done'; },
      restartUnit: async (u: string) => { calls.push(`restart ${u}`); return results[u] ?? 'done'; },
    },
    journalTail: async (u: string) => [`${u}: journal`],
  } as unknown as ActionPorts;
  return { ports: p, calls };
}
const out = { step: async (_: string, fn: () => Promise<void>) => fn(), info: () => {} } as never;
const fresh = () => planStart({ before: new Map(), services: SERVICES, volumes: VOLUMES, changed: [] });

t.test('the executor: a unit the generator did not make stops the step before any job is asked for', async t => {
  const { ports: p, calls } = ports({ 'quay-redis.service': 'not-found' });
  const err = await executeActions(fresh(), p, { out, notGeneratedHint: 'run quadlet -dryrun' }).catch((e: unknown) => e);
  t.ok(err instanceof HostError, 'HostError');
  t.match(err, { message: 'quay-redis.service was not generated (LoadState=not-found)', hint: 'run quadlet -dryrun' });
  t.same(calls, [], 'no job');
});

t.test('the executor: a failed unit is reset, then every job at once; the first failure in start order is the cause', async t => {
  const { ports: p, calls } = ports({ 'quay-postgres.service': 'failed' }, { 'quay-postgres.service': 'failed', 'quay-app.service': 'dependency' });
  const err = await executeActions(fresh(), p, { out, unitFailedHint: u => `see: systemctl status ${u}` }).catch((e: unknown) => e);
  t.ok(err instanceof UnitFailedError, 'UnitFailedError');
  t.match(err, { unit: 'quay-postgres.service', result: 'failed', hint: 'see: systemctl status quay-postgres.service', journalTail: ['quay-postgres.service: journal'] });
  t.same(calls, ['reset quay-postgres.service', ...SERVICES.map(s => `start ${s}`)]);
});
