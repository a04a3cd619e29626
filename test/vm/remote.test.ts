// mreg up/upgrade/status/down -H: driven from this host over ssh into the VM (the same path a user's laptop takes).
// An ssh config (MREG_SSH_CONFIG) maps the guest's FQDN to its forwarded port; the key is the VM's.
// It runs on the shared base install (base.ts): what -H adds is the upload, the argument quoting, the
// streamed archive and the exit code coming back, not a first start, which the other suites prove.
import t, { type Test as TapTest } from 'tap';
import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, user, requireVm, describe, FQDN } from './guest.js';
import { useBase, BASE_SCOPES } from './base.js';

const vm = requireVm();
t.before(async () => { await useBase(); });
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PORT = process.env['PORT'] ?? '2222';
const RUN = process.env['RUN'] ?? `/tmp/mreg-vm-run-${PORT}`;
const KEY = join(RUN, 'id_ed25519');
const dir = mkdtempSync(join(tmpdir(), 'mreg-remote-test-'));
const ARCHIVE = join(dir, 'images.tar');
// The archive carries redis under a tag the guest does not have, so a healthy install proves it was loaded.
const REDIS = 'localhost/mreg-test/redis:remote';

writeFileSync(join(dir, 'ssh_config'), `Host ${FQDN}\n  HostName 127.0.0.1\n  Port ${PORT}\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n`);
const env: Record<string, string> = { MREG_SSH_CONFIG: join(dir, 'ssh_config') };
// What gets copied: a launcher for the project the runner staged at /opt/mreg (fresh, and 48 bytes over a
// slow TCG link) unless MREG_BUNDLE names a real single-file build (e.g. dist/release/mreg) to test that.
if (!process.env['MREG_BUNDLE']) {
  writeFileSync(join(dir, 'mreg'), '#!/bin/sh\nexec node /opt/mreg/dist/main.js "$@"\n', { mode: 0o755 });
  env['MREG_BUNDLE'] = join(dir, 'mreg');
}

async function mreg(t: TapTest, args: string[], extraEnv: Record<string, string> = {}) {
  const t0 = Date.now();
  const r = await execa('node', [join(ROOT, 'dist/main.js'), ...args], { reject: false, stdin: 'ignore', env: { ...env, ...extraEnv }, timeout: 30 * 60_000 });
  const res = { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
  t.comment(`mreg ${args.slice(0, 2).join(' ')} … took ${((Date.now() - t0) / 1000).toFixed(1)}s (exit ${res.exitCode})`);
  return res;
}

const target = (u: string) => ['-H', FQDN, '-u', u, '-k', KEY];

t.before(async () => {
  const t0 = Date.now();
  // podman save in the guest, piped back over ssh: the archive exists only on this host.
  // A shell redirect, not execa's stdout: execa still counts the bytes against maxBuffer (100 MB).
  const save = `podman tag localhost/mreg-test/redis:7 ${REDIS} && podman save -m localhost/mreg-test/quay:v1 localhost/mreg-test/postgres:15 ${REDIS} && podman rmi ${REDIS} >/dev/null`;
  const r = await execa('bash', ['-c', 'bash "$0" ssh "$1" > "$2"', vm, save, ARCHIVE], { reject: false, stdin: 'ignore', timeout: 10 * 60_000 });
  if (r.exitCode !== 0) throw new Error(`podman save in the guest failed: ${String(r.stderr)}`);
  t.comment(`archive ${(statSync(ARCHIVE).size / 1e6).toFixed(0)} MB saved in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
});

// The next file restores its own snapshot of the guest; only this host's files are left to remove.
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('bad input with -H exits 2 and never runs ssh', async t => {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\ntouch ${join(dir, 'ssh-ran')}\nexit 255\n`);
  chmodSync(join(bin, 'ssh'), 0o755);
  const fake = { PATH: `${bin}:${process.env['PATH'] ?? ''}` };
  for (const args of [
    ['up', ...target('root'), '--quayImage', 'Not An Image'],
    ['status', '--targetHostname=-oProxyCommand=x', '-u', 'root'],
    ['down', ...target('root'), '--purge'],
    ['up', ...target('root'), '-i', join(dir, 'no-such.tar')],
    ['backup', ...target('root'), '--since', join(dir, 'no-such.tar'), join(dir, 'b.tar')],
  ]) {
    const r = await mreg(t, args, fake);
    t.equal(r.exitCode, 2, `${args.join(' ')} exits 2`, { output: describe(r) });
  }
  t.notOk(existsSync(join(dir, 'ssh-ran')), 'ssh was never started');
});

t.test('rootful upgrade -H with -i archive (the air-gapped upgrade), rootless up -H with no flags, side by side', async t => {
  const [rootful, rootless] = await Promise.all([
    mreg(t, ['upgrade', ...target('root'), '-i', ARCHIVE, '--redisImage', REDIS, '--json']),
    mreg(t, ['up', ...target('mreg'), '--json']),
  ]);
  t.equal(rootful.exitCode, 0, 'rootful upgrade -H exits 0', { output: describe(rootful) });
  t.equal(rootless.exitCode, 0, 'rootless up -H exits 0', { output: describe(rootless) });
  const parse = <T>(name: string, out: string): Partial<T> => {
    try { return JSON.parse(out) as T; } catch { t.fail(`${name}: stdout is not clean JSON`, { output: out }); return {}; }
  };
  const upgraded = parse<{ restarted: string[]; rolledBack: boolean }>('rootful', rootful.stdout);
  t.ok(upgraded.restarted?.includes('quay-redis.service'), 'rootful: quay-redis restarted on the new image', { output: rootful.stdout });
  t.equal(upgraded.rolledBack, false, 'rootful: not rolled back');
  const same = parse<{ url: string; unchanged: boolean }>('rootless', rootless.stdout);
  t.equal(same.url, `https://${FQDN}:9443`, 'rootless: JSON names the registry');
  t.equal(same.unchanged, true, 'rootless: up -H with no flags found the install and changed nothing');
  for (const [name, port] of [['rootful', 8443], ['rootless', 9443]] as const) {
    // Quay answers 503 for a moment while a worker restarts under load: a few tries.
    const curl = await root(`for i in $(seq 15); do c=$(curl -sk -o /dev/null -w '%{http_code}' https://${FQDN}:${port}/health/instance); [ "$c" = 200 ] && break; sleep 2; done; echo $c`);
    t.equal(curl.stdout.trim(), '200', `${name}: healthy as seen from the guest`, { output: describe(curl) });
  }
  const img = await root(`podman image exists ${REDIS} && podman inspect -f '{{.ImageName}}' quay-redis`);
  t.equal(img.stdout.trim(), REDIS, 'the streamed archive was loaded (its redis tag exists only there) and quay-redis runs it', { output: describe(img) });
  const cached = await user('ls ~/.cache/mreg | wc -l');
  t.equal(cached.stdout.trim(), '1', 'one cached mreg executable for user mreg');
});

t.test('backup -H: the rootful registry made there, written and verified here', async t => {
  const file = join(dir, 'rootful-backup.tar');
  const r = await mreg(t, ['backup', ...target('root'), file, '--json']);
  t.equal(r.exitCode, 0, 'backup -H exits 0', { output: describe(r) });
  t.equal(statSync(file).mode & 0o777, 0o600, 'written 0600 here');
  t.notOk(existsSync(`${file}.partial`), 'no partial file left');
  t.match(r.stdout, /"bytes"/, 'the JSON result is this side\'s, the archive did not reach stdout');
  const v = await mreg(t, ['backup', '--verify', file, '--json']);
  t.equal(v.exitCode, 0, 'verified on this host', { output: describe(v) });
  t.match(v.stdout, /"hostname": "mreg-vm\.example\.test"/, 'a backup of the guest\'s rootful registry');
  const again = await mreg(t, ['backup', ...target('root'), file]);
  t.equal(again.exitCode, 2, 'an existing file is never replaced (exit 2, before ssh)', { output: describe(again) });
});

t.test('status -H --json, then down -H --purge --yes', async t => {
  // status probes health with a 5 s limit; on a crowded TCG host one probe can miss, so allow a retry.
  let s = await mreg(t, ['status', ...target('root'), '--json']);
  for (let i = 0; i < 2 && s.exitCode === 3; i++) s = await mreg(t, ['status', ...target('root'), '--json']);
  t.equal(s.exitCode, 0, 'status -H exits 0', { output: describe(s) });
  let report: { healthy?: boolean } = {};
  try { report = JSON.parse(s.stdout) as typeof report; } catch { t.fail('status stdout is not clean JSON', { output: s.stdout }); }
  t.equal(report.healthy, true, 'status reports healthy');

  const [d1, d2] = await Promise.all([
    mreg(t, ['down', ...target('root'), '--purge', '--yes']),
    mreg(t, ['down', ...target('mreg'), '--purge', '--yes']),
  ]);
  t.equal(d1.exitCode, 0, 'rootful down -H exits 0', { output: describe(d1) });
  t.equal(d2.exitCode, 0, 'rootless down -H exits 0', { output: describe(d2) });
  const gone = await root(BASE_SCOPES.map(s => `test ! -e ${s.quayRoot}`).join(' && ') + ' && echo gone');
  t.equal(gone.stdout.trim(), 'gone', 'quayRoot removed in both scopes', { output: describe(gone) });
  const s2 = await mreg(t, ['status', ...target('root')]);
  t.not(s2.exitCode, 0, 'status -H after down is not 0 (the remote exit code comes back)');
});
