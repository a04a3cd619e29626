// The run lock (host/fs.ts acquireLock) on a real file system: a lock left by a dead process is taken
// over by exactly one of the mregs that find it, never by two.
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CHILD = join(import.meta.dirname, '../support/lock-child.ts');
const deadPid = (): number => spawnSync('true').pid!;

t.test('a stale lock found by three mregs at once: one takes it, the others are refused', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lock = join(dir, 'mreg.lock');
  for (let trial = 0; trial < 4; trial++) {
    writeFileSync(lock, `${deadPid()}\n`);
    // Time for the children to load before they all try at the same instant.
    const goAt = String(Date.now() + 3000);
    const outs = await Promise.all([1, 2, 3].map(() => run(process.execPath, ['--import', '@tapjs/typescript/import', CHILD, lock, goAt], { cwd: join(import.meta.dirname, '../..') })));
    const got = outs.map(o => o.stdout.trim()).sort();
    if (!t.same(got, ['held', 'refused', 'refused'], `trial ${trial}: exactly one holder`)) break;
  }
  t.same(readdirSync(dir), [], 'no lock, temp or aside file left');
});
