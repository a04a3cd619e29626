// mreg restore over the in-memory host (issue 14): a scope that already has an install is refused
// after the archive is checked and before anything is written. The archive port is faked: tar and gpg
// are the VM backup suite's.
import t from 'tap';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, QUAY_ROOT_PREFIX, type BackupManifest } from '../../src/backup/manifest.js';
import { restore } from '../../src/commands/restore.js';
import { UsageError } from '../../src/errors.js';
import { parseRecord, serializeRecord } from '../../src/install-spec/record.js';
import { createFakeHost, fakeContext, recordFile } from '../support/fake-host.js';
import { probe, ROOT, runningInstall } from '../support/running-install.js';

const BACKUP = '/backups/full.tar';

const manifest: BackupManifest = {
  format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, createdAt: '2026-02-01T00:00:00.000Z', mregVersion: '0.1.0',
  scope: 'rootless', hostname: 'registry.example.com', port: 8443, quayRoot: ROOT,
  images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' }, id: 'full-1', files: [],
};

for (const [what, removed] of [['a running install', false], ['an install removed by mreg down, data kept', true]] as const) {
  t.test(`restore into a scope with ${what} is refused and changes nothing`, async t => {
    const state = runningInstall();
    const record = state.files[`${ROOT}/mreg-install.json`]!.content;
    if (removed) state.files[`${ROOT}/mreg-install.json`] = recordFile({ ...parseRecord(record, 'record'), removedAt: '2026-02-15T00:00:00.000Z' });
    const extracted: string[] = [];
    const host = createFakeHost({
      probe, state,
      archive: {
        source: async file => ({ file }),
        verify: async () => ({ manifest, files: 0, bytes: 0 }),
        // restore reads the backed-up record from its scratch folder with node:fs: put it there.
        async extractSmallMembers(_src, dest) {
          extracted.push(dest);
          await mkdir(join(dest, QUAY_ROOT_PREFIX), { recursive: true });
          await writeFile(join(dest, QUAY_ROOT_PREFIX, 'mreg-install.json'), serializeRecord(parseRecord(record, 'record')));
        },
      },
    });
    t.teardown(() => Promise.all(extracted.map(d => rm(d, { recursive: true, force: true }))));
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
