// Every command's actions and steps for every golden scenario, against the JSON files beside its files
// (down-actions.json, up-steps.json, upgrade-, cert-, backup-, restore- and migrate-steps.json; the table is
// GOLDEN_STEP_FILES, rewritten only by test/golden/regen.ts).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plan } from '../../src/plan/plan.js';
import { listScenarios, loadScenario } from '../support/golden.js';
import { GOLDEN_STEP_FILES } from '../support/golden-steps.js';

type Flow = (string | { id?: string })[] | Record<string, string[]>;

/**
 * The ids of one flow: of its "[id] text" lines or down's actions; for restore, of its parts around up's
 * steps taken together. Those are restore's own steps: up's, between them, repeat some of their ids
 * (images-present, start:quay-app.service, health), so uniqueness holds for restore's steps, not the log.
 */
function flowIds(flow: Flow): (string | undefined)[] {
  const items = Array.isArray(flow) ? flow : Object.values(flow).flat();
  return items.map(x => (typeof x === 'string' ? /^\[([^\]]+)\]/.exec(x)?.[1] : x.id));
}

for (const name of listScenarios()) {
  t.test(name, async t => {
    const s = loadScenario(name);
    const p = plan(s.spec, s.facts, s.secrets);
    for (const g of GOLDEN_STEP_FILES) {
      const rendered = g.render(s, p);
      t.equal(rendered, readFileSync(join(s.dir, g.file), 'utf8'), `${g.file}: ${g.says}`);
      // A command's --json reports the ids of the steps it took (fault tests kill on them): one id must name one step.
      for (const [flow, steps] of Object.entries(JSON.parse(rendered) as Record<string, Flow>)) {
        const ids = flowIds(steps);
        t.equal(new Set(ids).size, ids.length, `${g.file} ${flow}: every step has its own id`);
        t.notOk(ids.includes(undefined), `${g.file} ${flow}: every step has an id`);
      }
    }
  });
}
