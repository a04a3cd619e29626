// What `adopt --dry-run` shows: the files mreg would write (secrets redacted), what it would do in order,
// and what of config.yaml it keeps or changes. Reads only.
import { recordSpec } from '../install-spec/record.js';
import { describeConfigChange } from '../plan/config-keep.js';
import { plan as makePlan } from '../plan/plan.js';
import { redact } from '../plan/redact.js';
import { printDryRun } from '../ui/dry-run.js';
import type { Output } from '../ui/output.js';
import { adoptActions } from './actions.js';
import { configDiff, keptNote } from './config-yaml.js';
import { findLeftovers, spareVolumes } from './leftovers.js';
import type { Adopting } from './read.js';

/** Plans with the secrets adopt would use, printed redacted; without podman, for podman 5.0. */
export async function printAdoptDryRun(out: Output, a: Adopting, removeLeftovers: boolean): Promise<void> {
  const { spec, secrets, facts } = a;
  if (!facts.podmanVersion) facts.podmanVersion = [5, 0, 0];
  const planned = makePlan(spec, facts, secrets, a.kept);
  const files = planned.files.map(f => ({ path: f.path, mode: `0${f.mode.toString(8)}`, content: redact(f.content, secrets) }));
  const verb = removeLeftovers ? 'remove' : 'offer to remove (asking on a terminal)';
  const leftovers = (await findLeftovers(a.probe.home, a.found.quayRoot, spareVolumes(spec))).map(l => `${verb} ${l.text}`);
  const actions = [...adoptActions(a.found, { ...a.adoption, spec }, planned, a.newCa), ...leftovers];
  const configChanged = configDiff(a.found, a.layout, planned);
  if (out.json) { out.resultJson({ dryRun: true, scope: spec.scope, spec: recordSpec(spec), files, actions, configChanges: configChanged }); return; }
  printDryRun(out, files, actions);
  out.result(keptNote(a.kept));
  for (const c of configChanged) out.result(`would change ${describeConfigChange(c)}`);
}
