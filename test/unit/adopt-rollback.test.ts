// A failed adopt puts mirror-registry back (issue 15, 3): old files, units and enable links restored,
// mreg's units and secrets gone, and the old units started, on a real file system with fake ports.
import t from 'tap';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupLegacyConfig, backupLegacyTls, backupLegacyUnits, type FoundLegacy } from '../../src/adopt/find.js';
import { putBackStateOf, putMirrorRegistryBack, saveFiles, waitForPostgres, type AdoptState } from '../../src/adopt/rollback.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import type { Plan } from '../../src/plan/plan.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';
import type { Podman } from '../../src/host/podman.js';
import type { Systemd } from '../../src/host/systemd.js';

// What the put-back reads of the spec: where the registry answers and which PostgreSQL data the role is in.
const SPEC = { scope: 'rootless', hostname: 'quay.example', port: 8443, images: { postgres: 'pg:15' }, pgStorage: { kind: 'volume', name: 'pg-storage' } } as unknown as InstallSpec;

t.test('every change after the stop is undone, and the old units start in order', async t => {
  const d = mkdtempSync(join(tmpdir(), 'mreg-rollback-'));
  const unitDir = join(d, 'systemd-user');
  const quadletDir = join(d, 'containers-systemd');
  const root = join(d, 'quay-install');
  const layout = quayRootLayout(root);
  mkdirSync(join(unitDir, 'default.target.wants'), { recursive: true });
  mkdirSync(layout.configDir, { recursive: true });
  mkdirSync(layout.caDir, { recursive: true });
  const units = ['quay-pod.service', 'quay-postgres.service', 'quay-redis.service', 'quay-app.service'];
  for (const u of units) writeFileSync(join(unitDir, u), `[Service]\nExecStart=/usr/bin/podman run ${u}\n`);
  const link = join(unitDir, 'default.target.wants', 'quay-app.service');
  symlinkSync(join(unitDir, 'quay-app.service'), link);
  writeFileSync(layout.configYaml, 'DATABASE_SECRET_KEY: old\n', { mode: 0o644 });
  writeFileSync(layout.sslCert, 'OLD CERT\n', { mode: 0o644 });
  writeFileSync(layout.sslKey, 'OLD KEY\n', { mode: 0o600 });
  writeFileSync(layout.caCert, 'OLD CA\n');

  const found: FoundLegacy = { unitDir, unitPaths: units.map(u => join(unitDir, u)), quayRoot: root, wantsLinks: [link],
    files: { units: {}, configYaml: 'DATABASE_SECRET_KEY: old\n', hasRootCa: true } };
  const planned = { files: [
    { path: join(quadletDir, 'quay-app.container'), content: 'x', mode: 0o644 },
    { path: layout.configYaml, content: 'DATABASE_SECRET_KEY: new\n', mode: 0o640 },
    { path: join(root, 'postgres-start', 'hook.sh'), content: 'x', mode: 0o644 },
  ] } as unknown as Plan;
  const saved = await saveFiles([layout.configYaml, layout.sslCert, layout.sslKey, join(root, 'postgres-start', 'hook.sh')]);

  // What adopt does after the stop: back up, move units, new CA, write its own files.
  await backupLegacyConfig(found);
  await backupLegacyTls(found, true);
  await backupLegacyUnits(found);
  mkdirSync(quadletDir, { recursive: true });
  mkdirSync(join(root, 'postgres-start'));
  for (const f of planned.files) writeFileSync(f.path, f.content);
  writeFileSync(layout.sslCert, 'NEW CERT\n');
  mkdirSync(layout.caDir);
  writeFileSync(layout.caCert, 'NEW CA\n');
  t.notOk(existsSync(join(unitDir, 'quay-app.service')), 'old units moved away');

  const calls: string[] = [];
  const systemd = {
    stopUnit: async (u: string) => { calls.push(`stop ${u}`); return 'done'; },
    startUnit: async (u: string) => { calls.push(`start ${u}`); return 'done'; },
    resetFailed: async () => undefined,
    reload: async () => { calls.push('reload'); },
  } as unknown as Systemd;
  const podman = {
    containersRemove: async () => undefined, podRemove: async () => undefined,
    secretRemove: async (s: string) => { calls.push(`secret rm ${s}`); },
  } as unknown as Podman;
  const state: AdoptState = { found, spec: SPEC, planned, layout, saved, pgUser: 'user', roleRenamed: false, newCa: true, relabel: true };
  const left = await putMirrorRegistryBack({ systemd, podman }, putBackStateOf(state), () => undefined);

  t.same(left, [], 'everything undone');
  for (const u of units) t.ok(existsSync(join(unitDir, u)), `${u} back`);
  t.ok(lstatSync(link).isSymbolicLink() && readlinkSync(link) === join(unitDir, 'quay-app.service'), 'enable link back');
  t.equal(readFileSync(layout.configYaml, 'utf8'), 'DATABASE_SECRET_KEY: old\n', 'config.yaml as it was');
  t.equal((statSync(layout.configYaml).mode & 0o777).toString(8), '644', 'with its mode');
  t.equal(readFileSync(layout.sslCert, 'utf8'), 'OLD CERT\n');
  t.equal(readFileSync(layout.caCert, 'utf8'), 'OLD CA\n', 'the old CA back in place of the new one');
  t.notOk(existsSync(join(quadletDir, 'quay-app.container')), 'mreg\'s Quadlet file removed');
  t.notOk(existsSync(join(root, 'postgres-start', 'hook.sh')), 'a file adopt created in quayRoot removed');
  t.ok(calls.indexOf('reload') < calls.indexOf('start quay-pod.service'), 'reload before the starts');
  t.same(calls.filter(c => c.startsWith('start')), ['start quay-pod.service', 'start quay-postgres.service', 'start quay-redis.service', 'start quay-app.service'], 'old units started in order');
  t.ok(calls.includes('secret rm mreg-pg-password'), 'mreg\'s secrets removed');
});

t.test('with a database dump: the old Quay starts only after the dump is back', async t => {
  const d = mkdtempSync(join(tmpdir(), 'mreg-rollback-db-'));
  const layout = quayRootLayout(join(d, 'quay-install'));
  const found: FoundLegacy = { unitDir: join(d, 'units'), unitPaths: [], quayRoot: layout.root, wantsLinks: [],
    files: { units: {}, configYaml: '', hasRootCa: false } };
  const calls: string[] = [];
  const systemd = {
    stopUnit: async () => 'done', resetFailed: async () => undefined, reload: async () => undefined,
    startUnit: async (u: string) => { calls.push(`start ${u}`); return 'done'; },
  } as unknown as Systemd;
  const podman = {
    containersRemove: async () => undefined, podRemove: async () => undefined, secretRemove: async () => undefined,
    exec: async (c: string, argv: string[]) => { calls.push(`exec ${c} ${argv[0]}`); return { stdout: '', stderr: '' }; },
    execFromFile: async (c: string, argv: string[], file: string) => { calls.push(`restore ${c} ${argv[0]} ${file}`); },
  } as unknown as Podman;
  const snapshot = { path: join(layout.root, 'db-snapshot/quay.dump'), fromImage: 'quay:v1', toImage: 'quay:broken', takenAt: '', bytes: 1 };
  const state: AdoptState = { found, spec: SPEC, planned: { files: [] } as unknown as Plan, layout, saved: [], pgUser: 'user',
    roleRenamed: false, newCa: false, relabel: true, snapshot, appStarted: true };
  t.same(await putMirrorRegistryBack({ systemd, podman }, putBackStateOf(state), () => undefined), []);
  t.same(calls, ['start quay-pod.service', 'start quay-postgres.service', 'start quay-redis.service',
    'exec quay-postgres psql', 'exec quay-postgres psql', `restore quay-postgres pg_restore ${snapshot.path}`, 'exec quay-postgres psql', 'start quay-app.service'],
    'PostgreSQL asked until it answers, then the restore into a database of its own and its swap');
});

t.test('waitForPostgres asks again until quay-postgres answers (a Type=simple unit is "started" before its container runs)', async t => {
  let asked = 0;
  const podman = { exec: async () => { if (++asked < 3) throw new Error('exited with code 125'); return { stdout: '', stderr: '' }; } } as unknown as Podman;
  await waitForPostgres(podman, 5_000, 1);
  t.equal(asked, 3);
  const never = { exec: async () => { throw new Error('exited with code 125'); } } as unknown as Podman;
  await t.rejects(waitForPostgres(never, 20, 1), /125/);
});
