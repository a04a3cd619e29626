// mreg upgrade, pure parts: flags over the install record, what to restart, --timeout, and the --dry-run diff.
import t from 'tap';
import { upgradeSpec, upgradedRecord } from '../../src/upgrade/spec.js';
import { changesToMake } from '../../src/upgrade/files.js';
import { imageChanges, restartedWith, restartRoots, servicesToRestart } from '../../src/plan/upgrade-steps.js';
import { parseTimeout } from '../../src/install-spec/flags.js';
import { diffLines, unifiedDiff } from '../../src/apply/unit-diff.js';
import { RECORD_SCHEMA_VERSION, type InstallRecord } from '../../src/install-spec/record.js';
import { UsageError } from '../../src/errors.js';
import { VERSION } from '../../src/version.js';
import { readIfExists } from '../../src/host/fs.js';
import type { Plan } from '../../src/plan/plan.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const images = { quay: 'localhost/mreg-test/quay:v1', postgres: 'localhost/mreg-test/postgres:15', redis: 'localhost/mreg-test/redis:7' };
const record: InstallRecord = {
  schemaVersion: RECORD_SCHEMA_VERSION, mregVersion: '0.1.0', createdAt: 'x', updatedAt: 'y',
  spec: {
    scope: 'rootful', hostname: 'reg.example.com', port: 9443, quayRoot: '/srv/quay',
    quayStorage: { kind: 'path', path: '/srv/blobs' }, pgStorage: { kind: 'volume', name: 'pg-storage' },
    tls: { kind: 'generate' }, initUser: 'admin', images, imageArchive: '/root/old.tar',
  },
  files: [], secrets: [], volumes: ['pg-storage'], lingerEnabledByMreg: false,
};

t.test('upgradeSpec keeps every recorded input and replaces only the given images', async t => {
  const spec = upgradeSpec(record, { quayImage: 'localhost/mreg-test/quay:v2' }, '/root');
  const { imageArchive: _old, ...kept } = record.spec;
  t.same(spec, { ...kept, images: { ...images, quay: 'localhost/mreg-test/quay:v2' } });
  t.notOk('imageArchive' in spec, 'the old archive is not loaded again');
  t.same(upgradeSpec(record, {}, '/root').images, images, 'no flag: recorded images');
  const withArchive = upgradeSpec(record, { imageArchive: '/root/new.tar', redisImage: 'localhost/mreg-test/redis:8' }, '/root');
  t.equal(withArchive.imageArchive, '/root/new.tar');
  t.equal(withArchive.images.redis, 'localhost/mreg-test/redis:8');
});

t.test('upgradeSpec checks image references as mreg up does', async t => {
  t.throws(() => upgradeSpec(record, { quayImage: 'Not A Ref' }, '/root'), UsageError);
  t.throws(() => upgradeSpec(record, { quayImage: true }, '/root'), { message: /--quayImage needs a value/ });
});

t.test('upgradedRecord: the new images (and archive) and PostgreSQL check, stamped with the time it is given', async t => {
  const now = new Date('2026-12-05T21:00:00Z');
  const spec = upgradeSpec(record, { imageArchive: '/root/new.tar', quayImage: 'localhost/mreg-test/quay:v2' }, '/root');
  const pgData = { imageId: 'abc', major: 15 } as unknown as InstallRecord['pgData'];
  const up = upgradedRecord(record, spec, pgData, now, []);
  t.equal(up.updatedAt, '2026-12-05T21:00:00.000Z');
  t.equal(up.mregVersion, VERSION);
  t.same(up.spec, { ...record.spec, images: spec.images, imageArchive: '/root/new.tar' }, 'every other recorded input kept');
  t.same(up.pgData, pgData);
  t.equal(upgradedRecord(record, upgradeSpec(record, {}, '/root'), undefined, now, []).spec.imageArchive, '/root/old.tar', 'no archive given: the recorded one stays');
  t.equal(record.updatedAt, 'y', 'the read record is not changed');
});

t.test('imageChanges names each changed image', async t => {
  t.same(imageChanges(images, images), []);
  t.same(imageChanges(images, { ...images, quay: 'q:2' }), ['quay: localhost/mreg-test/quay:v1 → q:2']);
});

t.test('servicesToRestart: only the services of changed files, in start order', async t => {
  t.same(servicesToRestart(['/etc/containers/systemd/quay-app.container']), ['quay-app.service']);
  t.same(servicesToRestart(['/etc/containers/systemd/quay-app.container', '/etc/containers/systemd/quay-postgres.container']),
    ['quay-postgres.service', 'quay-app.service']);
  t.same(servicesToRestart(['/srv/quay/quay-config/config.yaml']), ['quay-app.service']);
  t.same(servicesToRestart(['/etc/containers/systemd/pg-storage.volume']), [], 'volumes are not restarted');
  t.same(servicesToRestart([]), []);
});

t.test('parseTimeout: seconds → ms, default 600 s, bad values are usage errors', async t => {
  t.equal(parseTimeout(undefined), 600_000);
  t.equal(parseTimeout('90'), 90_000);
  t.equal(parseTimeout('86400'), 86_400_000, 'a day, the most');
  // Above 2^31-1 ms a Node timer fires at once: an upgrade would roll back as soon as it wrote its files.
  for (const bad of ['0', '-5', '1.5', 'soon', '', '86401', '2147484', '9'.repeat(400)]) t.throws(() => parseTimeout(bad), UsageError, bad);
});

t.test('diffLines and unifiedDiff', async t => {
  const a = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n';
  const b = 'one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\nnine\nten\n';
  t.same(diffLines('a\nb\n', 'a\nc\n'), [{ op: ' ', text: 'a' }, { op: '-', text: 'b' }, { op: '+', text: 'c' }]);
  t.equal(unifiedDiff('/f', a, a), '', 'equal files: no diff');
  t.equal(unifiedDiff('/f', a, b, 1), ['--- /f', '+++ /f', '@@', ' three', '-four', '+FOUR', ' five', '@@', ' nine', '+ten'].join('\n'));
  t.equal(unifiedDiff('/f', undefined, 'x\n'), ['--- /dev/null', '+++ /f', '@@', '+x'].join('\n'), 'new file');
});

t.test('changesToMake: the files that differ on disk; none differ but the images do: resume from the recorded files', async t => {
  const dir = t.testdir();
  const app = join(dir, 'quay-app.container'), redis = join(dir, 'quay-redis.container');
  const planOf = (quay: string): Plan => ({ files: [
    { path: app, content: `Image=${quay}\n`, mode: 0o644, sensitive: false, kind: 'quadlet' },
    { path: redis, content: 'Image=redis:7\n', mode: 0o644, sensitive: false, kind: 'quadlet' },
  ], secrets: [], volumes: [], selinuxLabels: [], services: [], pod: 'quay-pod.service' });
  const onDisk = (quay: string) => { mkdirSync(dir, { recursive: true }); writeFileSync(app, `Image=${quay}\n`); writeFileSync(redis, 'Image=redis:7\n'); };
  const summary = async (images: boolean) => {
    const r = await changesToMake(readIfExists, planOf('quay:v2'), () => planOf('quay:v1'), images);
    return { resuming: r.resuming, changes: r.changes.map(c => [c.path, c.before]) };
  };
  onDisk('quay:v1');
  t.same(await summary(true), { resuming: false, changes: [[app, 'Image=quay:v1\n']] }, 'a new upgrade: the file on disk is "before"');
  onDisk('quay:v2');
  t.same(await summary(true), { resuming: true, changes: [[app, 'Image=quay:v1\n']] }, 'killed after writing: the recorded images\' file is "before"');
  t.same(await summary(false), { resuming: false, changes: [] }, 'same images and files: nothing to change');
});

t.test('restartRoots: the lowest changed units; systemd carries the restart to what depends on them, once', async t => {
  const [pod, pg, redis, app] = ['quay-pod.service', 'quay-postgres.service', 'quay-redis.service', 'quay-app.service'];
  t.same(restartRoots([app]), [app]);
  t.same(restartRoots([pg, app]), [pg], 'quay-app Requires= postgres: its restart comes with postgres\'s');
  t.same(restartRoots([pg, redis, app]), [pg, redis]);
  t.same(restartRoots([redis]), [redis]);
  t.same(restartRoots([pod, pg, app]), [pod], 'the containers are bound to the pod');
  t.same(restartRoots([]), []);
  t.same(restartedWith([pg]), [pg, app], 'what a postgres restart restarts');
  t.same(restartedWith([pg, redis]), [pg, redis, app]);
  t.same(restartedWith([app]), [app]);
  t.same(restartedWith([pod]), [pod, pg, redis, app]);
  t.same(restartedWith([]), []);
});
