// An adopt killed between mirror-registry's stop and mreg's record (issue 15: never leave the user worse
// off): the marker written before the stop lets a re-run of adopt put mirror-registry back, or finish when
// the record was written; up and the commands that look for a record name adopt as the way out.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { backupLegacyConfig, backupLegacyTls, backupLegacyUnits, type FoundLegacy } from '../../src/adopt/find.js';
import { resumeAdopt, resumeActions } from '../../src/adopt/resume.js';
import { putBackStateOf, saveFiles, type AdoptState, type PutBackState } from '../../src/adopt/rollback.js';
import { switchToMreg } from '../../src/adopt/switch.js';
import { finished, parseAdoptMarker, readAdoptMarker, writeAdoptMarker } from '../../src/apply/adopt-marker.js';
import { findInstall } from '../../src/apply/install-lookup.js';
import type { CommandContext } from '../../src/cli.js';
import { HostError, UnitFailedError } from '../../src/errors.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';
import { adoptMarkerPath } from '../../src/model/scope.js';
import type { Plan } from '../../src/plan/plan.js';
import { createOutput } from '../../src/ui/output.js';

const UNITS = ['quay-pod.service', 'quay-postgres.service', 'quay-redis.service', 'quay-app.service'];
const SPEC = { scope: 'rootless', hostname: 'quay.example', port: 8443, quayRoot: '', images: { postgres: 'pg:15' },
  pgStorage: { kind: 'volume', name: 'pg-storage' }, tls: { kind: 'generate' } } as unknown as InstallSpec;

/** A rootless mirror-registry install on the real file system, in a home of its own. */
function legacyInstall() {
  const home = mkdtempSync(join(tmpdir(), 'mreg-resume-'));
  const unitDir = join(home, '.config/systemd/user');
  const layout = quayRootLayout(join(home, 'quay-install'));
  mkdirSync(unitDir, { recursive: true });
  mkdirSync(layout.configDir, { recursive: true });
  for (const u of UNITS) writeFileSync(join(unitDir, u), `[Service]\nExecStart=/usr/bin/podman run ${u}\n`);
  writeFileSync(layout.configYaml, 'DATABASE_SECRET_KEY: old\n', { mode: 0o644 });
  const found: FoundLegacy = { unitDir, unitPaths: UNITS.map(u => join(unitDir, u)), quayRoot: layout.root, wantsLinks: [],
    files: { units: {}, configYaml: 'DATABASE_SECRET_KEY: old\n', hasRootCa: false } };
  const planned = { files: [{ path: join(home, '.config/containers/systemd/quay-app.container'), content: 'x', mode: 0o644 },
    { path: layout.configYaml, content: 'DATABASE_SECRET_KEY: new\n', mode: 0o640 }] } as unknown as Plan;
  return { home, unitDir, layout, found, planned, spec: { ...SPEC, quayRoot: layout.root } as InstallSpec };
}

type Install = ReturnType<typeof legacyInstall>;

async function stateOf(i: Install): Promise<PutBackState> {
  const saved = await saveFiles([i.layout.configYaml]);
  const st: AdoptState = { found: i.found, spec: i.spec, planned: i.planned, layout: i.layout, saved, pgUser: 'quay', roleRenamed: false, newCa: false, relabel: true };
  return putBackStateOf(st);
}

/** What adopt had done when it was killed: units moved, mreg's files written. */
async function killedAfterWrite(i: Install): Promise<void> {
  await backupLegacyConfig(i.found);
  await backupLegacyTls(i.found, false);
  await backupLegacyUnits(i.found);
  for (const f of i.planned.files) { mkdirSync(join(f.path, '..'), { recursive: true }); writeFileSync(f.path, f.content); }
}

function context(i: Install, opts: { reloadFails?: boolean; app?: { activeState: string; fragmentPath: string } } = {}) {
  const calls: string[] = [];
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  const probe = { scope: 'rootless', home: i.home };
  const systemd = {
    stopUnit: async (u: string) => { calls.push(`stop ${u}`); return 'done'; },
    startUnit: async (u: string) => { calls.push(`start ${u}`); return 'done'; },
    resetFailed: async () => undefined,
    reload: async () => { calls.push('reload'); if (opts.reloadFails) throw new HostError('Reload: access denied'); },
    unitState: async () => opts.app ?? { activeState: 'activating', fragmentPath: '/run/systemd/generator/quay-app.service' },
  };
  const podman = { containersRemove: async () => undefined, podRemove: async () => undefined, secretRemove: async (s: string) => { calls.push(`secret rm ${s}`); } };
  const host = {
    probe: async () => probe, identify: () => probe,
    lock: async () => { calls.push('lock'); return async () => { calls.push('unlock'); }; },
    podman: () => podman,
    actionPorts: async () => ({ systemd }),
    files: { exists: async (p: string) => existsSync(p), remove: async (p: string) => { calls.push(`rm ${p}`); const { rmSync } = await import('node:fs'); rmSync(p, { recursive: true, force: true }); } },
    inspect: () => ({ waitForHealth: async () => { calls.push('health'); } }),
  };
  const ctx = { out: createOutput({ stdout: sink, stderr: sink, env: {} }), flags: {}, args: [], env: {}, stdin: process.stdin, host } as unknown as CommandContext;
  return { ctx, calls };
}

t.test('the marker: written 0600 beside the pointer, read back as written; a torn one is named, not guessed at', async t => {
  const i = legacyInstall();
  const st = await stateOf(i);
  await writeAdoptMarker('rootless', i.home, st, ['quay-pg-password'], new Date('2026-12-07T03:00:00Z'));
  const file = adoptMarkerPath('rootless', i.home);
  t.equal(file, join(i.home, '.local/state/mreg/adopting.json'));
  t.equal((statSync(file).mode & 0o777).toString(8), '600', 'it holds config.yaml as it was: 0600');
  const m = await readAdoptMarker('rootless', i.home);
  t.same(m?.putBack, st);
  t.same(m?.legacySecrets, ['quay-pg-password']);
  t.throws(() => parseAdoptMarker('{"version":1,', file), new RegExp(`^${file} is not a marker this mreg can read`));
});

t.test('killed after the old units moved: adopt run again puts mirror-registry back, then goes on to adopt', async t => {
  const i = legacyInstall();
  const st = await stateOf(i);
  await writeAdoptMarker('rootless', i.home, st, [], new Date());
  await killedAfterWrite(i);
  t.notOk(existsSync(join(i.unitDir, 'quay-app.service')), 'the old units are in the backup folder');
  const m = await readAdoptMarker('rootless', i.home);
  const { ctx, calls } = context(i);
  t.equal(await resumeAdopt(ctx), false, 'adopt goes on');
  for (const u of UNITS) t.ok(existsSync(join(i.unitDir, u)), `${u} back`);
  t.equal(readFileSync(i.layout.configYaml, 'utf8'), 'DATABASE_SECRET_KEY: old\n', 'config.yaml as it was');
  t.notOk(existsSync(i.planned.files[0]!.path), 'mreg\'s Quadlet file removed');
  t.notOk(existsSync(adoptMarkerPath('rootless', i.home)), 'the marker is gone');
  t.notOk(existsSync(join(i.layout.root, 'mirror-registry-units.bak')), 'the backup folder is gone once mirror-registry is healthy');
  t.ok(calls.indexOf('lock') < calls.indexOf('reload') && calls.indexOf('health') < calls.indexOf('unlock'), 'under the lock');
  t.same(calls.filter(c => c.startsWith('start')), UNITS.map(u => `start ${u}`), 'the old units started in order');
});

t.test('a put-back step that fails keeps the marker, and the error says running adopt again retries', async t => {
  const i = legacyInstall();
  await writeAdoptMarker('rootless', i.home, await stateOf(i), [], new Date());
  await killedAfterWrite(i);
  const { ctx } = context(i, { reloadFails: true });
  const err = await resumeAdopt(ctx).then(() => undefined, (e: unknown) => e);
  t.type(err, HostError);
  t.match((err as HostError).message, /^an interrupted adopt of \S+: putting mirror-registry back did not finish: systemd reloaded: Reload: access denied/);
  t.match((err as HostError).hint, /^fix that and run mreg adopt again \(it tries the put-back again\)/);
  t.match((err as HostError).hint, new RegExp(`; then remove ${adoptMarkerPath('rootless', i.home)}, or a later mreg adopt puts it back again$`), 'the way by hand ends with the marker');
  t.ok(existsSync(adoptMarkerPath('rootless', i.home)), 'the marker stays');
});

t.test('killed after the record was written: adopt run again only finishes (the old secrets go, nothing restarts)', async t => {
  const i = legacyInstall();
  await writeAdoptMarker('rootless', i.home, await stateOf(i), ['quay-pg-password', 'quay-redis-password'], new Date());
  writeFileSync(i.layout.record, JSON.stringify({ schemaVersion: 1, mregVersion: '0', createdAt: '', updatedAt: '', spec: { ...i.spec, quayStorage: { kind: 'volume', name: 'quay-storage' },
    initUser: 'init', images: { quay: 'q', postgres: 'p', redis: 'r' } }, files: [], secrets: [], volumes: [], lingerEnabledByMreg: false }));
  const { ctx, calls } = context(i);
  const m = (await readAdoptMarker('rootless', i.home))!;
  t.same(resumeActions(m, true, adoptMarkerPath('rootless', i.home)).slice(1), ['remove the old podman secret quay-pg-password', 'remove the old podman secret quay-redis-password',
    `remove ${adoptMarkerPath('rootless', i.home)}`], 'the dry run lists it');
  t.equal(await resumeAdopt(ctx), true, 'nothing more to do');
  t.same(calls, ['lock', 'secret rm quay-pg-password', 'secret rm quay-redis-password', 'unlock']);
  t.notOk(existsSync(adoptMarkerPath('rootless', i.home)), 'the marker is gone');
});

t.test('status, down and the others find no record while the marker is there: they name adopt as the way out', async t => {
  const i = legacyInstall();
  await writeAdoptMarker('rootless', i.home, await stateOf(i), [], new Date('2026-12-07T03:00:00Z'));
  const err = await findInstall({}, 'rootless', i.home).then(() => undefined, (e: unknown) => e);
  t.type(err, HostError);
  t.match((err as HostError).message, /an mreg adopt stopped midway/);
  t.equal((err as HostError).hint, `an mreg adopt of ${i.layout.root} was interrupted (started 2026-12-07T03:00:00.000Z): run mreg adopt again; it puts mirror-registry back first, then adopts`);
});

t.test('the marker is on disk before the first stop, and a stop that fails takes it away with mreg\'s secrets', async t => {
  const i = legacyInstall();
  const saved = await saveFiles([i.layout.configYaml]);
  const state: AdoptState = { found: i.found, spec: i.spec, planned: i.planned, layout: i.layout, saved, pgUser: 'user', roleRenamed: false, newCa: false, relabel: true };
  const marker = adoptMarkerPath('rootless', i.home);
  const seen: string[] = [];
  const systemd = {
    stopUnit: async (u: string) => { seen.push(`stop ${u}: marker ${existsSync(marker) ? 'there' : 'missing'}`); return u === 'quay-redis.service' ? 'failed' : 'done'; },
    startUnit: async () => 'done', resetFailed: async () => undefined,
  };
  const podman = { secretCreate: async () => undefined, secretExists: async () => false, secretRemove: async (s: string) => { seen.push(`secret rm ${s}`); },
    containersRemove: async () => undefined, podRemove: async () => undefined };
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  const ids: string[] = [];
  const err = await switchToMreg(createOutput({ stdout: sink, stderr: sink, env: {} }), { systemd, podman, journalTail: async () => [] } as never, state,
    { pgPassword: 'a', redisPassword: 'b', secretKey: 'c', databaseSecretKey: 'd', initPassword: 'e' } as never,
    { now: new Date(), timeoutMs: 1000, backup: join(i.layout.root, 'mirror-registry-units.bak'), home: i.home, legacySecrets: [], did: (...x) => ids.push(...x) })
    .then(() => undefined, (e: unknown) => e);
  t.type(err, UnitFailedError);
  t.same(seen.filter(l => l.startsWith('stop')), ['stop quay-app.service: marker there', 'stop quay-redis.service: marker there']);
  t.notOk(existsSync(marker), 'gone again: nothing of mirror-registry\'s moved');
  t.ok(seen.some(l => l.startsWith('secret rm mreg-')), 'mreg\'s secrets taken away');
  t.same(ids, ['adopt:secrets', 'adopt:marker'], 'the step ids --verbose prints, up to the failure');
});

t.test('mirror-registry runs from its own units again (put back by hand): a re-run touches nothing of it, only mreg\'s secrets and the marker go', async t => {
  const i = legacyInstall();
  const snapshot = { path: join(i.layout.root, 'db-snapshot/quay.dump'), fromImage: 'q1', toImage: 'q2', takenAt: '', bytes: 1 };
  await writeAdoptMarker('rootless', i.home, { ...(await stateOf(i)), snapshot }, [], new Date());
  const { ctx, calls } = context(i, { app: { activeState: 'active', fragmentPath: join(i.unitDir, 'quay-app.service') } });
  t.equal(await resumeAdopt(ctx), false, 'adopt goes on');
  t.same(calls.filter(c => !c.startsWith('secret rm ')), ['lock', 'unlock'], 'no stop, start, reload or restore: its database may hold pushes the dump has not');
  t.equal(calls.filter(c => c.startsWith('secret rm mreg-')).length, 5, 'mreg\'s five secrets removed');
  t.notOk(existsSync(adoptMarkerPath('rootless', i.home)), 'the marker is gone');
});

t.test('the marker gone by the time the lock is taken (another adopt dealt with it): nothing is done', async t => {
  const i = legacyInstall();
  const { ctx, calls } = context(i);
  t.equal(await resumeAdopt(ctx), false);
  t.same(calls, ['lock', 'unlock']);
});

t.test('the dump goes back only once mreg\'s Quay may have run: before that the old database holds every push', async t => {
  const i = legacyInstall();
  const snapshot = { path: join(i.layout.root, 'db-snapshot/quay.dump'), fromImage: 'q1', toImage: 'q2', takenAt: '', bytes: 1 };
  const st: AdoptState = { found: i.found, spec: i.spec, planned: i.planned, layout: i.layout, saved: [], pgUser: 'user', roleRenamed: false, newCa: false, relabel: true, snapshot };
  t.notOk(putBackStateOf(st).snapshot, 'stopped, role renamed, units moved, files written: no dump to put back');
  t.same(putBackStateOf({ ...st, appStarted: true }).snapshot, snapshot, 'once the units were asked to start: the dump goes back');
});

t.test('an adopt is finished once its record was written, even if mreg down removed that record since', async t => {
  const m = { startedAt: '2026-12-07T03:00:00.000Z' } as Parameters<typeof finished>[0];
  t.equal(finished(m, undefined), false, 'no record');
  t.equal(finished(m, { record: { createdAt: '2026-12-07T03:00:00.000Z' } }), true, 'the record this adopt wrote');
  t.equal(finished(m, { record: { createdAt: '2026-12-07T03:00:00.000Z', removedAt: '2026-12-09T10:00:00.000Z' } }), true, 'and mreg down removed it later');
  t.equal(finished(m, { record: { createdAt: '2026-11-01T00:00:00.000Z', removedAt: '2026-11-02T00:00:00.000Z' } }), false, 'an older install mreg down removed before this adopt');
});
