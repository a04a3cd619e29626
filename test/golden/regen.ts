// Rewrites every golden scenario's expected output from the current code. Never run by tests.
// Usage: node --import @tapjs/typescript/import test/golden/regen.ts --write   (then review `git diff test/golden`)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { plan } from '../../src/plan/plan.js';
import { goldenFilePath, listScenarios, loadScenario, renderManifest } from '../support/golden.js';
import { GOLDEN_STEP_FILES } from '../support/golden-steps.js';

if (!process.argv.includes('--write')) {
  // Skip-all TAP line, so a bare `tap` that globs test/** does not fail or rewrite anything.
  console.log('1..0 # SKIP regen.ts rewrites golden files only with --write');
} else {
  for (const name of listScenarios()) {
    const s = loadScenario(name);
    const p = plan(s.spec, s.facts, s.secrets);
    rmSync(join(s.dir, 'files'), { recursive: true, force: true });
    for (const f of p.files) {
      const target = goldenFilePath(s.dir, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.content);
    }
    writeFileSync(join(s.dir, 'plan.json'), renderManifest(p));
    for (const g of GOLDEN_STEP_FILES) writeFileSync(join(s.dir, g.file), g.render(s, p));
    console.error(`regenerated ${name}: ${p.files.length} files`);
  }
}
