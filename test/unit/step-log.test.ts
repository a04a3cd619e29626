// The step log up and upgrade share: the ids `--json` reports, and the "step ID" lines --verbose prints,
// which the VM fault tests kill mreg on.
import t from 'tap';
import { Writable } from 'node:stream';
import { createOutput } from '../../src/ui/output.js';
import { stepLog } from '../../src/ui/step-log.js';

function run(verbose: boolean) {
  const lines: string[] = [];
  const stderr = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const log = stepLog(createOutput({ verbose, color: false, stderr, stdout: stderr, env: {} }));
  log.did('preflight');
  log.did('write:/a.container', 'write:/b.container');
  return { ran: log.ran, stderr: lines.join('') };
}

t.test('every id is kept in the order the steps ended', async t => {
  t.same(run(false).ran, ['preflight', 'write:/a.container', 'write:/b.container']);
});

t.test('--verbose prints one "step ID" line per id as it ends; without it, nothing', async t => {
  t.equal(run(true).stderr, 'step preflight\nstep write:/a.container\nstep write:/b.container\n');
  t.equal(run(false).stderr, '');
});
