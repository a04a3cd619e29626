// vm.sh's settings as the two callers choose them: the suites (ASLR off) and `npm run bench` (ASLR on).
import t from 'tap';
import { spawnSync } from 'node:child_process';
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
