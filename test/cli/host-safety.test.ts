// `mreg up --dry-run` refuses the folders mreg must never take, on any machine, before anything else:
// exit 2, one line naming the flag and the fix, nothing written. (The VM suite proves the same on a
// real host for the real run, host-safety.test.ts there.)
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const MAIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
const drop = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

const home = mkdtempSync(join(tmpdir(), 'mreg-cli-safety-'));
chmodSync(home, 0o777);
t.teardown(() => rmSync(home, { recursive: true, force: true }));
mkdirSync(join(home, 'full'));
writeFileSync(join(home, 'full', 'keep-me.txt'), 'mine\n');
mkdirSync(join(home, 'empty'));
chmodSync(join(home, 'empty'), 0o777);

async function up(...args: string[]) {
  const env = ['-i', 'PATH=/usr/local/bin:/usr/bin:/bin', `HOME=${home}`, 'LANG=C.UTF-8'];
  const r = await execa('env', [...env, process.execPath, MAIN, 'up', '--dry-run', '--quayHostname', 'registry.example.com', ...args],
    { reject: false, cwd: tmpdir(), timeout: 60_000, ...drop });
  return { code: r.exitCode, errors: r.stderr.split('\n').filter(l => l.startsWith('mreg: error:')), stderr: r.stderr };
}

const ROWS: Array<[string, string[], RegExp]> = [
  ['/etc as quayRoot', ['--quayRoot', '/etc'], /^mreg: error: --quayRoot \/etc: is a system folder, which mreg never takes over; give a dedicated folder, e\.g\. --quayRoot \/srv\/quay-install$/],
  ['/opt as storage', ['--quayStorage', '/opt'], /^mreg: error: --quayStorage \/opt: is a system folder/],
  ['/usr/local as storage', ['--pgStorage', '/usr/local'], /^mreg: error: --pgStorage \/usr\/local: is a system folder/],
  ['the home as quayRoot', ['--quayRoot', home], /is a home directory/],
  ['a file as storage', ['--quayStorage', '/etc/hostname'], /^mreg: error: --quayStorage \/etc\/hostname: exists and is not a directory; give a new or empty directory$/],
  ['a folder with files', ['--quayStorage', join(home, 'full')], /not empty \(keep-me\.txt\) and not an mreg install's; give a new or empty directory/],
  ['a folder under /run', ['--pgStorage', '/run/quay-pg'], /is under \/run, which does not keep data across a reboot/],
];

for (const [what, args, line] of ROWS) {
  t.test(`${what}: exit 2, one line, nothing written`, async t => {
    const r = await up(...args);
    t.equal(r.code, 2, 'exit 2', { stderr: r.stderr });
    t.equal(r.errors.length, 1, 'one error line', { stderr: r.stderr });
    t.match(r.errors[0], line);
    t.notOk(existsSync(join(home, 'quay-install')), 'no quayRoot written');
  });
}

t.test('an empty folder (and a new one) is fine', async t => {
  const r = await up('--quayStorage', join(home, 'empty'), '--pgStorage', join(home, 'new', 'pg'));
  t.equal(r.code, 0, 'dry run exits 0', { stderr: r.stderr });
});

t.test('units mreg has no record of are refused: its own Quadlet files without a record, and mirror-registry\'s leftovers', async t => {
  for (const [file, line] of [
    ['.config/containers/systemd/quay-app.container', /quay-app\.container exists, but this scope has no mreg install record/],
    ['.config/systemd/user/quay-app.service', /quay-app\.service exists: a mirror-registry install \(or what its uninstall left\) whose units would shadow mreg's/],
  ] as const) {
    const path = join(home, file);
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o777 });
    writeFileSync(path, '[Service]\nExecStart=/usr/bin/podman run quay\n');
    const r = await up();
    rmSync(path);
    t.equal(r.code, 2, `${file}: exit 2`, { stderr: r.stderr });
    t.match(r.errors[0], line);
    t.match(r.stderr, /hint: .*mreg adopt/);
  }
});
