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

t.test('a stale lock found by three mregs at once: never two holders at the same time', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lock = join(dir, 'mreg.lock');
  for (let trial = 0; trial < 4; trial++) {
    writeFileSync(lock, `${deadPid()}\n`);
    // Time for the children to load before they all try at the same instant.
    const goAt = String(Date.now() + 3000);
    const outs = await Promise.all([1, 2, 3].map(() => run(process.execPath, ['--import', '@tapjs/typescript/import', CHILD, lock, goAt], { cwd: join(import.meta.dirname, '../..') })));
    const got = outs.map(o => o.stdout.trim());
    // On a loaded machine one may start after another's release and hold it in turn: legal. Two at once are not.
    const held = got.filter(g => g.startsWith('held ')).map(g => g.split(' ').slice(1).map(Number) as [number, number]).sort((a, b) => a[0] - b[0]);
    t.ok(held.length >= 1, `trial ${trial}: someone held it`, { got });
    const overlap = held.some(([from], i) => i > 0 && from < held[i - 1]![1]);
    if (!t.notOk(overlap, `trial ${trial}: never two holders at once`, { got })) break;
    t.equal(got.filter(g => g === 'refused').length + held.length, 3, 'each one held it or was refused');
  }
  t.same(readdirSync(dir), [], 'no lock, temp or aside file left');
});
