// What adopt prints once mreg's registry is healthy (or, with --json, the same as one document).
import { join } from 'node:path';
import type { InstallSpec } from '../install-spec/spec.js';
import type { ConfigChange } from '../plan/config-keep.js';
import type { Output } from '../ui/output.js';
import type { FoundLegacy } from './find.js';
import type { Leftovers } from './leftovers.js';

export interface ConfigReport { configKept: { settings: string[]; keys: string[] }; configChanges: ConfigChange[]; leftovers: Leftovers }

export function reportAdopted(out: Output, spec: InstallSpec, found: FoundLegacy, backup: string, ms: number, down: { ms: number; steps: Array<{ step: string; ms: number }> },
  config: ConfigReport): void {
  const url = `https://${spec.hostname}:${spec.port}`;
  if (out.json) {
    out.resultJson({ adopted: true, url, scope: spec.scope, quayRoot: spec.quayRoot, images: spec.images, backup, durationMs: ms,
      downtimeMs: down.ms, downtimeSteps: down.steps, ...config });
    return;
  }
  out.info(`mreg: mirror-registry adopted in ${(ms / 1000).toFixed(1)} s (registry down for ${(down.ms / 1000).toFixed(1)} s)`);
  out.result([
    `URL:        ${url}`,
    `Users:      unchanged (log in with the same passwords as before)`,
    `Old units:  ${backup} (moved from ${found.unitDir})`,
    `Record:     ${join(spec.quayRoot, 'mreg-install.json')}`,
    `Next:       mreg status; later mreg upgrade`,
  ].join('\n'));
}
