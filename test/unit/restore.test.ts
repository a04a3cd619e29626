// mreg restore over the in-memory host (issue 14): a scope that already has an install is refused
// after the archive is checked and before anything is written; a restore's steps, in order, around
// up's. The archive port is faked: tar and gpg are the VM backup suite's.
import t, { type Test } from 'tap';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, QUAY_ROOT_PREFIX, type BackupManifest } from '../../src/backup/manifest.js';
import { restore } from '../../src/commands/restore.js';
import { UsageError } from '../../src/errors.js';
import type { ArchivePorts } from '../../src/actions/ports.js';
import { parseRecord, serializeRecord, type InstallRecord } from '../../src/install-spec/record.js';
import type { CommandContext } from '../../src/cli.js';
import type { UpHooks } from '../../src/commands/up.js';
import { restoreSteps } from '../../src/plan/restore-steps.js';
import { verifyChain } from '../../src/restore/chain.js';
import { clearTheWay } from '../../src/restore/existing.js';
import { stepLog } from '../../src/ui/step-log.js';
import { createOutput } from '../../src/ui/output.js';
import { createFakeHost, fakeContext, recordFile, type FakeHost } from '../support/fake-host.js';
import { probe, ROOT, runningInstall, UNITS } from '../support/running-install.js';

const BACKUP = '/backups/full.tar';

const manifest: BackupManifest = {
  format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, createdAt: '2026-02-01T00:00:00.000Z', mregVersion: '0.1.0',
  scope: 'rootless', hostname: 'registry.example.com', port: 8443, quayRoot: ROOT,
  images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' }, id: 'full-1', files: [],
};

/**
 * The archive port for a backup of `record`: verified as `manifest`. restore reads the small members from
 * its scratch folder with node:fs, so they are put there; `extracted` lists the folders.
 */
function fakeArchive(t: Test, record: InstallRecord, more: Record<string, string> = {}, damagedBlobs: string[] = []) {
  const extracted: string[] = [];
  t.teardown(() => Promise.all(extracted.map(d => rm(d, { recursive: true, force: true }))));
  const archive: Partial<ArchivePorts> = {
    source: async file => ({ file }),
    verify: async () => ({ manifest, files: 7, bytes: 0, damagedBlobs }),
    async extractSmallMembers(_src, dest) {
      extracted.push(dest);
      await mkdir(join(dest, QUAY_ROOT_PREFIX), { recursive: true });
      await writeFile(join(dest, QUAY_ROOT_PREFIX, 'mreg-install.json'), serializeRecord(record));
      for (const [name, content] of Object.entries(more)) await writeFile(join(dest, name), content);
    },
  };
  return { extracted, archive };
}

for (const [what, removed] of [['a running install', false], ['an install removed by mreg down, data kept', true]] as const) {
  t.test(`restore into a scope with ${what} is refused and changes nothing`, async t => {
    const state = runningInstall();
    const record = state.files[`${ROOT}/mreg-install.json`]!.content;
    if (removed) state.files[`${ROOT}/mreg-install.json`] = recordFile({ ...parseRecord(record, 'record'), removedAt: '2026-02-15T00:00:00.000Z' });
    const { extracted, archive } = fakeArchive(t, parseRecord(record, 'record'));
    const host = createFakeHost({ probe, state, archive });
    const before = structuredClone(host.state);
    const c = fakeContext(host, {});

    const err = await restore({ ...c.ctx, args: [BACKUP] }).then(() => undefined, (e: unknown) => e);
    t.type(err, UsageError);
    t.equal((err as UsageError).message, `this host already has ${removed ? 'an install removed by mreg down whose data was kept' : 'a registry'} at ${ROOT} (rootless); mreg restore never replaces one`);
    t.match((err as UsageError).hint, /^to replace it and delete its data, add --force/);
    t.equal(extracted.length, 1, 'refused after the archive was read');
    t.same(host.state, before, 'files, dirs, units, secrets and volumes as they were');
    t.same(host.calls, ['probe', `remove ${extracted[0]}`], 'no port call but removing its own scratch folder');
    t.notOk(host.isLocked());
  });
}

// --force deletes the install here, but only once every place the restore writes into passes: a folder
// or volume of the backup's that is taken here by something else refuses before the purge, not after it.
for (const [what, foreign] of [
  ['a storage folder that holds files of its own', (s: FakeHost['state'], r: InstallRecord) => {
    s.files['/data/quay/README'] = { content: 'not mreg', mode: 0o644 };
    r.spec.quayStorage = { kind: 'path', path: '/data/quay' };
  }],
  ['a podman volume that is not the install\'s', (s: FakeHost['state'], r: InstallRecord) => {
    s.volumes.push('other-blobs');
    r.spec.quayStorage = { kind: 'volume', name: 'other-blobs' };
  }],
] as const) {
  t.test(`restore --force where the backup's storage is ${what} here: refused before the install is deleted`, async t => {
    const state = runningInstall();
    const backedUp = parseRecord(state.files[`${ROOT}/mreg-install.json`]!.content, 'record');
    foreign(state, backedUp);
    const { archive } = fakeArchive(t, backedUp);
    const fake = createFakeHost({ probe, state, images: ['q:1', 'p:1', 'r:1'], archive });
    const podman = fake.podman();
    const host: FakeHost = { ...fake, podman: () => ({ ...podman, missingImages: podman.missingImages, volumeExists: async (n: string) => fake.state.volumes.includes(n) }) as never };
    const before = structuredClone(fake.state);
    const c = fakeContext(host, { force: true });

    const err = await restore({ ...c.ctx, args: [BACKUP] }).then(() => undefined, (e: unknown) => e);
    t.type(err, UsageError);
    t.match((err as UsageError).message, /^the backup's quayStorage \/data\/quay: not empty \(README\)|^podman volume other-blobs \(the backup's quayStorage\) exists/);
    t.equal((err as UsageError).hint, 'nothing was changed');
    t.same(fake.state, before, 'the install, its units, secrets, volumes and files are all still there');
    t.same(fake.calls.filter(c => !c.startsWith('remove /tmp/')), ['probe'], 'no port call but the probe and removing its own scratch folder');
  });
}

t.test('restore --force of this install\'s own backup: its quayRoot and volumes count as gone, so the install goes and the restore takes them', async t => {
  const state = runningInstall();
  const backedUp = parseRecord(state.files[`${ROOT}/mreg-install.json`]!.content, 'record');
  const fake = createFakeHost({ probe, state });
  const podman = fake.podman();
  const host: FakeHost = { ...fake, podman: () => ({ ...podman, volumeExists: async (n: string) => fake.state.volumes.includes(n) }) as never };
  const c = fakeContext(host, { force: true });
  const install = await host.findRecordedInstall(probe.scope, probe.home);
  const run = { out: c.ctx.out, log: stepLog(c.ctx.out), host, probe };

  const taken = await clearTheWay(run, { resuming: false, taken: [], install: install! }, ROOT, backedUp.spec);
  t.same(run.log.ran, ['replace-install'], 'the install was replaced');
  t.same(fake.state.volumes, [], 'its volumes went with it');
  t.notOk(fake.state.files[`${ROOT}/mreg-install.json`], 'and its record');
  t.ok(Array.isArray(taken));
});

t.test('a restore onto an empty host: its steps in restoreSteps\' order around up\'s, in one log; the stop\'s line last before the blobs go back', async t => {
  const backedUp = parseRecord(runningInstall().files[`${ROOT}/mreg-install.json`]!.content, 'record');
  const stderr: string[] = [];
  let beforeBlobs = '';
  const empty = { units: {}, files: {}, dirs: {}, secrets: [], volumes: [], containers: [], pods: [], linger: false };
  const { archive } = fakeArchive(t, backedUp, { 'secrets.json': '{"mreg-pg-password":"pw"}' });
  const fake = createFakeHost({
    probe, state: empty, images: ['q:1', 'p:1', 'r:1'],
    archive: { ...archive, async extractStorage() { beforeBlobs = stderr.join(''); } },
  });
  const podman = fake.podman();
  const host: FakeHost = { ...fake, podman: () => ({ ...podman, missingImages: podman.missingImages, exec: podman.exec, execFromFile: podman.execFromFile,
    volumeExists: async () => false, secretCreate: async (name: string) => void fake.calls.push(`secretCreate ${name}`) }) as never };
  // up is its own suite's: here it stands in with two of its steps, starts the units but quay-app (and
  // makes the volumes), runs restore's hook in place of its health wait, then its first user and record.
  const UP_SAMPLE = ['images-present', 'start:quay-postgres.service'];
  let appBeforeHook = '';
  const { restore: restoreWithUp } = await t.mockImport<typeof import('../../src/commands/restore.js')>('../../src/commands/restore.js', {
    '../../src/commands/up.js': {
      up: async (ctx: CommandContext, hooks: UpHooks) => {
        hooks.log!.did(...UP_SAMPLE);
        for (const u of UNITS) host.state.units[u] = u === 'quay-app.service' ? 'inactive' : 'active';
        host.state.volumes.push('quay-storage', 'pg-storage');
        const { systemd } = await host.actionPorts(probe);
        const spec = { ...backedUp.spec, quayRoot: ROOT };
        t.notOk(hooks.beforeReport, 'restore asks for no hook after the first user');
        appBeforeHook = host.state.units['quay-app.service']!;
        await hooks.beforeApp!({ systemd, spec, endpoint: { hostname: spec.hostname, port: spec.port }, podman: host.podman() });
        hooks.log!.did('keep-first-user', 'record');
        ctx.out.resultJson({ steps: hooks.log!.ran });
      },
    },
  });
  const c = fakeContext(host, {}, { json: true });
  const stdout: string[] = [];
  const out = createOutput({ json: true, verbose: true, color: false, env: {},
    stderr: new Writable({ write(chunk, _e, cb) { stderr.push(String(chunk)); cb(); } }), stdout: new Writable({ write(chunk, _e, cb) { stdout.push(String(chunk)); cb(); } }) });
  await restoreWithUp({ ...c.ctx, out, args: [BACKUP] });

  const expected = restoreSteps({ archives: [BACKUP], quayRoot: ROOT, hostname: backedUp.spec.hostname, port: backedUp.spec.port, quayStorage: backedUp.spec.quayStorage, images: ['q:1', 'p:1', 'r:1'] });
  const { steps } = JSON.parse(stdout.join('')) as { steps: string[] };
  t.same(steps, [...expected.before, ...UP_SAMPLE.map(id => ({ id })), ...expected.data, { id: 'keep-first-user' }, { id: 'record' }].map(s => s.id),
    'restore\'s steps before up, up\'s, restore\'s data steps, up\'s first user and record: one log, as --json reports it');
  t.equal(appBeforeHook, 'inactive', 'quay-app had not run when the data went back');
  t.equal(host.state.units['quay-app.service'], 'active', 'restore started it');
  t.equal(stderr.join(''), steps.map(id => `step ${id}\n`).join(''), '--verbose prints each as it ends');
  t.match(beforeBlobs, /step stop-unit:quay-app\.service\n$/, 'the quay-app stop is the last line before the blobs go back');
  t.notOk(host.state.files[`${ROOT}/restore-in-progress.json`], 'the marker is removed at the end');
});

t.test('a chain whose archive holds a blob that is not its digest: restored, with a warning naming it', async t => {
  const record = parseRecord(runningInstall().files[`${ROOT}/mreg-install.json`]!.content, 'record');
  const blob = 'storage/docker/registry/v2/blobs/sha256/ab/abcd/data';
  const { archive } = fakeArchive(t, record, {}, [blob]);
  const host = createFakeHost({ probe, state: runningInstall(), archive });
  const c = fakeContext(host, {});
  const chain = await verifyChain({ out: c.ctx.out, log: stepLog(c.ctx.out), host, probe }, [BACKUP], undefined);
  t.equal(chain.manifest.id, 'full-1', 'the chain goes on');
  t.match(c.stderr(), `${BACKUP}: 1 blob whose content does not match the digest in its name (${blob}): damaged in the registry when it was backed up, or in this file since; everything else in it checks; restored as they are`);
});

t.test('an object-storage restore says the registry it came from must not run on the same prefix (each one\'s GC deletes the other\'s blobs)', async t => {
  const { sharedPrefixWarning } = await import('../../src/restore/place.js');
  const line = sharedPrefixWarning({ kind: 's3', bucket: 'quay', prefix: 'mirror', endpoint: 'https://rgw.example:8443', credentialsFile: '/root/keys', keys: { accessKey: 'ACCESS-KEY-ID', secretKey: 'SECRET-ACCESS-KEY' } },
    { hostname: 'registry.example.com', port: 8443 });
  t.equal(line, 'the restored registry keeps its blobs where the backed-up one wrote them (s3://quay/mirror at https://rgw.example:8443): '
    + 'if the registry it was taken from (registry.example.com:8443) still runs on another host, stop it for good before this one deletes anything; two registries on one prefix delete each other\'s blobs');
  t.notMatch(line, /ACCESS-KEY-ID|SECRET-ACCESS-KEY/, 'no key in it');
});
