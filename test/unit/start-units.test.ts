// up's start jobs (plan/start.ts, run by actions/execute.ts) over a fake systemd in which the containers are
// bound to the pod (BindsTo=, as Quadlet's Pod= and mreg's podman 4 layout make them): what up restarts for a change.
import t from 'tap';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionPorts } from '../../src/actions/ports.js';
import { executeActions } from '../../src/actions/execute.js';
import { isOutdated, outdatedFiles, quadletFilesDiffer } from '../../src/apply/units-step.js';
import { planStart } from '../../src/plan/start.js';
import type { Plan } from '../../src/plan/plan.js';
import type { Systemd, UnitState } from '../../src/host/systemd.js';

const POD = 'quay-pod.service';
const CONTAINERS = ['quay-postgres.service', 'quay-redis.service', 'quay-app.service'];

function fakeSystemd(active: string[]) {
  const on = new Set(active);
  const calls: string[] = [];
  const state = (name: string): UnitState => ({ name, loadState: 'loaded', activeState: on.has(name) ? 'active' : 'inactive', subState: '', mainPid: 0, nRestarts: 0, result: 'success', fragmentPath: '', sourcePath: '', needDaemonReload: false });
  const sd: Systemd = {
    scope: 'rootful',
    reload: async () => {},
    startUnit: async n => { calls.push(`start ${n}`); on.add(n); on.add(POD); return 'done'; },
    stopUnit: async n => { calls.push(`stop ${n}`); on.delete(n); return 'done'; },
    // the pod's restart stops what is bound to it; containers come back only when started
    restartUnit: async n => { calls.push(`restart ${n}`); if (n === POD) for (const c of CONTAINERS) on.delete(c); on.add(n); return 'done'; },
    resetFailed: async () => {},
    unitState: async n => state(n),
    unitExits: async n => state(n),
    stopPostsSucceeded: async () => false,
    close: async () => {},
  };
  return { sd, calls };
}

const planned = { services: CONTAINERS, volumes: [] } as unknown as Plan;
const out = { info: () => {}, debug: () => {}, step: (_: string, fn: () => Promise<unknown>) => fn() } as never;
const all = new Set([POD, ...CONTAINERS]);

/** What up does after its reload: the jobs planned from the units' states before it, run by the executor. */
async function startAfterReload(sd: Systemd, p: Plan, changed: string[], hold?: string): Promise<void> {
  const before = new Map(await Promise.all([POD, ...p.services].map(async u => [u, await sd.unitState(u)] as const)));
  const ports = { systemd: sd, journalTail: async () => [] } as unknown as ActionPorts;
  await executeActions(planStart({ before, services: p.services, volumes: p.volumes, changed, hold }), ports, { out });
}

t.test('a changed pod file restarts the pod, then starts the containers it stopped, once each', async t => {
  const { sd, calls } = fakeSystemd([...all]);
  await startAfterReload(sd, planned, ['/etc/containers/systemd/quay.pod', '/etc/quay-install/quay-config/config.yaml']);
  t.same(calls, [`restart ${POD}`, ...CONTAINERS.map(c => `start ${c}`)]);
});

t.test('the move to podman 5 (plain quay-pod.service removed, quay.pod written) restarts the pod', async t => {
  const { sd, calls } = fakeSystemd([...all]);
  await startAfterReload(sd, planned, ['/etc/containers/systemd/quay.pod', '/etc/systemd/system/quay-pod.service']);
  t.equal(calls[0], `restart ${POD}`);
});

t.test('only a container file changed: that container restarts, the pod is left alone', async t => {
  const { sd, calls } = fakeSystemd([...all]);
  await startAfterReload(sd, planned, ['/etc/quay-install/quay-config/config.yaml']);
  t.same(calls, ['restart quay-app.service']);
});

t.test('a pod that was not running is started with the containers, not restarted', async t => {
  const { sd, calls } = fakeSystemd([]);
  await startAfterReload(sd, planned, ['/etc/containers/systemd/quay.pod']);
  t.notOk(calls.includes(`restart ${POD}`));
  t.same(calls, CONTAINERS.map(c => `start ${c}`));
});

// A fake in which each job takes a while and records how many were in flight at once, and postgres may fail
// (then quay-app's job ends "dependency", as systemd ends a job whose Requires= failed).
function slowSystemd(pgResult: 'done' | 'failed') {
  const { sd, calls } = fakeSystemd([]);
  let inFlight = 0;
  let most = 0;
  sd.startUnit = async n => {
    calls.push(`start ${n}`);
    inFlight += 1; most = Math.max(most, inFlight);
    await new Promise(r => setTimeout(r, 20));
    inFlight -= 1;
    if (n === 'quay-postgres.service') return pgResult;
    return n === 'quay-app.service' && pgResult !== 'done' ? 'dependency' : 'done';
  };
  return { sd, calls, most: () => most };
}

t.test('a fresh start asks for every container at once: systemd orders them by After=, mreg does not wait in between', async t => {
  const { sd, calls, most } = slowSystemd('done');
  await startAfterReload(sd, planned, []);
  t.same(calls, CONTAINERS.map(c => `start ${c}`), 'enqueued in start order');
  t.equal(most(), 3, 'all three jobs were in flight together');
});

t.test('a failed start is reported for the unit that failed, not for quay-app that depended on it', async t => {
  const { sd } = slowSystemd('failed');
  await t.rejects(startAfterReload(sd, planned, []), { name: 'UnitFailedError', message: /quay-postgres\.service/ });
});

// systemd's transactions as the VM showed them (2026-12-06, systemd 257): a container's start pulls in an
// inactive pod (BindsTo=), and with it the pod's Wants=, quay-app too; an active pod's job is dropped, its
// Wants= with it; "ignore-requirements" starts the pod alone.
function podWantsAll() {
  const { sd, calls } = fakeSystemd([]);
  const on = new Set<string>();
  sd.unitState = async n => ({ name: n, loadState: 'loaded', activeState: on.has(n) ? 'active' : 'inactive' }) as UnitState;
  sd.startUnit = async (n, o) => {
    calls.push(`start ${n}${o?.mode && o.mode !== 'replace' ? ` (${o.mode})` : ''}`);
    if (o?.mode !== 'ignore-requirements' && n !== POD && !on.has(POD)) for (const u of [POD, ...CONTAINERS]) on.add(u);
    on.add(n);
    return 'done';
  };
  return { sd, calls, on };
}

// quay-app's blob volume is made by its Requires= on quay-storage-volume.service (seen missing in the VM
// when only the containers' own requirements started: the chain restore into a volume failed).
const withVolumes = { ...planned, volumes: ['quay-storage', 'quay-pg-storage'] } as Plan;
const VOLUME_JOBS = ['start quay-storage-volume.service', 'start quay-pg-storage-volume.service'];

t.test('hold (restore): the pod starts alone (beside the volumes), then postgres and redis; quay-app never starts', async t => {
  const { sd, calls, on } = podWantsAll();
  await startAfterReload(sd, withVolumes, [], 'quay-app.service');
  t.same(calls, [`start ${POD} (ignore-requirements)`, ...VOLUME_JOBS, 'start quay-postgres.service', 'start quay-redis.service']);
  t.notOk(on.has('quay-app.service'), 'quay-app is not running');
});

t.test('hold with the pod already running (a resumed restore): no start of the pod', async t => {
  const { sd, calls, on } = podWantsAll();
  on.add(POD);
  await startAfterReload(sd, withVolumes, [], 'quay-app.service');
  t.same(calls, [...VOLUME_JOBS, 'start quay-postgres.service', 'start quay-redis.service']);
  t.notOk(on.has('quay-app.service'));
});

t.test('without hold the same fresh start runs quay-app (what restore did before 2026-12-06)', async t => {
  const { sd, on } = podWantsAll();
  await startAfterReload(sd, planned, []);
  t.ok(on.has('quay-app.service'));
});

t.test('isOutdated: a file written after its service became active', async t => {
  const st = (activeState: string, activeEnterTimestamp?: number) => ({ activeState, activeEnterTimestamp }) as never;
  t.ok(isOutdated(2000, st('active', 1000)), 'newer than the running service');
  t.notOk(isOutdated(500, st('active', 1000)), 'older: the service runs it');
  t.notOk(isOutdated(2000, st('inactive', 1000)), 'a stopped service starts on the new file anyway');
  t.notOk(isOutdated(undefined, st('active', 1000)), 'no such file');
  t.notOk(isOutdated(2000, st('active')), 'no timestamp: nothing to compare');
});

t.test('outdatedFiles: an interrupted up wrote the pod file and config.yaml but restarted nothing', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-outdated-'));
  const pod = join(dir, 'quay.pod'); const redis = join(dir, 'quay-redis.container');
  const config = join(dir, 'quay-config', 'config.yaml');
  mkdirSync(join(dir, 'quay-config'));
  for (const f of [pod, redis, config]) writeFileSync(f, 'x');
  const since = Date.now() - 60_000;
  utimesSync(redis, new Date(since - 60_000), new Date(since - 60_000)); // written before the services started
  t.same(await outdatedFiles(activeSince(since), [pod, redis, config, join(dir, 'missing.container')]), [pod, config]);
});

t.test('outdatedFiles: a rewritten .volume file does not count (up never restarts a volume\'s unit)', async t => {
  // The move from podman 4.9 to 5 rewrites quay-storage.volume while quay-storage-volume.service stays
  // active: counted, every later up would reload and report a change (seen in podman49.test.ts).
  const dir = mkdtempSync(join(tmpdir(), 'mreg-outdated-'));
  const volume = join(dir, 'quay-storage.volume');
  writeFileSync(volume, 'x');
  t.same(await outdatedFiles(activeSince(Date.now() - 60_000), [volume]), []);
});

/** The pod and the containers, all active since `since`, as up reads them before the reload. */
function activeSince(since: number): Map<string, UnitState> {
  return new Map([POD, ...CONTAINERS].map(n => [n, { name: n, activeState: 'active', activeEnterTimestamp: since } as UnitState]));
}

t.test('quadletFilesDiffer: only a missing or different Quadlet file makes up run the generator\'s check', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-quadlets-'));
  const app = join(dir, 'quay-app.container');
  const config = join(dir, 'config.yaml');
  writeFileSync(app, 'A');
  const plan = (appContent: string, configContent: string, more: Array<{ path: string; content: string; kind: string }> = []) =>
    ({ files: [{ path: app, content: appContent, kind: 'quadlet' }, { path: config, content: configContent, kind: 'config' }, ...more] }) as unknown as Plan;
  t.equal(await quadletFilesDiffer(plan('A', 'changed config')), false, 'a config-only change needs no generator run');
  t.equal(await quadletFilesDiffer(plan('B', '')), true, 'a changed Quadlet file');
  t.equal(await quadletFilesDiffer(plan('A', '', [{ path: join(dir, 'quay.pod'), content: 'P', kind: 'quadlet' }])), true, 'a Quadlet file not on disk yet');
});
