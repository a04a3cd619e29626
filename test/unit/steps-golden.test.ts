// mreg down's actions and up's dry-run steps for every golden scenario, against down-actions.json and up-steps.json
// (rewritten only by test/golden/regen.ts).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plan } from '../../src/plan/plan.js';
import { listScenarios, loadScenario, renderDownActions, renderUpSteps } from '../support/golden.js';

for (const name of listScenarios()) {
  t.test(name, async t => {
    const s = loadScenario(name);
    const expected = readFileSync(join(s.dir, 'down-actions.json'), 'utf8');
    const p = plan(s.spec, s.facts, s.secrets);
    t.equal(renderDownActions(s, p), expected, 'down and down --purge plan the recorded actions');
    t.equal(renderUpSteps(s, p), readFileSync(join(s.dir, 'up-steps.json'), 'utf8'), 'up --dry-run lists the recorded steps');
    // up --json reports the ids of the steps it took: one id must name one step.
    const flows = JSON.parse(renderUpSteps(s, p)) as Record<string, string[]>;
    for (const [flow, lines] of Object.entries(flows)) {
      const ids = lines.map(l => /^\[([^\]]+)\]/.exec(l)?.[1]);
      t.equal(new Set(ids).size, ids.length, `${flow}: every step has its own id`);
      t.notOk(ids.includes(undefined), `${flow}: every step has an id`);
    }
  });
}
