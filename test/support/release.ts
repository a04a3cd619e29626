// The release that users run (dist/release, from .ci/bundle.mjs), made fresh for host-side tests.
// test/run.mjs builds it before the unit and CLI tests; a bare `npx tap test/cli` builds it here when it
// is missing or older than its sources. A failed build fails the test run: it is never skipped.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
export const RELEASE_NAME = `mreg-${VERSION}-linux-x86_64`;
export const RELEASE_EXE = join(ROOT, 'dist/release/mreg');
export const RELEASE_TARBALL = join(ROOT, `dist/release/${RELEASE_NAME}.tar.gz`);
// Everything .ci/bundle.mjs reads from this checkout.
const SOURCES = ['src', 'man', 'units', 'package.json', 'package-lock.json', '.ci/bundle.mjs'];
// Several test files may ask at once: one builds, the others wait for it. The lock holds the builder's
// pid, so a lock left by a killed run (tap's timeout) is taken over instead of waited for.
const LOCK = join(ROOT, 'dist/.release-build.lock');
const LOCK_WAIT_MS = 10 * 60_000;

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map(n => newestMtime(join(path, n))));
}

function isFresh(): boolean {
  const sources = Math.max(...SOURCES.map(p => newestMtime(join(ROOT, p))));
  return [RELEASE_EXE, RELEASE_TARBALL].every(f => existsSync(f) && statSync(f).mtimeMs >= sources);
}

/** Makes sure dist/release holds an executable and tarball built from the current sources. */
export async function freshRelease(): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  for (;;) {
    if (isFresh()) return;
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!holderAlive()) { rmSync(LOCK, { force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`${LOCK} is still held after ${LOCK_WAIT_MS / 60_000} min by a bundle build`);
      await new Promise(r => setTimeout(r, 1000));
    }
  }
  try {
    if (isFresh()) return;
    // Without tap's NODE_OPTIONS: bundle.mjs runs the new executable, which would load tap's hooks.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const r = await execa(process.execPath, [join(ROOT, '.ci/bundle.mjs')], { cwd: ROOT, env, extendEnv: false, reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`node .ci/bundle.mjs exited ${r.exitCode}; the release executable could not be built:\n${r.all}`);
  } finally {
    rmSync(LOCK, { force: true });
  }
}

function holderAlive(): boolean {
  try {
    const since = Date.now() - statSync(LOCK).mtimeMs;
    const pid = Number(readFileSync(LOCK, 'utf8'));
    // Created but its pid not yet written: give the writer a moment.
    if (!(pid > 0)) return since < 5000;
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists (another user's process); anything else (ENOENT, ESRCH): no holder.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
