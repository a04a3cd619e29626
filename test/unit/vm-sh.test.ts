// vm.sh's settings as the two callers choose them (the suites: ASLR off; `npm run bench`: ASLR on), and its
// ssh multiplexing.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VM = fileURLToPath(new URL('../vm/vm.sh', import.meta.url));
const kargs = (aslr?: string) => {
  const env = { ...process.env };
  delete env['KARGS'];
  if (aslr === undefined) delete env['ASLR']; else env['ASLR'] = aslr;
  return spawnSync('bash', [VM, 'kargs'], { env, encoding: 'utf8' });
};

t.test('the suites boot without address-space randomisation', async t => {
  const r = kargs();
  t.equal(r.status, 0, 'exits 0', { stderr: r.stderr });
  t.match(r.stdout, / norandmaps\b/);
});

t.test('ASLR=on (npm run bench) gets a kernel command line too, without norandmaps', async t => {
  // It used to end vm.sh silently with exit 1 (a failing $(...) in an assignment under set -e).
  const r = kargs('on');
  t.equal(r.status, 0, 'exits 0', { stderr: r.stderr });
  t.match(r.stdout, /panic=1/);
  t.notMatch(r.stdout, /norandmaps/);
});

t.test('a control socket no ssh master answers on is removed before a new master starts', async t => {
  // Left in place (a dev loop's kill -9 of the master), it stopped every later master from binding:
  // each command then opened two fresh connections (measured: 12 for 6 `vm.sh ssh true`).
  const run = mkdtempSync(join(tmpdir(), 'mreg-vmsh-'));
  t.teardown(() => rmSync(run, { recursive: true, force: true }));
  writeFileSync(join(run, 'id_ed25519'), '', { mode: 0o600 });
  const sock = join(run, 'mux-root');
  const py = spawnSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()', sock]);
  t.equal(py.status, 0, 'a stale socket made', { stderr: String(py.stderr) });
  t.ok(existsSync(sock));
  // Nothing listens on this port: ssh fails fast, but only after the stale socket was dealt with.
  const env = { ...process.env, RUN: run, PORT: '1', MUX: '1' };
  const r = spawnSync('bash', [VM, 'ssh', 'true'], { env, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 255, 'ssh could not connect', { stderr: r.stderr });
  t.notOk(existsSync(sock), 'the stale socket is gone');
});
