// What `up --dry-run` shows: the files up would write (secrets redacted) and its steps with their ids,
// the same list a run marks as it goes (plan/up-steps.ts).
import type { HostProbe } from '../actions/ports.js';
import { readCredentials } from '../apply/credentials.js';
import { readKeptConfig } from '../apply/kept-config.js';
import { generateSecrets } from '../apply/secrets-step.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { unitDirs } from '../plan/layout-move.js';
import { ownedKeyResets } from '../plan/config-keep.js';
import { factsFor, plan as makePlan } from '../plan/plan.js';
import { recordedConfigRender } from '../plan/quay-config.js';
import { redact } from '../plan/redact.js';
import { upSteps, type UpStep } from '../plan/up-steps.js';
import { printDryRun } from '../ui/dry-run.js';
import type { Output } from '../ui/output.js';
import type { CheckedUp } from './checks.js';
import type { UpRead } from './read.js';

export interface UpDryRun {
  files: Array<{ path: string; mode: string; content: string }>;
  steps: UpStep[];
  /** The keys mreg owns that the render sets back in the config.yaml on disk (config-keep.ts ownedKeyResets). */
  configResets: string[];
}

/** Plans with throwaway secrets; without podman, for podman 5.0 (with a warning). Reads only. */
export async function planDryRun(out: Pick<Output, 'warn'>, checked: CheckedUp, probe: HostProbe, layout: QuayRootLayout, createBucket: boolean): Promise<UpDryRun> {
  const { spec, previous } = checked;
  const secrets = generateSecrets(spec.initPassword);
  const facts = factsFor(probe);
  if (!facts.podmanVersion) {
    facts.podmanVersion = [5, 0, 0];
    out.warn('podman not found; rendering for podman 5.0 (the .pod layout; mreg also supports 4.6-4.9 with a plain quay-pod.service)');
  }
  const config = await readKeptConfig(layout.configYaml);
  const planned = makePlan(spec, facts, secrets, config.kept);
  const rendered = planned.files.find(f => f.path === layout.configYaml)?.content;
  const recordedRender = recordedConfigRender(spec, previous, secrets, config.kept);
  const configResets = rendered === undefined ? [] : ownedKeyResets(config.text, rendered, layout.configYaml, { secretsRendered: false, recordedRender });
  const files = planned.files.map(f => ({ path: f.path, mode: `0${f.mode.toString(8)}`, content: redact(f.content, secrets, spec) }));
  const steps = upSteps({
    spec, previous, changes: checked.review.changes, planned, layout,
    host: { user: probe.user, home: probe.home, lingerEnabled: probe.lingerEnabled, podmanVersion: facts.podmanVersion, unitDirs: unitDirs(probe) },
    credentialsUser: previous ? (await readCredentials(layout.credentials))?.username : undefined,
    createBucket,
  });
  return { files, steps, configResets };
}

/** The dry run printed, or with --json one document; `plan` carries each step's id, as down's does: `up --json` names the steps it took with them. */
export async function printUpDryRun(out: Output, r: UpRead, createBucket: boolean): Promise<void> {
  const { files, steps, configResets } = await planDryRun(out, r.checked, r.probe, r.layout, createBucket);
  const actions = steps.map(s => s.text);
  if (out.json) out.resultJson({ dryRun: true, scope: r.checked.spec.scope, files, actions, plan: steps, configResets });
  else printDryRun(out, files, actions, configResets.map(line => `would set back ${line}`));
}
