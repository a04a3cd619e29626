// The built CLI as a user meets it: help, version, usage errors, up --dry-run, --json, colour.
// Help, version and usage errors run against both builds: `node dist/main.js` and the release executable
// (dist/release/mreg, minified by esbuild), which is what users run.
// Needs `npm run build` first; the release is built here if it is missing or stale (test/support/release.ts).
// Nothing here needs podman or systemd, and nothing may change the host.
import t from 'tap';
import { chmodSync, chownSync, existsSync, lstatSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { GLOBAL_FLAGS, flagsFor, type CommandName } from '../../src/options-table.js';
import { freshRelease, RELEASE_EXE } from '../support/release.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist/main.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const COMMANDS: CommandName[] = ['up', 'down', 'status', 'logs'];
const ANSI = /\u001b\[/;
const HOSTNAME = 'registry.example.com';
const QUADLET_FILES = ['quay.pod', 'quay-postgres.container', 'quay-redis.container', 'quay-app.container', 'quay-storage.volume', 'pg-storage.volume'];

// As root, run as nobody so `up --dry-run` takes the rootless path inside a temp HOME, and any stray write
// outside that HOME fails instead of landing in /etc.
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
// Building the release takes about half a minute; the default per-file timeout is 30 s.
t.setTimeout(10 * 60_000);
await freshRelease();

/** The two ways to start mreg: the compiled sources and the single-file release executable. */
const BUILDS: Array<{ name: string; argv: string[] }> = [
  { name: 'node dist/main.js', argv: [process.execPath, MAIN] },
  { name: 'release executable', argv: [RELEASE_EXE] },
];

/** A fresh HOME the child user can write to, removed after the test. */
function tempHome(t: { teardown(fn: () => void): void }): string {
  const home = mkdtempSync(join(tmpdir(), 'mreg-cli-'));
  chmodSync(home, 0o777);
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

interface RunOpts {
  home?: string; env?: Record<string, string>; asUser?: boolean; build?: string[];
  /** Argv that starts env(1) and the CLI as its "$@", e.g. a shell that pipes the CLI's output somewhere. */
  launcher?: string[];
}

interface Run { exitCode: number | undefined; stdout: string; stderr: string }

/** Runs the CLI with a minimal environment (no developer XDG_* or NO_COLOR leaking in), stdio piped. */
async function mreg(args: string[], opts: RunOpts = {}): Promise<Run> {
  const env: Record<string, string> = {
    // A PATH without /root/* entries: an unreadable PATH directory makes spawn fail with EACCES.
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: opts.home ?? tmpdir(),
    LANG: 'C.UTF-8',
    ...opts.env,
  };
  const drop = opts.asUser !== false && isRoot ? { uid: NOBODY, gid: NOBODY } : {};
  const [file, ...pre] = [...(opts.launcher ?? []), 'env'];
  const r = await execa(file!, [...pre, ...cleanEnv(env, [...(opts.build ?? BUILDS[0]!.argv), ...args])], { reject: false, cwd: tmpdir(), timeout: 20_000, ...drop });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/**
 * argv for env(1) that starts `command` with exactly `vars`. tap's processinfo adds NODE_OPTIONS to every
 * child it sees; the CLI must run without it (as nobody it cannot write .tap/, and it is not the user's setup).
 */
function cleanEnv(vars: Record<string, string>, command: string[]): string[] {
  return ['-i', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ...command];
}

/** Every entry under dir with type, size, mode and mtime, so any write shows as a difference. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = lstatSync(p);
      out.push(`${p.slice(dir.length)} ${s.isDirectory() ? 'd' : 'f'} ${s.size} ${s.mode.toString(8)} ${s.mtimeMs}`);
      if (s.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** Long alphanumeric tokens mixing upper case, lower case and digits: what generated secrets look like. */
function secretLooking(text: string): string[] {
  return (text.match(/\b[A-Za-z0-9]{20,}\b/g) ?? []).filter(w => /[a-z]/.test(w) && /[A-Z]/.test(w) && /[0-9]/.test(w));
}

/** Runs the jobs at most `n` at a time; results in job order. */
async function inBatches<T>(jobs: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < jobs.length; i += n) results.push(...await Promise.all(jobs.slice(i, i + n).map(j => j())));
  return results;
}

const errorLines = (stderr: string) => stderr.split('\n').filter(l => l.startsWith('mreg: error:'));

for (const build of BUILDS) {
  t.test(`${build.name}: --version and -V print the package.json version`, async t => {
    // After a command too (`mreg up -V`): cac prints the version only when no command was named.
    for (const argv of [['--version'], ['-V'], ['up', '-V'], ['down', '--version']]) {
      const flag = argv.join(' ');
      const r = await mreg(argv, { build: build.argv });
      t.equal(r.exitCode, 0, `${flag} exit code`);
      t.match(r.stdout, new RegExp(`(^|[^0-9.])${VERSION.replace(/\./g, '\\.')}([^0-9.]|$)`), `${flag} prints ${VERSION}`);
      t.equal(r.stderr, '', `${flag} prints nothing on stderr`);
    }
  });

  t.test(`${build.name}: --help lists every command and the global flags`, async t => {
    const r = await mreg(['--help'], { build: build.argv });
    t.equal(r.exitCode, 0);
    for (const c of COMMANDS) t.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `lists ${c}`);
    for (const f of GLOBAL_FLAGS) t.ok(r.stdout.includes(f.flags.replace(/ <.*$/, '')), `lists ${f.flags}`);
    t.notMatch(r.stdout + r.stderr, ANSI, 'no colour when not on a terminal');
  });

  t.test(`${build.name}: output into a pipe whose reader has gone (\`| head\`) is dropped, with no stack trace`, async t => {
    // `mreg status | head -3` used to end with "Unhandled 'error' event ... EPIPE" and exit 1.
    // `true` exits at once, long before mreg's first write, so every write finds the reader gone.
    const r = await mreg(['up', '--dry-run', '--quayHostname', HOSTNAME],
      { build: build.argv, home: tempHome(t), launcher: ['bash', '-c', '"$@" | true; exit "${PIPESTATUS[0]}"', 'pipe'] });
    t.equal(r.exitCode, 0, 'the dry run\'s own exit code', { stderr: r.stderr });
    t.notMatch(r.stderr, /EPIPE|Unhandled|internal error/, 'no stack trace', { stderr: r.stderr });
  });

  for (const command of COMMANDS) {
    t.test(`${build.name}: ${command} --help lists every ${command} flag of the option table`, async t => {
      const r = await mreg([command, '--help'], { build: build.argv });
      t.equal(r.exitCode, 0);
      for (const f of [...flagsFor(command), ...GLOBAL_FLAGS]) {
        // cac prints the flag spec verbatim, e.g. "-r, --quayRoot <dir>".
        t.ok(r.stdout.includes(f.flags), `lists ${f.flags}`);
        if (f.defaultText) t.ok(r.stdout.includes(f.defaultText), `shows the default of ${f.flags}`);
      }
      // A flag without a default shows none: cac's "(default: true)" on --no-color said the opposite of what it does.
      const colorLine = r.stdout.split('\n').find(l => l.includes('--no-color')) ?? '';
      t.notMatch(colorLine, /default/, '--no-color shows no default', { line: colorLine });
    });
  }
}

// argv → what the single error line must name. Every row must exit 2, print exactly one `mreg: error:`
// line, nothing on stdout, and change nothing (all `up` rows carry --dry-run so a missed check cannot install).
const USAGE_ERRORS: Array<[string[], string]> = [
  [['--bogus'], '--bogus'],
  [['up', '--dry-run', '--bogus'], '--bogus'],
  [['up', '--dry-run', `--quayHostname=${HOSTNAME}`, '--sqliteStorage', 'x'], '--sqliteStorage'],
  [['status', '--bogus'], '--bogus'],
  [['frobnicate'], 'frobnicate'],
  [['up', '--quayHostname', '10.0.0.5', '--dry-run'], '--quayHostname 10.0.0.5'],
  [['up', '--dry-run', '--quayHostname'], '--quayHostname'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--sslCert', '/nonexistent.pem'], '--sslCert'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--quayRoot', 'relative/dir'], '--quayRoot'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '-i', '/nonexistent/images.tar'], '--image-archive /nonexistent/images.tar: file not found'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '-i', '/etc/hostname'], '--image-archive /etc/hostname: not a tar archive (tar: This does not look like a tar archive)'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--initUser', 'Bad User'], '--initUser'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--infraImage', 'pause'], '--infraImage pause: not a fully qualified image reference'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--anonymousAccess', 'yes'], '--anonymousAccess yes: expected true or false'],
  [['adopt', '--dry-run', '--userCreation', 'maybe'], '--userCreation maybe: expected true or false'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--targetHostname=-oProxyCommand=x'], '--targetHostname'],
  [['install', '--dry-run', '--quayHostname', '10.0.0.5'], '--quayHostname 10.0.0.5'],
  [['logs', 'not-a-unit'], 'not-a-unit'],
  [['logs', '--lines', '0'], '--lines'],
  [['logs', '--lines', '1e3'], '--lines 1e3: must be a whole number'],
  [['cert', 'rotate', '--new-ca', '--sslCert', '/etc/hostname', '--sslKey', '/etc/hostname'], '--new-ca with --sslCert/--sslKey: choose one'],
  [['logs', '--lines', '0x10'], '--lines 0x10: must be a whole number'],
  // Unknown flags after a command: cac's own check, which the release executable once reported as a bug.
  [['down', '--dry-run', '--bogus'], '--bogus'],
  [['up', '--dry-run', '-Z'], '-Z'],
  // Positional arguments to commands that take none (`up extra` once started a real install).
  [['up', '--dry-run', 'extra-positional'], '"extra-positional"'],
  [['install', '--dry-run', 'extra'], '"extra"'],
  [['down', '--dry-run', 'extra'], '"extra"'],
  [['status', 'extra'], '"extra"'],
  [['upgrade', '--dry-run', 'extra'], '"extra"'],
  [['adopt', '--dry-run', 'extra'], '"extra"'],
  [['up', '--dry-run', '--', 'extra'], '"extra"'],
  [['logs', 'quay-app', 'extra'], '"extra"'],
  [['cert', 'trust', 'extra'], '"extra"'],
  [['completion', 'bash', 'extra'], '"extra"'],
  [['backup', 'a.tar', 'extra'], '"extra"'],
  // A lone `-` (stdout) is an argument: mri used to drop it and swallow the next word.
  [['backup', 'a.tar', '-'], 'unexpected argument "-"'],
  [['backup', '--verify', '-'], '--verify needs the backup file'],
  [['restore'], 'restore <files...>'],
  [['backup', '--verify'], '--verify needs the backup file'],
  [['backup', '--verify', '/nonexistent/backup.tar'], '/nonexistent/backup.tar: no such file'],
  [['restore', '/nonexistent/backup.tar'], '/nonexistent/backup.tar: no such file'],
  [['backup', '-H', 'registry.example.com', '--since', '/tmp/prev.tar', '/tmp/next.tar'], '--since with -H is not supported yet'],
  [['backup', '--passphrase-file', '/nonexistent/pass', '/tmp/next.tar'], '--passphrase-file /nonexistent/pass: cannot be read'],
  // restore checks its flags before it reads the archive (which does not exist here).
  [['restore', '--quayStorage', 'relative/dir', '/tmp/x.tar'], '--quayStorage relative/dir: relative path'],
  [['restore', '--quayHostname', '10.0.0.5', '/tmp/x.tar'], '--quayHostname 10.0.0.5'],
  [['restore', '-i', '/nonexistent/images.tar', '/tmp/x.tar'], '--image-archive /nonexistent/images.tar: file not found'],
  [['restore', '--image-archive', '/etc/hostname', '/tmp/x.tar'], '--image-archive /etc/hostname: not a tar archive'],
  // Object storage: the key file is read before anything else happens; an s3 flag alone is refused.
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--quayStorage', 's3://quay-blobs', '--s3Endpoint', 'http://10.0.0.5:7480', '--s3CredentialsFile', '/nonexistent/s3'],
    '--s3CredentialsFile /nonexistent/s3: no such file'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--s3CreateBucket'], '--s3CreateBucket: only applies to object storage'],
  [['restore', '--quayStorage', 's3://quay-blobs', '/tmp/x.tar'], '--quayStorage s3://quay-blobs: restore writes blobs to local storage only'],
  [['restore', '--s3CredentialsFile', 'keys/s3', '/tmp/x.tar'], '--s3CredentialsFile keys/s3: relative path'],
  [['restore', '--s3CaBundle', 'ca.pem', '/tmp/x.tar'], '--s3CaBundle ca.pem: relative path'],
  [['storage'], 'missing required args for command `storage <action>`'],
  [['storage', 'move'], 'unknown storage action "move"'],
  [['storage', 'migrate'], '--to: needed; name the bucket to move the blobs into'],
  [['storage', 'migrate', '--to', '/srv/blobs'], '--to /srv/blobs: not object storage'],
  [['storage', 'migrate', '--to', 's3://quay-blobs', '--s3CredentialsFile', '/root/s3'], '--s3Endpoint: needed with --to s3://quay-blobs'],
  [['storage', 'migrate', '--cleanup', '--to', 's3://quay-blobs'], '--cleanup takes no --to: it deletes the copy a finished migrate left'],
  [['export'], 'missing required args for command `export <target> [dir]`'],
  [['export', 'aws', '/tmp/x'], 'unknown export target "aws"'],
  [['export', 'openshift'], 'mreg export openshift needs the folder to write to'],
  [['export', 'openshift', '/etc'], '/etc: not empty; export writes only into a new or empty folder'],
  [['export', 'openshift', '/tmp/mreg-export-x', '--namespace', 'Bad_NS'], '--namespace Bad_NS: not a Kubernetes namespace name'],
  // A flag given twice, in any spelling, is named as repeated (mri kept one value of `-r A --quayRoot B`).
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '--quayRoot', '/tmp/a', '--quayRoot', '/tmp/b'], '--quayRoot (or -r) was given more than once'],
  [['up', '--dry-run', '--quayHostname', HOSTNAME, '-r', '/tmp/a', '--quayRoot', '/tmp/b'], '--quayRoot (or -r) was given more than once'],
  [['up', '--dry-run', '--quayHostname=a.example.com', '--quayHostname=b.example.com'], '--quayHostname was given more than once'],
  [['up', '--dry-run', '--dry-run', '--quayHostname', HOSTNAME], '--dry-run was given more than once'],
  [['status', '-c', '--no-color'], '--no-color (or -c) was given more than once'],
  // A flag is named as it is typed, not by the key the parser gives it (--dryRun, --imageArchive).
  [['status', '--dry-run'], 'Unknown option `--dry-run`'],
  [['storage', 'migrate', '--cleanup', '--dry-run'], '--cleanup takes no --dry-run'],
  [['upgrade', '--sslCert', '/tmp/c.pem', '--sslKey', '/tmp/k.pem', '-i', '/tmp/x.tar'], 'it cannot be combined with --image-archive'],
  [['adopt', '--quayRoot', 'rel/dir'], '--quayRoot rel/dir: relative path'],
  [['backup', '--verify', '/tmp/x.tar', '--since', '/tmp/y.tar', '-H', 'other.example.invalid'], '--verify reads the backup FILE on this host and takes no --since, -H'],
  // -H: flags are checked here, as the target's mreg will read them, before any ssh (the man pages say so).
  ...(['status', 'down', 'upgrade', 'backup'] as const).map(c => [[c, '-H', 'other.example.invalid', '--quayRoot', 'rel/dir'], '--quayRoot rel/dir: relative path'] as [string[], string]),
  [['upgrade', '-H', 'other.example.invalid', '--quayImage', 'Quay:latest'], '--quayImage Quay:latest'],
  // upgrade's aliases act where they run: with -H they are refused, never run on this host instead.
  [['upgrade', '-H', 'other.example.invalid', '--from-mirror-registry'], 'mreg upgrade --from-mirror-registry does not run over -H (other.example.invalid)'],
  [['upgrade', '-H', 'other.example.invalid', '--sslCert', '/tmp/c.pem', '--sslKey', '/tmp/k.pem'], 'mreg upgrade --sslCert/--sslKey does not run over -H (other.example.invalid)'],
  [['cert', 'trust', '--sslCert', '/tmp/c.pem', '--sslKey', '/tmp/k.pem'], 'mreg cert trust takes no --sslCert, --sslKey'],
  [['upgrade', '--from-mirror-registry', '-u', 'mreg-nobody-here'], '--targetUsername mreg-nobody-here: without -H mreg acts on this host as the user running it'],
  // mirror-registry's -H defaulted to this host, so -u went over ssh as that user; mreg would act as this one.
  ...(['status', 'down', 'up', 'upgrade', 'backup'] as const).map(c => [[c, '-u', 'mreg-nobody-here', '--dry-run'].filter(a => c !== 'status' && c !== 'backup' || a !== '--dry-run'),
    '--targetUsername mreg-nobody-here: without -H mreg acts on this host as the user running it'] as [string[], string]),
];

for (const build of BUILDS) t.test(`${build.name}: usage errors: exit 2, one error line, nothing written`, async t => {
  const home = tempHome(t);
  const before = snapshot(home);
  // Independent rows: run a few at a time (dozens of node processes at once can outlast the timeout on a
  // busy machine), then check them in table order.
  const results = await inBatches(USAGE_ERRORS.map(([argv]) => () => mreg(argv, { home, build: build.argv })), 6);
  for (const [i, [argv, names]] of USAGE_ERRORS.entries()) {
    const r = results[i]!;
    const row = `mreg ${argv.join(' ')}`;
    t.equal(r.exitCode, 2, `${row}: exit code`);
    const lines = errorLines(r.stderr);
    t.equal(lines.length, 1, `${row}: one "mreg: error:" line`, { stderr: r.stderr });
    t.ok(lines[0]?.includes(names), `${row}: names ${names}`, { stderr: r.stderr });
    t.equal(r.stdout, '', `${row}: nothing on stdout`);
    t.notMatch(r.stderr, /^\s+at /m, `${row}: no stack trace`);
    t.notMatch(r.stderr, /internal error/, `${row}: not reported as a bug`);
  }
  t.same(snapshot(home), before, 'HOME unchanged');
});

t.test('--sslCheckSkip never passes a certificate that does not name the host (Quay refuses it at start)', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-cli-cert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', `/CN=${HOSTNAME}`, '-addext', 'subjectAltName=DNS:other.example.com']);
  // mreg runs as nobody here: the pair must be readable by it.
  chmodSync(dir, 0o755);
  for (const f of ['k.pem', 'c.pem']) chmodSync(join(dir, f), 0o644);
  const home = tempHome(t);
  const before = snapshot(home);
  const r = await mreg(['up', '--dry-run', '--quayHostname', HOSTNAME, '--sslCert', join(dir, 'c.pem'), '--sslKey', join(dir, 'k.pem'), '--sslCheckSkip'], { home });
  t.equal(r.exitCode, 2, 'a usage error', { stderr: r.stderr });
  const lines = errorLines(r.stderr);
  t.equal(lines.length, 1, 'one error line', { stderr: r.stderr });
  t.match(lines[0], /--sslCert \S+c\.pem: certificate does not cover registry\.example\.com \(it names DNS:other\.example\.com\), and Quay refuses to start with it \(even with --sslCheckSkip\)/);
  t.same(snapshot(home), before, 'HOME unchanged');
});

t.test('--initPassword is never echoed, not even when it is rejected', async t => {
  const r = await mreg(['up', '--dry-run', '--quayHostname', HOSTNAME, '--initPassword', 'sh0rt'], { home: tempHome(t) });
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /--initPassword/);
  t.notOk((r.stdout + r.stderr).includes('sh0rt'), 'the rejected password is not shown');
});

t.test('up --dry-run prints the plan, hides secrets and writes nothing', async t => {
  const home = tempHome(t);
  const password = 'Pw-4-cli-test-9a8b7c6d';
  const argv = ['up', '--dry-run', '--quayHostname', `${HOSTNAME}:8443`, '--initPassword', password];
  const before = snapshot(home);
  const r = await mreg(argv, { home });
  t.equal(r.exitCode, 0, 'exit code', { stderr: r.stderr });
  t.same(snapshot(home), before, 'nothing written under HOME');

  // Rootless (nobody when the tests run as root): Quadlet files under $HOME/.config, quayRoot ~/quay-install.
  const quadletDir = join(home, '.config/containers/systemd');
  const headers = r.stdout.split('\n').filter(l => /^--- .* ---$/.test(l));
  for (const f of QUADLET_FILES) {
    t.ok(headers.some(h => h.startsWith(`--- ${join(quadletDir, f)}`)), `prints ${f} under a --- ${join(quadletDir, f)} --- header`);
  }
  t.ok(headers.some(h => h.includes(join(home, 'quay-install/quay-config/config.yaml'))), 'prints config.yaml in the default quayRoot');
  t.match(r.stdout, /^\[Pod\]$/m, 'prints the content of the files');
  t.match(r.stdout, /^PodName=quay-pod$/m);

  const all = r.stdout + r.stderr;
  t.notOk(all.includes(password), 'the --initPassword value never appears');
  t.same(secretLooking(all), [], 'no secret-looking values');
  t.match(r.stdout, /<redacted>/, 'secrets are shown as placeholders');
  t.notMatch(all, ANSI, 'no colour on pipes');

  // Secrets are random per run; identical output proves none of them reached it.
  const again = await mreg(argv, { home });
  t.equal(again.stdout, r.stdout, 'a second dry run prints exactly the same');
});

t.test('up --dry-run lists the steps up takes, in its order, the checks and the bind folders included', async t => {
  // Issue 14: the hand-written list had left out the checks, the quayRoot pointer, the storage folder and
  // credentials.pending.
  const home = tempHome(t);
  const storage = join(home, 'blobs');
  const r = await mreg(['up', '--dry-run', '--json', '--quayHostname', HOSTNAME, '--quayStorage', storage], { home });
  t.equal(r.exitCode, 0, 'exit code', { stderr: r.stderr });
  const actions = (JSON.parse(r.stdout) as { actions: string[] }).actions;
  const at = (re: RegExp) => actions.findIndex(a => re.test(a));
  const order = [
    /^check the host: podman, systemd, port 8443/, /^check that the images are present: /, /^check that PostgreSQL data already in podman volume pg-storage/,
    // Before anything is made (until 2026-12-06 after the CA and the secrets).
    /^validate the units/,
    new RegExp(`^create ${home}/quay-install \\(mode 0700\\); write the install record .* and the pointer `),
    /^create or reuse the root CA/, /^create podman secret mreg-pg-password/,
    new RegExp(`^make ${storage} \\(mode 0750, owner 1001:0 in the user namespace\\) for --quayStorage$`),
    /^write the install record .* with every file below$/, /^write .*quay\.pod /, /^systemd Reload$/,
    /^start quay-app\.service/, /^wait for https:/, new RegExp(`^create the first user init: its password goes to ${home}/quay-install/credentials\\.pending first`),
    /^write .*mreg-install\.json$/,
  ];
  const found = order.map(at);
  for (const [i, re] of order.entries()) t.ok(found[i]! >= 0, `lists ${re}`, { actions });
  t.same(found, [...found].sort((a, b) => a - b), 'in the order up takes them');
});

t.test('up --dry-run as root (rootful) writes nothing to /etc or /var', { skip: !isRoot && 'only as root' }, async t => {
  const watched = ['/etc/containers/systemd', '/etc/quay-install', '/var/lib/mreg', '/run/mreg.lock'];
  const state = () => watched.map(p => `${p}: ${existsSync(p) ? (lstatSync(p).isDirectory() ? snapshot(p).join(',') : 'file') : 'absent'}`);
  const before = state();
  const r = await mreg(['up', '--dry-run', '--quayHostname', HOSTNAME], { asUser: false, home: tempHome(t) });
  t.equal(r.exitCode, 0, 'exit code', { stderr: r.stderr });
  t.match(r.stdout, /^--- \/etc\/containers\/systemd\/quay\.pod /m, 'rootful Quadlet files go to /etc/containers/systemd');
  t.match(r.stdout, /^--- \/etc\/quay-install\/quay-config\/config\.yaml /m, 'rootful quayRoot is /etc/quay-install');
  t.match(r.stdout, /^WantedBy=multi-user\.target$/m);
  t.same(state(), before, 'nothing changed on the host');
});

t.test('install is an alias of up', async t => {
  const home = tempHome(t);
  const a = await mreg(['up', '--dry-run', '--quayHostname', HOSTNAME], { home });
  const b = await mreg(['install', '--dry-run', '--quayHostname', HOSTNAME], { home });
  t.equal(b.exitCode, 0);
  t.equal(b.stdout, a.stdout);
});

t.test('--json: up --dry-run prints one JSON document', async t => {
  const home = tempHome(t);
  const password = 'Json-pw-5f4e3d2c1b';
  const r = await mreg(['up', '--dry-run', '--json', '--quayHostname', HOSTNAME, '--initPassword', password], { home });
  t.equal(r.exitCode, 0, 'exit code', { stderr: r.stderr });
  let doc: { dryRun?: boolean; scope?: string; files?: Array<{ path: string; mode: string; content: string }>; actions?: string[] } = {};
  t.doesNotThrow(() => { doc = JSON.parse(r.stdout); }, 'stdout is JSON');
  t.equal(doc.dryRun, true);
  t.equal(doc.scope, 'rootless');
  t.ok(Array.isArray(doc.actions) && doc.actions.length > 0, 'has actions');
  const names = (doc.files ?? []).map(f => f.path.split('/').pop());
  for (const f of QUADLET_FILES) t.ok(names.includes(f), `files has ${f}`);
  t.notOk(r.stdout.includes(password), 'no password in the JSON');
  t.same(secretLooking(r.stdout), [], 'no secret-looking values');
  t.notMatch(r.stderr, /^==>|dry run:/m, 'no progress lines with --json');
});

/** A rootless install record in quayRoot, in the shape of src/install-spec/record.ts (schema version 1). */
function writeRecord(home: string, quayRoot: string): void {
  const quadletDir = join(home, '.config/containers/systemd');
  const record = {
    schemaVersion: 1, mregVersion: VERSION, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
    spec: {
      scope: 'rootless', hostname: HOSTNAME, port: 8443, quayRoot,
      quayStorage: { kind: 'volume', name: 'quay-storage' }, pgStorage: { kind: 'volume', name: 'pg-storage' },
      tls: { kind: 'generate' }, initUser: 'init',
      images: { quay: 'registry.example.com/quay:1', postgres: 'registry.example.com/pg:1', redis: 'registry.example.com/redis:1' },
    },
    files: [join(quadletDir, 'quay.pod'), join(quadletDir, 'quay-app.container'), join(quayRoot, 'quay-config/config.yaml')],
    secrets: ['mreg-pg-password'], volumes: ['quay-storage', 'pg-storage'], lingerEnabledByMreg: false,
  };
  writeFileSync(join(quayRoot, 'mreg-install.json'), JSON.stringify(record, null, 2));
}

t.test('--json: down --dry-run on a recorded install prints JSON and writes nothing', async t => {
  const home = tempHome(t);
  const quayRoot = join(home, 'quay-install');
  mkdirSync(quayRoot, { mode: 0o777 });
  const quadletDir = join(home, '.config/containers/systemd');
  writeRecord(home, quayRoot);
  chmodSync(join(quayRoot, 'mreg-install.json'), 0o666);
  const before = snapshot(home);
  const r = await mreg(['down', '--dry-run', '--json', '--purge', '--quayRoot', quayRoot], { home });
  t.equal(r.exitCode, 0, 'exit code', { stderr: r.stderr });
  let doc: { dryRun?: boolean; actions?: string[] } = {};
  t.doesNotThrow(() => { doc = JSON.parse(r.stdout); }, 'stdout is JSON');
  t.equal(doc.dryRun, true);
  t.ok(doc.actions?.some(a => a.includes('quay-app.service')), 'stops quay-app');
  t.ok(doc.actions?.some(a => a.includes(join(quadletDir, 'quay.pod'))), 'removes quay.pod');
  t.ok(doc.actions?.some(a => a.startsWith('DELETE') && a.includes(quayRoot)), '--purge deletes quayRoot');
  t.same(snapshot(home), before, 'nothing written or deleted');

  const u = await mreg(['uninstall', '--dry-run', '--autoApprove', '--quayRoot', quayRoot], { home });
  t.equal(u.exitCode, 0, 'uninstall --autoApprove is accepted', { stderr: u.stderr });
  t.match(u.stdout, /keep /, 'without --purge the data is kept');
});

t.test('up --dry-run on a recorded install says which hand edits of mreg\'s config.yaml keys it would set back', async t => {
  const home = tempHome(t);
  const quayRoot = join(home, 'quay-install');
  mkdirSync(join(quayRoot, 'quay-config'), { recursive: true, mode: 0o777 });
  writeRecord(home, quayRoot);
  writeFileSync(join(quayRoot, 'quay-config/config.yaml'), 'SERVER_HOSTNAME: quay.lab.example.com\nFEATURE_ANONYMOUS_ACCESS: true\nLDAP_URI: ldap://ldap.example.com\n');
  for (const f of ['mreg-install.json', 'quay-config/config.yaml']) chmodSync(join(quayRoot, f), 0o666);
  const before = snapshot(home);
  const r = await mreg(['up', '--dry-run', '--quayRoot', quayRoot], { home });
  t.equal(r.exitCode, 0, 'exit code', { stderr: r.stderr });
  t.match(r.stdout, new RegExp(`^would set back config.yaml SERVER_HOSTNAME: "quay.lab.example.com" → "${HOSTNAME}:8443"$`, 'm'));
  t.notMatch(r.stdout, /would set back config.yaml (FEATURE_ANONYMOUS_ACCESS|LDAP_URI)/, 'a setting and a foreign key are kept, not set back');
  t.notMatch(r.stdout, /would set back config.yaml (DB_URI|SECRET_KEY)/, 'the dry run\'s stand-in secrets are not reported as changes');
  const j = await mreg(['up', '--dry-run', '--json', '--quayRoot', quayRoot], { home });
  t.match((JSON.parse(j.stdout) as { configResets: string[] }).configResets, [/^config.yaml SERVER_HOSTNAME: /]);
  t.same(snapshot(home), before, 'nothing written or deleted');
});

t.test('a corrupt or future install record: status, down, upgrade and up exit 1 with one line, and change nothing', async t => {
  const home = tempHome(t);
  const quayRoot = join(home, 'quay-install');
  mkdirSync(quayRoot, { mode: 0o777 });
  const file = join(quayRoot, 'mreg-install.json');
  // up takes its lock in XDG_RUNTIME_DIR before it reads the record; the test user has no /run/user/UID.
  // Outside HOME: the lock file comes and goes there. Its mode must survive (systemd makes it 0700).
  const runtimeDir = mkdtempSync(join(tmpdir(), 'mreg-cli-run-'));
  t.teardown(() => rmSync(runtimeDir, { recursive: true, force: true }));
  if (isRoot) chownSync(runtimeDir, NOBODY, NOBODY);
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"schemaVersion": 1, "spec": ', /install record is not valid JSON/],
    ['from a newer mreg', JSON.stringify({ schemaVersion: 99, mregVersion: '9.0.0', spec: {} }), /schema version 99, newer than this mreg understands/],
    ['damaged', JSON.stringify({ schemaVersion: 1, mregVersion: VERSION, spec: { port: 'x' } }), /install record is damaged/],
  ];
  for (const [what, text, message] of cases) {
    writeFileSync(file, text);
    chmodSync(file, 0o666);
    const before = snapshot(home);
    for (const argv of [['status'], ['down', '--yes'], ['upgrade', '--quayImage', 'registry.example.com/quay:2'], ['up', '--quayHostname', HOSTNAME]]) {
      const r = await mreg([...argv, '--quayRoot', quayRoot], { home, env: { XDG_RUNTIME_DIR: runtimeDir } });
      const errors = errorLines(r.stderr);
      t.equal(r.exitCode, 1, `${what}: mreg ${argv[0]} exits 1`, { stderr: r.stderr });
      t.equal(errors.length, 1, `${what}: mreg ${argv[0]}: one error line`, { stderr: r.stderr });
      t.match(errors[0] ?? '', message, `${what}: mreg ${argv[0]} says what is wrong`);
      t.ok((errors[0] ?? '').includes(file), `${what}: mreg ${argv[0]} names the file`);
      t.match(r.stderr, /hint: /, `${what}: mreg ${argv[0]} says how to fix it`);
      // up itself refuses the record (above): a hint that sent the user to it was a dead end.
      t.notMatch(r.stderr, /hint: .*(run|with) `?mreg up/, `${what}: mreg ${argv[0]}'s hint does not send the user to mreg up`);
    }
    t.same(snapshot(home), before, `${what}: nothing written or deleted`);
    t.equal(lstatSync(runtimeDir).mode & 0o777, 0o700, `${what}: XDG_RUNTIME_DIR still 0700`);
    t.equal(readFileSync(file, 'utf8'), text, `${what}: the record is left as it was`);
  }
});

t.test('status and down with no install: exit 1, not a usage error', async t => {
  const home = tempHome(t);
  for (const argv of [['status'], ['status', '--json'], ['down', '--dry-run']]) {
    const r = await mreg(argv, { home });
    t.equal(r.exitCode, 1, `mreg ${argv.join(' ')}`);
    t.match(errorLines(r.stderr)[0] ?? '', /no .*install found/, 'says no install was found');
    t.equal(r.stdout, '', 'nothing on stdout');
  }
});

t.test('colour: only on a terminal, never with NO_COLOR or --no-color', async t => {
  const home = tempHome(t);
  const argv = ['up', '--dry-run', '--quayHostname', HOSTNAME];
  const piped = await mreg(argv, { home });
  t.notMatch(piped.stdout + piped.stderr, ANSI, 'no escapes on pipes');
  const pipedForced = await mreg(argv, { home, env: { NO_COLOR: '1' } });
  t.notMatch(pipedForced.stdout + pipedForced.stderr, ANSI, 'no escapes on pipes with NO_COLOR');

  // script(1) gives the CLI a terminal; its output is the terminal's, stdout and stderr together.
  const onTty = (extra: string[], env: Record<string, string> = {}) => {
    const vars = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, TERM: 'xterm', ...env };
    const cmd = ['env', ...cleanEnv(vars, [process.execPath, MAIN, ...argv, ...extra])].map(a => `'${a}'`).join(' ');
    return execa('script', ['-qec', cmd, '/dev/null'], { reject: false, timeout: 20_000 });
  };
  const tty = await onTty([]);
  t.equal(tty.exitCode, 0, 'script(1) ran (util-linux)', { stderr: tty.stderr });
  t.match(tty.stdout, ANSI, 'colour on a terminal');
  t.notMatch((await onTty([], { NO_COLOR: '1' })).stdout, ANSI, 'NO_COLOR=1 on a terminal: no escapes');
  t.notMatch((await onTty(['--no-color'])).stdout, ANSI, '--no-color on a terminal: no escapes');
  t.notMatch((await onTty(['-c'])).stdout, ANSI, '-c on a terminal: no escapes');
});
