// The step lists of backup, restore and storage migrate (plan/backup-steps.ts, restore-steps.ts,
// migrate-steps.ts): the ids `--json` reports and --verbose prints, in the order the commands run them,
// and up's ids where a step is of up's kind. The runs are in backup-flow, restore and migrate-flow.test.ts.
import t from 'tap';
import { BACKUP_STEP, backupSteps } from '../../src/plan/backup-steps.js';
import { MIGRATE_STEP, migrateSteps } from '../../src/plan/migrate-steps.js';
import { RESTORE_STEP, restoreSteps } from '../../src/plan/restore-steps.js';
import { UP_STEP } from '../../src/plan/up-steps.js';
import type { ObjectStorage } from '../../src/install-spec/spec.js';

const ids = (steps: { id: string }[]) => steps.map(s => s.id);
const VOLUME = { kind: 'volume', name: 'quay-storage' } as const;
const BUCKET: ObjectStorage = { kind: 's3', bucket: 'quay-blobs', prefix: 'mirror', endpoint: 'https://s3.example.com', credentialsFile: '/root/s3.ini' };

t.test('backup to a file: dump and install files, the listing, the space check, the manifest right before the write, then status\'s record', async t => {
  const steps = backupSteps({ output: '/b/x.tar', staging: '/b/.x.tar.mreg-staging', quayStorage: VOLUME, lastBackup: '/q/last-backup.json', encrypted: true });
  t.same(ids(steps), ['db-dump', 'install-files', 'list-storage', 'free-space', 'manifest', 'write:/b/x.tar', 'last-backup']);
  t.equal(BACKUP_STEP.write('/b/x.tar'), UP_STEP.write('/b/x.tar'), 'the archive write is up\'s kind of id');
  t.match(steps.find(s => s.id === 'write:/b/x.tar')?.text, /encrypted with gpg\) to \/b\/x\.tar\.partial, then rename it to \/b\/x\.tar$/);
  t.match(steps.find(s => s.id === 'list-storage')?.text, /quay-storage, after the dump so that every blob it refers to is listed$/);
});

t.test('backup to stdout: no space check, `write:-`; an object store\'s blobs are not listed', async t => {
  const steps = backupSteps({ output: '-', staging: '/q/backup-staging', quayStorage: BUCKET, lastBackup: '/q/last-backup.json', encrypted: false });
  t.same(ids(steps), ['db-dump', 'install-files', 'list-storage', 'manifest', 'write:-', 'last-backup']);
  t.match(steps.find(s => s.id === 'list-storage')?.text, /^no blobs: they stay in s3:\/\/quay-blobs/);
});

t.test('restore: each backup verified, the images, the install files; the data steps, with the quay-app stop first', async t => {
  const { before, data } = restoreSteps({ archives: ['/b/full.tar', '/b/inc.tar'], quayRoot: '/q', hostname: 'registry.example.com', port: 8443, quayStorage: VOLUME, imageArchive: '/i.tar', replaces: '/old', images: ['q:1', 'p:1', 'r:1'] });
  t.same(ids(before), ['verify:/b/full.tar', 'verify:/b/inc.tar', UP_STEP.loadImages, UP_STEP.images, 'replace-install', 'restore-install-files']);
  t.same(ids(data), ['stop-unit:quay-app.service', 'restore-blobs', 'restore-database', UP_STEP.start('quay-app.service'), UP_STEP.health, 'remove-restore-marker']);
  t.equal(data.find(s => s.id === UP_STEP.health)?.text, 'wait for https://registry.example.com:8443/health/instance', 'the health step names its address, as up\'s does');
  t.equal(RESTORE_STEP.verify('/f'), BACKUP_STEP.verify('/f'), 'backup --verify and restore verify alike');
});

t.test('restore of an object-storage install: its bucket checked, no blobs to extract; no archive, no --force', async t => {
  const { before, data } = restoreSteps({ archives: ['/b/full.tar'], quayRoot: '/q', hostname: 'registry.example.com', port: 8443, quayStorage: BUCKET, images: ['q:1'] });
  t.same(ids(before), ['verify:/b/full.tar', UP_STEP.objectStorage, UP_STEP.images, 'restore-install-files']);
  t.notOk(ids(data).includes(RESTORE_STEP.blobs));
});

t.test('storage migrate: the checks, the scratch reset right before the copy, the last pass with quay-app stopped, the record, then up', async t => {
  const steps = migrateSteps({ from: VOLUME, to: BUCKET, root: '/v/_data', scratch: '/q/migrate-scratch', record: '/q/mreg-install.json', createBucket: true });
  t.same(ids(steps), [UP_STEP.objectStorage, 'compare-bucket', 'migrate-scratch', 'copy-blobs', 'stop-unit:quay-app.service', 'copy-changed', 'record-bucket', 'up']);
  t.equal(MIGRATE_STEP.stopApp, RESTORE_STEP.stopApp, 'the same stop as restore\'s');
  t.match(steps[0]?.text, /\(created if not\)/);
});
