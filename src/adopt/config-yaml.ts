// mirror-registry's config.yaml through adopt: its settings and every key mreg does not set stay as the
// registry's users know them; what mreg does change is listed. Pure.
import type { QuayRootLayout } from '../install-spec/layout.js';
import { configChanges, keptFromConfig, type ConfigChange, type KeptConfig } from '../plan/config-keep.js';
import type { Plan } from '../plan/plan.js';
import { TEMPLATE_KEYS } from '../plan/quay-config.js';
import type { FoundLegacy } from './find.js';

export function keptConfig(found: FoundLegacy, layout: QuayRootLayout): KeptConfig {
  return keptFromConfig(found.files.configYaml, layout.configYaml, TEMPLATE_KEYS);
}

/** How the planned config.yaml differs from mirror-registry's. */
export function configDiff(found: FoundLegacy, layout: QuayRootLayout, planned: Plan): ConfigChange[] {
  return configChanges(found.files.configYaml, planned.files.find(f => f.path === layout.configYaml)?.content ?? '', layout.configYaml);
}

export function keptNote(kept: KeptConfig): string {
  return `config.yaml: kept ${Object.keys(kept.settings).length} settings and ${kept.foreign.length} keys mreg does not set, as they were`;
}

/** `configKept` in adopt's --json. */
export function keptReport(kept: KeptConfig): { settings: string[]; keys: string[] } {
  return { settings: Object.keys(kept.settings), keys: kept.foreign.map(([k]) => k) };
}
