// mreg changes the mode only of folders it made: a user's 0700 Quadlet folder stays 0700 (issue 12).
import t from 'tap';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { makeDirIfMissing } from '../../src/host/fs.js';
import { executeActions } from '../../src/actions/execute.js';
import { planWrites } from '../../src/plan/writes.js';
import { createHostPorts } from '../../src/ports.js';
import { createOutput } from '../../src/ui/output.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import type { Plan } from '../../src/plan/plan.js';

const devNull = () => new Writable({ write: (_c, _e, done) => done() });
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

t.test('makeDirIfMissing leaves existing levels alone and gives new ones the mode, whatever the umask', async t => {
  const d = mkdtempSync(join(tmpdir(), 'mreg-dirs-'));
  mkdirSync(join(d, 'mine'), { mode: 0o700 });
  const old = process.umask(0o077);
  try {
    await makeDirIfMissing(join(d, 'mine', 'a', 'b'), 0o755);
  } finally { process.umask(old); }
  t.equal(mode(join(d, 'mine')), '700', 'the existing folder keeps 0700');
  t.equal(mode(join(d, 'mine', 'a')), '755', 'a new level gets 0755 despite umask 077');
  t.equal(mode(join(d, 'mine', 'a', 'b')), '755');
  await makeDirIfMissing(join(d, 'mine'), 0o755);
  t.equal(mode(join(d, 'mine')), '700', 'asked again for an existing folder: unchanged');
});

t.test('planWrites, run: the user\'s 0700 Quadlet folder stays 0700; quay-config stays 0750 with config.yaml in it', async t => {
  const d = mkdtempSync(join(tmpdir(), 'mreg-plan-'));
  const quadlet = join(d, 'home', '.config', 'containers', 'systemd');
  mkdirSync(quadlet, { recursive: true, mode: 0o700 });
  const layout = quayRootLayout(join(d, 'quay-install'));
  const files = [
    { path: join(quadlet, 'quay-app.container'), content: '[Container]\n', mode: 0o644 },
    { path: layout.configYaml, content: 'SERVER_HOSTNAME: x\n', mode: 0o640 },
  ] as unknown as Plan['files'];
  const out = createOutput({ stdout: devNull(), stderr: devNull() });
  const ports = { files: createHostPorts({ env: process.env, out }).files, connect: () => Promise.reject(new Error('files need no systemd')) };
  const run = await executeActions(planWrites(files, layout), ports, { out });
  t.same(run.written, files.map(f => f.path), 'both files written');
  t.equal(mode(quadlet), '700', 'Quadlet folder unchanged (was made 0755 before)');
  t.equal(mode(layout.configDir), '750', 'quay-config keeps the 0750 set for it (config.yaml made it 0755 before)');
  t.equal(mode(layout.root), '700');
});
