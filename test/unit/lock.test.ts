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

// The same race, made to happen every time: mreg B read the dead pid; before B removes that stale lock, A takes
// it over; right after B's removal step, C tries its own lock. B used to move the lock aside (A's, by then) and
// link it back when it saw it was not the stale one: C's lock appeared in between, the link back failed, and A
// and C both held the lock (CI caught it once in the test above). A's lock must survive whatever B does.
t.test('a stale lock another mreg took over between the read and the removal: that mreg keeps it, no third one gets in', async t => {
  const { spawn } = await import('node:child_process');
  const real = await import('node:fs/promises');
  const { linkSync, readFileSync } = await import('node:fs');
  const live = () => { const c = spawn('sleep', ['30'], { stdio: 'ignore' }); t.teardown(() => c.kill()); return c.pid!; };
  const [pidA, pidC] = [live(), live()];
  const dir = mkdtempSync(join(tmpdir(), 'mreg-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lock = join(dir, 'mreg.lock');
  const tmpC = join(dir, 'c.tmp');
  writeFileSync(lock, `${deadPid()}\n`);
  writeFileSync(tmpC, `${pidC}\n`);
  let removing = false;
  const aTakesOver = () => { if (!removing) { removing = true; writeFileSync(lock, `${pidA}\n`); } };
  const cTries = () => { try { linkSync(tmpC, lock); } catch { /* EEXIST: held */ } };
  // B's first step after reading the dead pid, in either way of removing a stale lock: a rename, or the breaker.
  const fsB = {
    ...real,
    rename: async (from: string, to: string) => { aTakesOver(); await real.rename(from, to); cTries(); },
    link: async (from: string, to: string) => { if (to.endsWith('.break')) { aTakesOver(); await real.link(from, to); cTries(); return; } return real.link(from, to); },
  };
  const { acquireLock } = await t.mockImport<typeof import('../../src/host/fs.js')>('../../src/host/fs.js', { 'node:fs/promises': fsB });
  await t.rejects(acquireLock(lock), { name: 'HostError', message: new RegExp(`another mreg \\(pid ${pidA}\\) is running`) }, 'B is refused, naming A');
  t.ok(removing, 'B got as far as removing the stale lock');
  t.equal(readFileSync(lock, 'utf8'), `${pidA}\n`, 'A still holds the lock: C never got in');
  t.same(readdirSync(dir).sort(), ['c.tmp', 'mreg.lock'], 'no temp, aside or breaker file of B left');
});

t.test('a breaker left by an mreg killed while taking over a stale lock: refused, naming both files to remove', async t => {
  const { acquireLock } = await import('../../src/host/fs.js');
  const dir = mkdtempSync(join(tmpdir(), 'mreg-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lock = join(dir, 'mreg.lock');
  writeFileSync(lock, `${deadPid()}\n`);
  writeFileSync(`${lock}.break`, `${deadPid()}\n`);
  await t.rejects(acquireLock(lock), { name: 'HostError', message: /killed while taking it over/, hint: new RegExp(`remove ${lock}\\.break and ${lock}, then retry`) });
  t.same(readdirSync(dir).sort(), ['mreg.lock', 'mreg.lock.break'], 'nothing else left, nothing removed');
});
