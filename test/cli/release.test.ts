// The release tarball as a user unpacks it: the man pages are in it, and the README's install line for
// them works (run here into a temporary prefix; the test guest has no man-db). See test/support/release.ts.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { freshRelease, RELEASE_NAME, RELEASE_TARBALL } from '../support/release.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = readdirSync(join(ROOT, 'man')).filter(f => f.endsWith('.1')).sort();
const SYSTEM_MAN_DIR = '/usr/local/share/man';

t.setTimeout(10 * 60_000);
await freshRelease();

/** The tarball unpacked into a temporary folder; returns the release folder in it. */
async function unpack(t: { teardown(fn: () => void): void }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-release-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await execa('tar', ['-xzf', RELEASE_TARBALL, '-C', dir]);
  return join(dir, RELEASE_NAME);
}

t.test('the tarball holds every man page of man/, unchanged', async t => {
  t.ok(PAGES.includes('mreg.1') && PAGES.includes('mreg-up.1'), 'man/ has mreg.1 and mreg-up.1');
  const listing = (await execa('tar', ['-tzvf', RELEASE_TARBALL])).stdout.split('\n');
  const rel = await unpack(t);
  for (const page of PAGES) {
    const line = listing.find(l => l.endsWith(` ${RELEASE_NAME}/man/${page}`)) ?? '';
    t.match(line, /^-rw-r--r-- /, `${page}: a plain file, mode 0644`, { listing });
    t.equal(readFileSync(join(rel, 'man', page), 'utf8'), readFileSync(join(ROOT, 'man', page), 'utf8'), `${page}: same as man/${page}`);
  }
  t.same(readdirSync(join(rel, 'man')).sort(), PAGES, 'nothing else in man/');
});

t.test('the README says how to read and install the man pages, and both work', async t => {
  const rel = await unpack(t);
  const readme = readFileSync(join(rel, 'README'), 'utf8');
  t.notMatch(readme, /no man pages/i, 'does not say that there are none');
  const lines = readme.split('\n').map(l => l.trim());
  const read = lines.find(l => l.startsWith('man -l man/'))?.split('#')[0]?.trim();
  const install = lines.find(l => l.startsWith('sudo install ') && l.includes('man/*.1'));
  t.ok(read, 'a `man -l man/…` line', { readme });
  t.ok(install, 'one `sudo install … man/*.1` line', { readme });
  if (!read || !install) return;
  t.ok(install.includes(`${SYSTEM_MAN_DIR}/man1`), `installs into ${SYSTEM_MAN_DIR}/man1, where man looks by default`);
  const projectReadme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  t.ok(projectReadme.includes(install), 'the project README gives the same install line');

  // man-db's seccomp sandbox can be refused inside containers; formatting is the same without it.
  const env = { MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80', MAN_DISABLE_SECCOMP: '1', LANG: 'C.UTF-8' };
  const shown = await execa('bash', ['-c', read], { cwd: rel, env, reject: false });
  t.equal(shown.exitCode, 0, `${read} exits 0`, { stderr: shown.stderr });
  t.match(shown.stdout, /mreg-up - install or repair/, `${read} shows the page`);

  // The same command, without sudo and into a temporary prefix instead of /usr/local/share/man.
  const prefix = mkdtempSync(join(tmpdir(), 'mreg-man-'));
  t.teardown(() => rmSync(prefix, { recursive: true, force: true }));
  const asTest = install.replace(/^sudo /, '').replace(SYSTEM_MAN_DIR, join(prefix, 'share/man'));
  const inst = await execa('bash', ['-c', asTest], { cwd: rel, reject: false });
  t.equal(inst.exitCode, 0, `${asTest} exits 0`, { stderr: inst.stderr });
  t.same(readdirSync(join(prefix, 'share/man/man1')).sort(), PAGES, 'every page installed');
  for (const [page, name] of [['mreg-up', /mreg-up - install or repair/], ['mreg', /^NAME/m]] as const) {
    const r = await execa('man', ['-M', join(prefix, 'share/man'), page], { env, reject: false });
    t.equal(r.exitCode, 0, `man ${page} finds the installed page`, { stderr: r.stderr });
    t.match(r.stdout, name, `man ${page} shows it`);
  }
});
