// The backup's last step: the archive's bytes reach the disk before it gets its name, and the name before
// "backup written" (a power cut after it must not leave an empty or missing file under that name).
import t from 'tap';
import * as fs from 'node:fs/promises';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FilePorts } from '../../src/actions/ports.js';

t.test('writeComplete: fsync of the archive, rename, fsync of its folder, in that order', async t => {
  const events: string[] = [];
  const realHostFs = await import('../../src/host/fs.js');
  const syncPath = async (path: string) => { events.push(`sync ${path}`); return realHostFs.syncPath(path); };
  const rename = async (from: string, to: string) => { events.push(`rename ${from} ${to}`); return fs.rename(from, to); };
  const { writeComplete } = await t.mockImport<typeof import('../../src/backup/target.js')>('../../src/backup/target.js', {
    'node:fs/promises': { ...fs, rename },
    '../../src/host/fs.js': { ...realHostFs, syncPath },
  });
  const dir = await mkdtemp(join(tmpdir(), 'mreg-backup-target-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = { remove: (p: string) => rm(p, { force: true }) } as unknown as FilePorts;
  const output = join(dir, 'b.tar');
  await writeComplete(files, output, async target => { events.push('write'); await writeFile(target, 'archive'); });
  t.same(events, ['write', `sync ${output}.partial`, `rename ${output}.partial ${output}`, `sync ${dir}`]);
  t.equal(await readFile(output, 'utf8'), 'archive');
});

t.test('writeComplete: a failed write leaves no file under the name and syncs nothing', async t => {
  const { writeComplete } = await import('../../src/backup/target.js');
  const dir = await mkdtemp(join(tmpdir(), 'mreg-backup-target-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = { remove: (p: string) => rm(p, { force: true }) } as unknown as FilePorts;
  await t.rejects(writeComplete(files, join(dir, 'b.tar'), async () => { throw new Error('tar failed'); }), /tar failed/);
  t.same(await fs.readdir(dir), [], 'neither the archive nor its .partial');
});
