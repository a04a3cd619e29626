// mreg down's actions for every golden scenario, against down-actions.json (rewritten only by test/golden/regen.ts).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plan } from '../../src/plan/plan.js';
import { listScenarios, loadScenario, renderDownActions } from '../support/golden.js';

for (const name of listScenarios()) {
  t.test(name, async t => {
    const s = loadScenario(name);
    const expected = readFileSync(join(s.dir, 'down-actions.json'), 'utf8');
    t.equal(renderDownActions(s, plan(s.spec, s.facts, s.secrets)), expected, 'down and down --purge plan the recorded actions');
  });
}
