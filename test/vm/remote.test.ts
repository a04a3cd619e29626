// mreg up/status/down -H: driven from this host over ssh into the VM (the same path a user's laptop takes).
// An ssh config (MREG_SSH_CONFIG) maps the guest's FQDN to its forwarded port; the key is the VM's.
import t, { type Test as TapTest } from 'tap';
import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, user, requireVm, describe, FQDN } from './guest.js';
import { fromClean } from './snapshot.js';

const vm = requireVm();
t.before(fromClean);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PORT = process.env['PORT'] ?? '2222';
const RUN = process.env['RUN'] ?? `/tmp/mreg-vm-run-${PORT}`;
const KEY = join(RUN, 'id_ed25519');
const dir = mkdtempSync(join(tmpdir(), 'mreg-remote-test-'));
const ARCHIVE = join(dir, 'images.tar');
// The archive carries redis under a tag the guest does not have, so a healthy install proves it was loaded.
const REDIS = 'localhost/mreg-test/redis:remote';
const IMAGES = `--quayImage localhost/mreg-test/quay:v1 --pgImage localhost/mreg-test/postgres:15`;

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

const installed = new Set<string>();
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

t.teardown(async () => {
  // Only what a failed test left behind (each down costs ~25 s on TCG).
  await Promise.all(['root', 'mreg'].filter(u => installed.has(u)).map(u => mreg(t, ['down', ...target(u), '--purge', '--yes'])));
  await root(`podman rmi ${REDIS} >/dev/null 2>&1; rm -rf /root/.cache/mreg; rm -rf ~mreg/.cache/mreg`);
  rmSync(dir, { recursive: true, force: true });
});

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
  ]) {
    const r = await mreg(t, args, fake);
    t.equal(r.exitCode, 2, `${args.join(' ')} exits 2`, { output: describe(r) });
  }
  t.notOk(existsSync(join(dir, 'ssh-ran')), 'ssh was never started');
});

t.test('rootful -i archive and rootless without, side by side', async t => {
  installed.add('root');
  installed.add('mreg');
  const [rootful, rootless] = await Promise.all([
    mreg(t, ['up', ...target('root'), '-i', ARCHIVE, ...IMAGES.split(' '), '--redisImage', REDIS, '--quayHostname', `${FQDN}:8443`, '--json']),
    mreg(t, ['up', ...target('mreg'), ...IMAGES.split(' '), '--redisImage', 'localhost/mreg-test/redis:7', '--quayHostname', `${FQDN}:9443`, '--json']),
  ]);
  for (const [name, r, port] of [['rootful', rootful, 8443], ['rootless', rootless, 9443]] as const) {
    t.equal(r.exitCode, 0, `${name} up -H exits 0`, { output: describe(r) });
    let json: { url?: string } = {};
    try { json = JSON.parse(r.stdout) as typeof json; } catch { t.fail(`${name}: stdout is not clean JSON`, { output: r.stdout }); }
    t.equal(json.url, `https://${FQDN}:${port}`, `${name}: JSON names the registry`);
    // Quay answers 503 for a moment while a worker restarts under load: a few tries.
    const curl = await root(`for i in $(seq 15); do c=$(curl -sk -o /dev/null -w '%{http_code}' https://${FQDN}:${port}/health/instance); [ "$c" = 200 ] && break; sleep 2; done; echo $c`);
    t.equal(curl.stdout.trim(), '200', `${name}: healthy as seen from the guest`, { output: describe(curl) });
  }
  const img = await root(`podman image exists ${REDIS}`);
  t.equal(img.exitCode, 0, 'the streamed archive was loaded (its redis tag exists only there)');
  const cached = await user('ls ~/.cache/mreg | wc -l');
  t.equal(cached.stdout.trim(), '1', 'one cached mreg executable for user mreg');
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
  if (d1.exitCode === 0) installed.delete('root');
  if (d2.exitCode === 0) installed.delete('mreg');
  const gone = await root('test ! -e /etc/quay-install && test ! -e ~mreg/quay-install && echo gone');
  t.equal(gone.stdout.trim(), 'gone', 'quayRoot removed in both scopes', { output: describe(gone) });
  const s2 = await mreg(t, ['status', ...target('root')]);
  t.not(s2.exitCode, 0, 'status -H after down is not 0 (the remote exit code comes back)');
});
