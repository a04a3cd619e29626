// mreg up's whole run over the in-memory host (issue 14): a new install, its re-run, and an up killed at
// every change it makes, then run again. Each phase has its own suite; this one proves that they compose:
// a re-run changes nothing, and an interrupted run leaves what the next one finishes, with the record
// naming every file written so far. Whether podman, Quadlet and Quay behave so is the VM suite's.
import t, { type Test } from 'tap';
import { parse } from 'ini';
import { HostError } from '../../src/errors.js';
import { parseRecord } from '../../src/install-spec/record.js';
import { ALL_SECRET_NAMES, serviceOf } from '../../src/model/views.js';
import { createFakeHost, fakeContext, type FakeHost, type FakeHostOptions, type FakeHostState } from '../support/fake-host.js';
import { fakeFsMocks } from '../support/fake-fs.js';
import { HOME, POINTER, probe, QD, ROOT } from '../support/running-install.js';

const RECORD = `${ROOT}/mreg-install.json`;
const IMAGES = { quay: 'localhost/mreg-test/quay:v1', postgres: 'localhost/mreg-test/postgres:15', redis: 'localhost/mreg-test/redis:7' };
const FLAGS = { quayHostname: 'registry.example.com', quayImage: IMAGES.quay, pgImage: IMAGES.postgres, redisImage: IMAGES.redis };
const SERVICES = ['quay-pod.service', 'quay-postgres.service', 'quay-redis.service', 'quay-app.service'];

const empty = (): FakeHostState => ({ units: {}, files: {}, dirs: { [HOME]: { mode: 0o700, uid: 1000, gid: 1000 } }, secrets: [], volumes: [], containers: [], pods: [], linger: true });

/** What outlives one mreg process beside the files and units: Quay's users and podman's secret values. */
interface Held { users: Record<string, string>; secretValues: Record<string, string> }
const held = (): Held => ({ users: {}, secretValues: {} });

function fakeHost(state: FakeHostState, h: Held, opts: Partial<FakeHostOptions> = {}): FakeHost {
  return createFakeHost({ probe, state, images: Object.values(IMAGES), secretValues: h.secretValues, quadletDryRun: { ok: true, output: '', units: {} },
    network: { portFree: true, resolves: true }, pgData: undefined, quay: { users: h.users }, ...opts });
}

/**
 * up with every module of its run that reads or writes the disk itself (config.yaml, the credentials, the
 * TLS files, the units, the record) on the fake host's files. As in upgrade-flow.test.ts, each is mocked by
 * name where it is imported: tap's mocks do not reach past a mocked module's own imports here.
 */
async function loadUp(t: Test): Promise<(host: FakeHost, flags?: Record<string, unknown>) => Promise<{ steps: string[] }>> {
  // Loaded once, its file mocks following the host of the run at hand.
  let current: FakeHost | undefined;
  const fs = fakeFsMocks({ get state() { return current!.state; }, get files() { return current!.files; } }, HOME);
  const on = (module: string, more: Record<string, object> = {}) => t.mockImport<object>(`../../src/${module}`, { ...fs, ...more });
  const m = (module: string, mod: object) => ({ [`../../src/${module}`]: mod });
  const unitsStep = await on('apply/units-step.js');
  const credentials = await on('apply/credentials.js');
  const keptConfig = await on('apply/kept-config.js');
  const record = await on('up/record.js', m('apply/units-step.js', unitsStep));
  const mod = await t.mockImport<typeof import('../../src/commands/up.js')>('../../src/commands/up.js', {
    ...fs,
    ...m('up/read.js', await on('up/read.js', m('up/checks.js', await on('up/checks.js', { ...m('apply/credentials.js', credentials), ...m('apply/db-snapshot.js', await on('apply/db-snapshot.js')) })))),
    ...m('up/host-checks.js', await on('up/host-checks.js', { ...m('apply/kept-config.js', keptConfig), ...m('apply/units-step.js', unitsStep) })),
    ...m('up/tls-secrets.js', await on('up/tls-secrets.js', { ...m('apply/credentials.js', credentials), ...m('apply/tls-step.js', await on('apply/tls-step.js')) })),
    ...m('up/write.js', await on('up/write.js', { ...m('apply/units-step.js', unitsStep), ...m('up/record.js', record) })),
    ...m('up/record.js', record),
    ...m('up/start.js', await on('up/start.js', { ...m('apply/units-step.js', unitsStep), ...m('apply/health-ca.js', await on('apply/health-ca.js')) })),
    ...m('apply/first-user.js', await on('apply/first-user.js', m('apply/credentials.js', credentials))),
  });
  return async (host, flags = FLAGS) => {
    current = host;
    const c = fakeContext(host, flags, { json: true });
    await mod.up(c.ctx);
    return JSON.parse(c.stdout()) as { steps: string[] };
  };
}

/**
 * Runs an up the fake host kills at change `n`; resolves with the change it stopped at (TLS and the secrets are
 * made side by side, so the n-th change is not always the same one), or fails the test when it did not stop there.
 */
async function killedAt(t: Test, n: number, run: Promise<unknown>): Promise<string | undefined> {
  const err = await run.then(() => undefined, (e: unknown) => e);
  const at = err instanceof HostError ? /injected failure at (.*)$/m.exec(err.message)?.[1] : undefined;
  if (at === undefined) t.fail(`killed at change ${n}: up should stop there`, { err });
  return at;
}

/** What an install is, whatever the run that made it: the paths, modes, units, secrets, record and login. */
function shape(state: FakeHostState, h: Held) {
  const record = parseRecord(state.files[RECORD]!.content, RECORD);
  const credentials = parse(state.files[`${ROOT}/credentials`]?.content ?? '') as { username?: string; password?: string };
  return {
    files: Object.fromEntries(Object.entries(state.files).map(([p, f]) => [p, f.mode.toString(8)]).sort()),
    units: state.units,
    secrets: [...state.secrets].sort(),
    recordFiles: record.files,
    recordVolumes: record.volumes,
    removed: record.removedAt,
    login: credentials.username !== undefined && h.users[credentials.username] === credentials.password,
  };
}

t.test('a new install: every file recorded before it is written, the units started, the first user made, then the record', async t => {
  const runUp = await loadUp(t);
  const h = held();
  const host = fakeHost(empty(), h);
  const result = await runUp(host);
  t.ok(result.steps.includes('first-user'), 'the first user is made', { steps: result.steps });
  const s = shape(host.state, h);
  t.same(Object.entries(s.units).filter(([u]) => SERVICES.includes(u)).map(([, a]) => a), ['active', 'active', 'active', 'active'], 'pod, postgres, redis and app active');
  t.same(s.secrets, [...ALL_SECRET_NAMES].sort(), 'every secret made');
  t.ok(s.login, 'the credentials file logs in');
  t.equal(host.state.files[POINTER]?.content, `${ROOT}\n`, 'the pointer names quayRoot');
  for (const f of Object.keys(host.state.files).filter(p => p.startsWith(`${QD}/`) || p.startsWith(`${ROOT}/quay-config/`))) {
    t.ok(s.recordFiles.includes(f), `the record names ${f}`);
  }
  const firstWrite = host.calls.findIndex(c => c.startsWith(`write ${QD}/`));
  const recorded = host.calls.lastIndexOf(`write ${RECORD}`, firstWrite);
  t.ok(recorded >= 0 && recorded < firstWrite, 'the record with every file is written before the first unit file');
  t.notOk(host.state.files[`${ROOT}/credentials.pending`], 'no pending credentials left');
});

t.test('a re-run of a healthy install: nothing is written, reloaded or started', async t => {
  const runUp = await loadUp(t);
  const h = held();
  const first = fakeHost(empty(), h);
  await runUp(first);
  const before = structuredClone(first.state);
  const host = fakeHost(first.state, h);
  await runUp(host);
  // mkdir -p of a folder that is there is no change (the fake counts every makeDir, so a kill can land on it).
  t.same(host.calls.filter(c => c !== 'probe' && !c.startsWith('makeDir ')), [], 'no change at all', { calls: host.calls });
  t.same(host.state, before, 'the host as it was');
});

t.test('killed at every change a new install makes, the next up finishes it: the same install as an uninterrupted one', async t => {
  const runUp = await loadUp(t);
  const h = held();
  const whole = fakeHost(empty(), h);
  await runUp(whole);
  const expected = shape(whole.state, h);
  const changes = whole.calls.length;
  t.ok(changes > 20, `an uninterrupted install makes ${changes} changes`);
  for (let n = 2; n <= changes; n++) {
    const kh = held();
    const killed = fakeHost(empty(), kh, { failAtCall: n });
    const at = await killedAt(t, n, runUp(killed));
    if (at === undefined) continue;
    // Whatever the kill left, the record names it, so down would remove it.
    const recorded = killed.state.files[RECORD] ? parseRecord(killed.state.files[RECORD].content, RECORD).files : [];
    const unrecorded = Object.keys(killed.state.files).filter(p => (p.startsWith(`${QD}/`) || p.startsWith(`${ROOT}/quay-config/`)) && !recorded.includes(p));
    t.same(unrecorded, [], `killed at change ${n} (${at}): every unit and config file on disk is in the record`);
    const again = fakeHost(killed.state, kh);
    const rerun = await runUp(again).then(() => undefined, (e: unknown) => e);
    if (rerun !== undefined) {
      t.fail(`killed at change ${n} (${at}): the next up should finish`, { err: rerun });
      continue;
    }
    t.same(shape(again.state, kh), expected, `killed at change ${n} (${at}): the next up ends on the same install`);
  }
});

/** The services that run an older copy of one of their files than the one on disk (serviceOf's files). */
function runningOlder(state: FakeHostState): string[] {
  const { clock } = state;
  if (!clock) throw new Error('runningOlder needs the fake host\'s clock');
  return SERVICES.filter(s => Object.keys(state.files).some(p => serviceOf(p) === s && (clock.mtimes[p] ?? 0) > (clock.activeSince[s] ?? 0)));
}

t.test('a change (--anonymousAccess true) killed at every change it makes: the next up finishes it and quay-app runs the new config.yaml', async t => {
  const runUp = await loadUp(t);
  const h = held();
  const installed = fakeHost({ ...empty(), clock: { now: 0, mtimes: {}, activeSince: {} } }, h);
  await runUp(installed);
  t.same(runningOlder(installed.state), [], 'a new install runs its files');
  const base = structuredClone(installed.state);
  const change = { ...FLAGS, anonymousAccess: 'true' };

  const whole = fakeHost(structuredClone(base), { users: { ...h.users }, secretValues: { ...h.secretValues } });
  await runUp(whole, change);
  t.ok(whole.calls.includes(`write ${ROOT}/quay-config/config.yaml`) && whole.calls.includes('restartUnit quay-app.service'), 'the change writes config.yaml and restarts quay-app', { calls: whole.calls });
  const expected = { ...shape(whole.state, h), units: whole.state.units };
  for (let n = 2; n <= whole.calls.length; n++) {
    const kh: Held = { users: { ...h.users }, secretValues: { ...h.secretValues } };
    const killed = fakeHost(structuredClone(base), kh, { failAtCall: n });
    const at = await killedAt(t, n, runUp(killed, change));
    if (at === undefined) continue;
    const again = fakeHost(killed.state, kh);
    const rerun = await runUp(again, change).then(() => undefined, (e: unknown) => e);
    if (rerun !== undefined) { t.fail(`killed at change ${n} (${at}): the next up should finish`, { err: rerun }); continue; }
    t.same({ ...shape(again.state, kh), units: again.state.units }, expected, `killed at change ${n} (${at}): the next up ends on the changed install`);
    t.same(runningOlder(again.state), [], `killed at change ${n} (${at}): every service runs the files on disk`);
  }
});

t.test('killed at every change a new install makes, down --purge --yes leaves the host as the purge of a whole install does', async t => {
  const runUp = await loadUp(t);
  const { down } = await import('../../src/commands/down.js');
  const purge = async (host: FakeHost) => down(fakeContext(host, { purge: true, yes: true }).ctx);
  const whole = fakeHost(empty(), held());
  await runUp(whole);
  const changes = whole.calls.length;
  await purge(whole);
  // mkdir -p's parents (~/.config, ~/.local/state) are the user's folders as much as mreg's: they stay, and are not compared.
  const { dirs: _dirs, ...expected } = whole.state;
  t.same(Object.keys(expected.files), [], 'the purge of a whole install leaves no file');
  const mregDirs = (s: FakeHostState) => Object.keys(s.dirs).filter(d => d === ROOT || d.startsWith(`${ROOT}/`));
  t.same(mregDirs(whole.state), [], 'nor quayRoot');
  for (let n = 2; n <= changes; n++) {
    const kh = held();
    const killed = fakeHost(empty(), kh, { failAtCall: n });
    const at = await killedAt(t, n, runUp(killed));
    if (at === undefined) continue;
    const after = fakeHost(killed.state, kh);
    const failed = await purge(after).then(() => undefined, (e: unknown) => e);
    const { dirs, ...left } = after.state;
    if (!killed.state.files[RECORD]) {
      // Killed before the first record: nothing but an empty quayRoot, which up resumes and down cannot know.
      t.match(failed, { message: /^no rootless mreg install found at / }, `killed at change ${n} (${at}): down finds no install`);
      t.same({ left, dirs: mregDirs(after.state) }, { left: expected, dirs: Object.keys(dirs).includes(ROOT) ? [ROOT] : [] }, `killed at change ${n} (${at}): at most the empty quayRoot is there`);
      continue;
    }
    if (failed !== undefined) { t.fail(`killed at change ${n} (${at}): down --purge should finish`, { err: failed }); continue; }
    t.same(left, expected, `killed at change ${n} (${at}): down --purge leaves what it leaves after a whole install`);
    t.same(mregDirs(after.state), [], `killed at change ${n} (${at}): and no quayRoot`);
  }
});
