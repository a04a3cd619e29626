// mreg down over an in-memory host: what it plans, runs, prints, where it stops, and that a re-run
// after an interruption at any step finishes the job. No host is touched.
import t from 'tap';
import { describeAction, type Action } from '../../src/actions/action.js';
import type { HostProbe } from '../../src/actions/ports.js';
import { down } from '../../src/commands/down.js';
import { HostError, UnitFailedError } from '../../src/errors.js';
import { planDown } from '../../src/plan/down.js';
import { adoptedTakenDirs } from '../../src/adopt/spec.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { adoptMarkerPath } from '../../src/model/scope.js';
import { parseRecord, type InstallRecord } from '../../src/install-spec/record.js';
import { createFakeHost, fakeContext, recordFile, type FakeHost, type FakeHostState } from '../support/fake-host.js';
import { HOME, ROOT, QD, POINTER, TRUST, NOW, SECRETS, UNITS, probe, runningInstall } from '../support/running-install.js';

async function runDown(host: FakeHost, flags: Record<string, unknown>, json = false) {
  const c = fakeContext(host, flags, { json });
  await down(c.ctx);
  return c;
}

function recordOn(host: FakeHost): InstallRecord | undefined {
  const f = host.state.files[`${ROOT}/mreg-install.json`];
  return f && parseRecord(f.content, 'record');
}

/** The port calls an action makes when it runs (keep makes none). */
function callsOf(a: Action): string[] {
  switch (a.kind) {
    case 'stop-unit': return [`stopUnit ${a.unit}`, `resetFailed ${a.unit}`];
    case 'start-unit': case 'restart-unit': return [`${a.kind === 'start-unit' && !a.restart ? 'startUnit' : 'restartUnit'} ${a.unit}`]; // not down's
    case 'remove-file': return [`remove ${a.path}`];
    case 'daemon-reload': return ['reload'];
    case 'remove-container': return [`containersRemove ${a.name}`];
    case 'remove-pod': return [`podRemove ${a.name}`];
    case 'remove-secret': return [`secretRemove ${a.name}`];
    case 'remove-volume': return [`volumeRemove ${a.name}`];
    case 'disable-linger': return ['disableLinger'];
    case 'give-back-dir': return [`giveBackDir ${a.dir.path}`];
    case 'keep': return [];
    case 'write-record': return [`write ${a.path}`];
    case 'make-dir': case 'write-file': case 'create-secret': case 'copy-into': case 'wait-health': return []; // not down's
  }
}

/**
 * The calls the executor makes for `plan`: consecutive stop jobs are enqueued together (every StopUnit,
 * then each one's ResetFailed), consecutive leftover containers go in one call, everything else one
 * action after the other. A container or pod whose unit was active is removed by that unit's stop (the
 * fake's ExecStopPost), so its removal makes no call.
 */
function expectedCalls(all: readonly Action[], before: FakeHostState): string[] {
  const plan = all.filter(a => !((a.kind === 'remove-container' || a.kind === 'remove-pod') && before.units[a.unit] === 'active'));
  const out: string[] = [];
  for (let i = 0; i < plan.length;) {
    let j = i + 1;
    const kind = plan[i]!.kind;
    if (kind === 'stop-unit' || kind === 'remove-container') while (j < plan.length && plan[j]!.kind === kind) j++;
    if (kind === 'remove-container') {
      out.push(`containersRemove ${plan.slice(i, j).flatMap(a => (a.kind === 'remove-container' ? [a.name] : [])).join(',')}`);
      i = j;
      continue;
    }
    const batch = plan.slice(i, j).map(callsOf);
    for (let step = 0; step < Math.max(...batch.map(c => c.length)); step++) for (const c of batch) if (c[step]) out.push(c[step]!);
    i = j;
  }
  return out;
}

/** Each unit's ResetFailed follows its own stop job: which of the units stopped together is reset first is the jobs' order to decide. */
function resetsSorted(calls: readonly string[]): string[] {
  const out = [...calls];
  for (let i = 0; i < out.length;) {
    let j = i;
    while (j < out.length && out[j]!.startsWith('resetFailed ')) j++;
    if (j > i) out.splice(i, j - i, ...out.slice(i, j).sort());
    i = Math.max(j, i + 1);
  }
  return out;
}

t.test('down on a running install: units stopped and gone, secrets, trusted CA and data kept, record marked', async t => {
  const host = createFakeHost({ probe, state: runningInstall({ linger: true }) });
  const c = await runDown(host, {});
  t.equal(c.stdout(), `mreg: registry removed; data kept: ${ROOT}, podman volume quay-storage, podman volume pg-storage (delete with: mreg down --purge --yes)\n`);
  t.equal(c.stderr(), [
    '==> stop units', '    ok stop units', '==> remove units', '    ok remove units',
    '==> disable linger (mreg enabled it)', '    ok disable linger (mreg enabled it)', ''].join('\n'));
  t.same(host.state.units, {}, 'no unit left');
  t.same(Object.keys(host.state.files).filter(f => f.startsWith(QD)), [], 'no Quadlet file left');
  t.ok(host.state.files[TRUST], 'the CA cert trust installed is kept');
  t.same(host.state.secrets, SECRETS, 'every secret kept');
  t.same(host.state.volumes, ['quay-storage', 'pg-storage'], 'volumes kept');
  t.same([host.state.containers, host.state.pods], [[], []], 'containers and pod removed');
  t.ok(host.state.files[POINTER] && host.state.files[`${ROOT}/credentials`], 'pointer and quayRoot kept');
  t.equal(host.state.linger, false, 'linger off again');
  const rec = recordOn(host);
  t.equal(rec?.removedAt, NOW.toISOString(), 'record marked removed');
  t.equal(rec?.lingerEnabledByMreg, false);
  t.equal(host.state.files[`${ROOT}/mreg-install.json`]?.mode, 0o600);
  t.notOk(host.isLocked(), 'lock released');
});

t.test('down --json prints the result document', async t => {
  const host = createFakeHost({ probe, state: runningInstall() });
  const c = await runDown(host, {}, true);
  t.same(JSON.parse(c.stdout()), { removed: true, purged: false, kept: [ROOT, 'podman volume quay-storage', 'podman volume pg-storage'] });
  t.equal(c.stderr(), '', 'no progress lines');
});

t.test('down when already down: says so and calls nothing', async t => {
  const host = createFakeHost({ probe, state: runningInstall() });
  await runDown(host, {});
  const before = structuredClone(host.state);
  host.calls.length = 0;
  const c = await runDown(host, {});
  t.equal(c.stdout(), `mreg: the registry was already removed on ${NOW.toISOString()}; data kept: ${ROOT}, podman volume quay-storage, podman volume pg-storage\n`);
  t.same(host.calls, [], 'no port called');
  t.same(host.state, before, 'nothing changed');
  const dry = await runDown(host, { dryRun: true }, true);
  t.same(JSON.parse(dry.stdout()), { dryRun: true, actions: [], plan: [] }, 'the dry run lists nothing to do');
});

t.test('down with the units already stopped and the files gone still finishes (every action is idempotent)', async t => {
  const state = runningInstall();
  state.units = {};
  state.containers = [];
  state.pods = [];
  for (const f of Object.keys(state.files)) if (f.startsWith(QD)) delete state.files[f];
  const host = createFakeHost({ probe, state });
  await runDown(host, {});
  t.equal(recordOn(host)?.removedAt, NOW.toISOString());
});

t.test('down --purge --yes with volumes deletes data, secrets, the trusted CA, the pointer and quayRoot', async t => {
  const host = createFakeHost({ probe, state: runningInstall({ takenDirs: [{ path: ROOT, createdFrom: ROOT }] }) });
  const c = await runDown(host, { purge: true, yes: true });
  t.equal(c.stdout(), 'mreg: registry removed; all data deleted\n');
  t.equal(c.stderr(), ['==> stop units', '    ok stop units', '==> remove units and secrets', '    ok remove units and secrets',
    '==> delete data (--purge)', '    ok delete data (--purge)', ''].join('\n'));
  t.same(host.state.files, {}, 'no file left (trusted CA, pointer, quayRoot)');
  t.same(host.state.dirs, {}, 'quayRoot deleted');
  t.same([host.state.secrets, host.state.volumes, host.state.containers, host.state.pods], [[], [], [], []]);
  t.same(host.calls.slice(-2), [`remove ${POINTER}`, `giveBackDir ${ROOT}`], 'quayRoot, which holds the record, goes last');
});

t.test('--purge without --yes and without a terminal refuses and changes nothing', async t => {
  const host = createFakeHost({ probe, state: runningInstall() });
  const before = structuredClone(host.state);
  await t.rejects(runDown(host, { purge: true }), { exitCode: 2, message: /add --yes to confirm/ });
  t.same(host.state, before);
  t.same(host.calls, []);
});

t.test('--purge with bind paths: a folder mreg created goes with its parents, one it took empty is emptied, one it did not take stays', async t => {
  const quay = '/srv/data/quay';
  const pg = '/srv/pg';
  const state = runningInstall({
    quayStorage: { kind: 'path', path: quay }, pgStorage: { kind: 'path', path: pg },
    takenDirs: [{ path: ROOT, createdFrom: ROOT }, { path: quay, createdFrom: '/srv/data' }],
    dirs: { '/srv': { mode: 0o755, uid: 0, gid: 0 }, '/srv/data': { mode: 0o755, uid: 0, gid: 0 }, [quay]: { mode: 0o750, uid: 1001, gid: 0 }, [pg]: { mode: 0o700, uid: 26, gid: 26 } },
    extraFiles: [`${quay}/sha256/ab/abcd`, `${quay}/uploads/u1`, `${pg}/PG_VERSION`],
  });
  const host = createFakeHost({ probe, state });
  const c = await runDown(host, { purge: true, yes: true });
  t.match(c.stderr(), `warning: kept ${pg} (mreg did not create it, so --purge leaves it)`);
  t.same(Object.keys(host.state.dirs).sort(), ['/srv', pg], '/srv/data (created with the storage) is gone, /srv and the folder not taken stay');
  t.ok(host.state.files[`${pg}/PG_VERSION`], 'a folder mreg did not take keeps its files');

  // Someone put a file of theirs in the folder mreg made: it stays, and so does the folder.
  const shared = createFakeHost({ probe, state: { ...state, files: { ...state.files, [`${quay}/notes.txt`]: { content: 'mine', mode: 0o644 } } } });
  const s = await runDown(shared, { purge: true, yes: true });
  t.match(s.stderr(), `warning: kept ${quay}: it holds 1 entry mreg did not write (notes.txt)`);
  t.same(Object.keys(shared.state.files).filter(f => f.startsWith(`${quay}/`)), [`${quay}/notes.txt`], 'only what Quay wrote is deleted');
  t.ok(shared.state.dirs[quay] && shared.state.dirs['/srv/data'], 'the folder and its parent stay');

  const emptied = createFakeHost({ probe, state: runningInstall({
    quayStorage: { kind: 'path', path: quay },
    takenDirs: [{ path: ROOT, createdFrom: ROOT }, { path: quay, mode: 0o711, uid: 0, gid: 0 }],
    dirs: { [quay]: { mode: 0o750, uid: 1001, gid: 0 }, [`${quay}/lost+found`]: { mode: 0o700, uid: 0, gid: 0 } },
    extraFiles: [`${quay}/sha256/ab/abcd`, `${quay}/_verify`, `${quay}/added-later.txt`],
  }) });
  const e = await runDown(emptied, { purge: true, yes: true });
  t.same(emptied.state.dirs[quay], { mode: 0o711, uid: 0, gid: 0 }, 'a folder that was empty gets its mode and owner back');
  t.ok(emptied.state.dirs[`${quay}/lost+found`], 'lost+found stays');
  t.notOk(emptied.state.files[`${quay}/sha256/ab/abcd`] ?? emptied.state.files[`${quay}/_verify`], 'what Quay wrote is deleted');
  t.ok(emptied.state.files[`${quay}/added-later.txt`], 'a file someone added later stays (issue 12: purge leaves what mreg did not write)');
  t.match(e.stderr(), `warning: kept ${quay}: it holds 1 entry mreg did not write (added-later.txt)`);
});

t.test('--purge of a record without takenDirs gives back quayRoot whole and of storage what its container wrote, never a system folder', async t => {
  const plan = planDown({
    record: parseRecord(runningInstall({ quayStorage: { kind: 'path', path: '/srv' }, pgStorage: { kind: 'path', path: '/data/pg' } }).files[`${ROOT}/mreg-install.json`]!.content, 'r'),
    layout: quayRootLayout(ROOT), facts: probe, purge: true, quayRootGiven: false,
  });
  const lines = plan.actions.filter(a => a.progress === 'delete data (--purge)').map(describeAction);
  t.same(lines, ['DELETE userdata in /data/pg, then the folder if nothing else is in it', 'keep /srv (mreg did not create it, so --purge leaves it)', `remove ${POINTER}`, `DELETE ${ROOT}`]);
});

t.test('--purge of an object-storage install deletes nothing in the bucket and says so', async t => {
  const bucket = { kind: 's3' as const, bucket: 'quay-blobs', prefix: 'mirror', endpoint: 'https://s3.example.com', credentialsFile: `${HOME}/s3` };
  const host = createFakeHost({ probe, state: runningInstall({ quayStorage: bucket, takenDirs: [{ path: ROOT, createdFrom: ROOT }] }) });
  const c = await runDown(host, { purge: true, yes: true });
  t.match(c.stderr(), 'warning: kept s3://quay-blobs/mirror at https://s3.example.com (mreg never deletes objects in a bucket; empty it with the object store\'s tools)');
  t.match(c.stdout(), 'mreg: registry removed; all local data deleted; the blobs stay in s3://quay-blobs/mirror at https://s3.example.com');
  t.same(host.state.volumes, [], 'the Postgres volume is gone');
  const kept = await runDown(createFakeHost({ probe, state: runningInstall({ quayStorage: bucket }) }), {});
  t.match(kept.stdout(), 'data kept: /home/alice/quay-install, s3://quay-blobs/mirror at https://s3.example.com, podman volume pg-storage');
  // The local copy storage migrate left is this install's mirrored data too: listed, and deleted by --purge.
  const record = parseRecord(runningInstall({ quayStorage: bucket }).files[`${ROOT}/mreg-install.json`]!.content, 'r');
  const plan = planDown({ record: { ...record, migratedFrom: { kind: 'volume', name: 'quay-storage' } }, layout: quayRootLayout(ROOT), facts: probe, purge: true, quayRootGiven: false });
  t.ok(plan.data.includes('podman volume quay-storage'), 'named among the data');
  t.ok(plan.actions.some(a => describeAction(a) === 'DELETE podman volume quay-storage'), '--purge deletes it');
});

t.test('a unit that does not stop: UnitFailedError with the journal tail, nothing after it runs', async t => {
  const host = createFakeHost({ probe, state: runningInstall(), stopResults: { 'quay-redis.service': 'timeout' } });
  const c = fakeContext(host, {});
  const err = await down(c.ctx).catch((e: unknown) => e);
  t.ok(err instanceof UnitFailedError);
  t.match(err, { unit: 'quay-redis.service', result: 'timeout', exitCode: 1, hint: 'fix the cause and run mreg down again', journalTail: ['quay-redis.service: stop job failed (fake journal)'] });
  // Every stop job was enqueued at once (systemd orders them); nothing after the stop step ran.
  t.same(host.calls.filter(c => c.startsWith('stopUnit ')), [...UNITS, 'quay-storage-volume.service', 'pg-storage-volume.service'].map(u => `stopUnit ${u}`));
  t.notOk(host.calls.includes('resetFailed quay-redis.service'), 'the unit that did not stop is left failed, for the journal');
  t.notOk(host.calls.some(c => !/^(stopUnit|resetFailed) /.test(c)), 'nothing after the stop step ran', { calls: host.calls });
  t.equal(c.stderr(), '==> stop units\n    failed stop units\n');
  t.equal(c.stdout(), '');
  t.notOk(host.isLocked(), 'lock released');
});

// Issue 19: the units' own stop commands remove the containers and the pod; down's podman processes
// are for what they did not remove.
t.test('a container its unit\'s stop left (a failed ExecStopPost, a unit already stopped) is removed by down', async t => {
  const state = runningInstall();
  state.units['quay-redis.service'] = 'inactive'; // crashed earlier: its container stayed
  const host = createFakeHost({ probe, state, stopPostFails: ['quay-postgres.service'] });
  await runDown(host, {});
  t.same(host.calls.filter(c => /Remove /.test(c)), ['containersRemove quay-redis,quay-postgres'], 'one podman process for the two left; none for the pod');
  t.same([host.state.containers, host.state.pods], [[], []], 'nothing left');
  const clean = createFakeHost({ probe, state: runningInstall() });
  await runDown(clean, {});
  t.same(clean.calls.filter(c => /Remove /.test(c)), [], 'after a clean stop, no podman process at all');
});

t.test('the dry run lists exactly what runs, and changes nothing', async t => {
  const cases: Array<[string, Record<string, unknown>, FakeHostState]> = [
    ['down', {}, runningInstall({ linger: true })],
    ['down --purge', { purge: true, yes: true }, runningInstall({ linger: true, takenDirs: [{ path: ROOT, createdFrom: ROOT }] })],
    ['down --purge, bind paths', { purge: true, yes: true }, runningInstall({ quayStorage: { kind: 'path', path: '/srv/q' }, takenDirs: [{ path: ROOT, createdFrom: ROOT }], dirs: { '/srv/q': { mode: 0o755, uid: 0, gid: 0 } } })],
  ];
  for (const [name, flags, state] of cases) {
    const host = createFakeHost({ probe, state });
    const dry = await runDown(host, { ...flags, dryRun: true }, true);
    const doc = JSON.parse(dry.stdout()) as { dryRun: boolean; actions: string[]; plan: Action[] };
    t.same(host.calls, [], `${name}: the dry run calls no port`);
    t.same(host.state, state, `${name}: nothing changed`);
    t.same(doc.actions, doc.plan.map(describeAction), `${name}: the JSON lines describe the actions`);
    t.equal(new Set(doc.plan.map(a => a.id)).size, doc.plan.length, `${name}: action ids are unique`);
    const human = await runDown(host, { ...flags, dryRun: true });
    t.equal(human.stdout(), doc.actions.map((a, i) => `${i + 1}. ${a}\n`).join(''), `${name}: the human list is the same`);
    t.equal(human.stderr(), 'dry run: nothing was changed\n');
    await runDown(host, flags);
    t.same(resetsSorted(host.calls), resetsSorted(expectedCalls(doc.plan, state)), `${name}: the executor made exactly the listed calls`);
  }
});

t.test('interrupted at every port call, the executor stops there and a re-run finishes the job', async t => {
  const cases: Array<[string, Record<string, unknown>, () => FakeHostState]> = [
    ['down', {}, () => runningInstall({ linger: true })],
    ['down --purge', { purge: true, yes: true }, () => runningInstall({ linger: true, quayStorage: { kind: 'path', path: '/srv/q' }, takenDirs: [{ path: ROOT, createdFrom: ROOT }, { path: '/srv/q', createdFrom: '/srv/q' }], dirs: { '/srv/q': { mode: 0o755, uid: 0, gid: 0 } } })],
  ];
  for (const [name, flags, state] of cases) {
    const clean = createFakeHost({ probe, state: state() });
    await runDown(clean, flags);
    const total = clean.calls.length;
    t.ok(total > 20, `${name}: ${total} port calls in a whole run`);
    for (let k = 1; k <= total; k++) {
      const host = createFakeHost({ probe, state: state(), failAtCall: k });
      const c = fakeContext(host, flags);
      const err = await down(c.ctx).catch((e: unknown) => e);
      if (!(err instanceof HostError) || host.calls.length !== k - 1 || host.isLocked()) {
        t.fail(`${name}: interrupted at call ${k}: stops there with the HostError, lock released`, { err, calls: host.calls.length });
        continue;
      }
      t.equal(c.stdout(), '', `${name}: interrupted at call ${k}: no result printed`);
      const rerun = createFakeHost({ probe, state: host.state });
      await runDown(rerun, flags);
      t.same(rerun.state, clean.state, `${name}: interrupted at call ${k} (${clean.calls[k - 1]}), a re-run ends where a whole run does`);
    }
  }
});

t.test('down asks only who runs it: no host probe (a podman process, logind, hostname -f) before the units stop', async t => {
  const host = createFakeHost({ probe, state: runningInstall() });
  await runDown(host, {});
  t.notOk(host.calls.includes('probe'), 'host.probe() not called');
  t.equal(host.calls[0], 'stopUnit quay-app.service', 'the first call stops quay-app');
});

t.test('--purge of an adopted install on folders: what the containers wrote goes, mirror-registry\'s folders stay', async t => {
  const q = '/data/quay/storage';
  const pg = '/data/quay/pg';
  const spec = { quayRoot: ROOT, quayStorage: { kind: 'path' as const, path: q }, pgStorage: { kind: 'path' as const, path: pg } };
  t.same(adoptedTakenDirs(spec as InstallSpec, true), [{ path: ROOT, createdFrom: ROOT }, { path: q, adopted: true }, { path: pg, adopted: true }]);
  const takenDirs = adoptedTakenDirs(spec as InstallSpec, false);
  t.same(takenDirs[0], { path: ROOT, adopted: true }, 'a quayRoot whose parent is not the user\'s: emptied, not deleted');
  const state = runningInstall({ quayStorage: spec.quayStorage, pgStorage: spec.pgStorage, takenDirs,
    dirs: { '/data/quay': { mode: 0o755, uid: 0, gid: 0 }, [q]: { mode: 0o755, uid: 100000, gid: 100000 }, [pg]: { mode: 0o700, uid: 100025, gid: 100025 } },
    extraFiles: [`${q}/sha256/ab/abcd`, `${q}/uploads/u1`, `${pg}/userdata/PG_VERSION`] });
  const plan = planDown({ record: parseRecord(state.files[`${ROOT}/mreg-install.json`]!.content, 'r'), layout: quayRootLayout(ROOT), facts: probe, purge: true, quayRootGiven: false });
  t.same(plan.actions.filter(a => a.progress === 'delete data (--purge)').map(describeAction), [
    `DELETE sha256, uploads, sharedimages, _verify, exportedactionlogs, docker in ${q} (mirror-registry's folder before mreg; it stays)`,
    `DELETE userdata in ${pg} (mirror-registry's folder before mreg; it stays)`,
    `remove ${POINTER}`,
    `EMPTY ${ROOT} (mirror-registry's folder before mreg; it stays)`,
  ]);
  const host = createFakeHost({ probe, state });
  const c = await runDown(host, { purge: true, yes: true });
  t.notMatch(c.stderr(), /warning/, 'nothing left that a warning would name');
  t.same(Object.keys(host.state.files).filter(f => f.startsWith('/data/') || f.startsWith(`${ROOT}/`)), [], 'no blob, no database file, nothing in quayRoot');
  t.same([q, pg, ROOT].map(d => host.state.dirs[d]), [{ mode: 0o755, uid: 100000, gid: 100000 }, { mode: 0o700, uid: 100025, gid: 100025 }, { mode: 0o700, uid: 1000, gid: 1000 }], 'the folders stay as they were');
  t.ok(host.state.dirs['/data/quay'], 'their parent is untouched');
});

t.test('--purge of an adopted 1.2 install, its data inside quayRoot: quayRoot\'s delete spares the storage folders, and what an admin put there stays', async t => {
  const q = `${ROOT}/quay-storage`;
  const pg = `${ROOT}/pg-data`;
  const spec = { quayRoot: ROOT, quayStorage: { kind: 'path' as const, path: q }, pgStorage: { kind: 'path' as const, path: pg } };
  const takenDirs = adoptedTakenDirs(spec as InstallSpec, true);
  const state = runningInstall({ quayStorage: spec.quayStorage, pgStorage: spec.pgStorage, takenDirs,
    dirs: { [q]: { mode: 0o755, uid: 100000, gid: 100000 }, [pg]: { mode: 0o700, uid: 100025, gid: 100025 } },
    extraFiles: [`${q}/sha256/ab/abcd`, `${q}/admin-notes.txt`, `${pg}/userdata/PG_VERSION`] });
  const plan = planDown({ record: parseRecord(state.files[`${ROOT}/mreg-install.json`]!.content, 'r'), layout: quayRootLayout(ROOT), facts: probe, purge: true, quayRootGiven: false });
  t.same(plan.actions.filter(a => a.progress === 'delete data (--purge)').map(describeAction), [
    `DELETE sha256, uploads, sharedimages, _verify, exportedactionlogs, docker in ${q} (mirror-registry's folder before mreg; it stays)`,
    `DELETE userdata in ${pg} (mirror-registry's folder before mreg; it stays)`,
    `remove ${POINTER}`,
    `DELETE all but pg-data, quay-storage in ${ROOT}, then the folder if nothing else is in it`,
  ], 'the dry run says quayRoot keeps the storage folders');
  const host = createFakeHost({ probe, state });
  const c = await runDown(host, { purge: true, yes: true });
  t.ok(host.state.files[`${q}/admin-notes.txt`], 'the admin\'s file is still there');
  t.notOk(host.state.files[`${q}/sha256/ab/abcd`], 'the blobs are gone');
  t.notOk(host.state.files[`${pg}/userdata/PG_VERSION`], 'the database is gone');
  t.same(Object.keys(host.state.files).filter(f => f.startsWith(`${ROOT}/`)), [`${q}/admin-notes.txt`], 'nothing else of quayRoot');
  t.ok(host.state.dirs[pg], 'mirror-registry\'s database folder stays, empty');
  t.match(c.stderr(), `kept ${q}: it holds 1 entry mreg did not write (admin-notes.txt)`);
  t.match(c.stderr(), `kept ${ROOT}: it holds 2 entries mreg did not write (pg-data, quay-storage)`);
});

t.test('root given a rootless user\'s quayRoot: refused before anything, nothing of either scope touched', async t => {
  const rootProbe: HostProbe = { ...probe, scope: 'rootful', uid: 0, gid: 0, user: 'root', home: '/root', quadletDir: '/etc/containers/systemd', runtimeDir: '/run' };
  const host = createFakeHost({ probe: rootProbe, state: runningInstall() });
  const before = structuredClone(host.state);
  const err = await runDown(host, { quayRoot: ROOT, purge: true, yes: true }).then(() => undefined, (e: unknown) => e);
  t.match(err, { name: 'UsageError', message: `--quayRoot ${ROOT}: a rootless install, and this mreg runs rootful (as root); its units, secrets and volumes are its user's` });
  t.match((err as { hint?: string }).hint, /run mreg as the user who installed it/);
  t.same(host.calls, [], 'no port call');
  t.same(host.state, before, 'nothing changed');
});

t.test('down --purge of a quayRoot the pointer does not name leaves the pointer to the one it names', async t => {
  const state = runningInstall();
  state.files[POINTER] = { content: '/srv/other-quay-install\n', mode: 0o644 };
  const host = createFakeHost({ probe, state });
  await runDown(host, { quayRoot: ROOT, purge: true, yes: true });
  t.equal(host.state.files[POINTER]?.content, '/srv/other-quay-install\n', 'the pointer is the other install\'s');
  t.notOk(host.calls.includes(`remove ${POINTER}`), 'not removed');
});

t.test('an adopt of this install killed after its record: down --purge finishes it (the old secrets and the marker go), so the next up is not refused', async t => {
  const state = runningInstall();
  const record = parseRecord(state.files[`${ROOT}/mreg-install.json`]!.content, 'record');
  const marker = adoptMarkerPath(probe.scope, HOME);
  state.secrets = [...state.secrets, 'pgdb_pass'];
  const putBack = { scope: probe.scope, hostname: 'h', port: 8443, quayRoot: ROOT, unitPaths: [], written: [], saved: [], pgUser: 'user', roleRenamed: true,
    pgImage: 'pg', pgStorage: { kind: 'volume', name: 'pg-storage' }, newCa: false, relabel: true };
  state.files[marker] = { content: JSON.stringify({ version: 1, startedAt: record.createdAt, legacySecrets: ['pgdb_pass'], putBack }), mode: 0o600 };
  const host = createFakeHost({ probe, state });
  await runDown(host, { purge: true, yes: true });
  t.notOk(host.state.files[marker], 'the marker is gone');
  t.notOk(host.state.secrets.includes('pgdb_pass'), 'mirror-registry\'s old secret is gone');
});

t.test('a marker of another quayRoot, or of an adopt that never wrote this record, is not down\'s', async t => {
  const state = runningInstall();
  const marker = adoptMarkerPath(probe.scope, HOME);
  const putBack = { scope: probe.scope, hostname: 'h', port: 8443, quayRoot: '/elsewhere', unitPaths: [], written: [], saved: [], pgUser: 'user', roleRenamed: true,
    pgImage: 'pg', pgStorage: { kind: 'volume', name: 'pg-storage' }, newCa: false, relabel: true };
  state.files[marker] = { content: JSON.stringify({ version: 1, startedAt: '2026-01-01T00:00:00.000Z', legacySecrets: ['pgdb_pass'], putBack }), mode: 0o600 };
  const host = createFakeHost({ probe, state });
  await runDown(host, {});
  t.ok(host.state.files[marker], 'kept');
});
