// By hand, not in CI: adopt's downtime step by step, one executable (A, /opt/mreg-old/mreg) against
// another (B, /usr/local/bin/mreg), alternated over one rendered mirror-registry install that is
// restored from a snapshot (`mr-ab`) before each round, so both adopt the same state on a warm VM.
//   MREG_VM=$PWD/test/vm/vm.sh PORT=2240 MREG_SCOPES=rootful npx tap --disable-coverage --jobs=1 --timeout=3600 test/vm/extra/adopt-ab.ts
// on a VM prepared as test/run.mjs does, with the other executable pushed to /opt/mreg-old/mreg.
// AB_FIXTURE, AB_SCOPE and AB_ROUNDS (default A,B,A,B) choose what runs.
import t from 'tap';
import { renderForGuest, installRendered } from '../mr-install.js';
import { SCOPES, describe } from '../guest.js';
import { fromClean, hasSnapshot, restoreSnapshot, saveSnapshot } from '../snapshot.js';

const FIXTURE = process.env.AB_FIXTURE ?? '1.2.9-upgraded-1.3.11-rootful';
const SCOPE = process.env.AB_SCOPE ?? 'rootful';
const ROUNDS = (process.env.AB_ROUNDS ?? 'A,B,A,B').split(',');
const BIN: Record<string, string> = { A: '/opt/mreg-old/mreg', B: '/usr/local/bin/mreg' };

t.test('adopt A/B', async t => {
  const s = SCOPES.find(x => x.name === SCOPE)!;
  const r = renderForGuest(FIXTURE, s);
  if (!(await hasSnapshot('mr-ab'))) {
    await fromClean();
    const fx = await installRendered(r);
    if (!t.equal(fx.exitCode, 0, 'fixture healthy', { output: describe(fx) })) return;
    await saveSnapshot('mr-ab');
  }
  for (const which of ROUNDS) {
    await restoreSnapshot('mr-ab');
    const res = await r.scope.run(`${BIN[which]} adopt --json`, { timeoutMs: 30 * 60_000 });
    t.equal(res.exitCode, 0, `${which} exit 0`, { output: describe(res) });
    const j = JSON.parse(res.stdout) as { durationMs: number; downtimeMs: number; downtimeSteps: Array<{ step: string; ms: number }> };
    const line = `${which} ${FIXTURE} wall ${(j.durationMs / 1000).toFixed(1)} down ${(j.downtimeMs / 1000).toFixed(1)}: ${j.downtimeSteps.map(x => `${x.step.split(' ').slice(0, 2).join(' ')} ${(x.ms / 1000).toFixed(1)}`).join('; ')}`;
    t.comment(line);
    console.error(`AB: ${line}`);
  }
});
