// mirror-registry fixture scenarios: scenario.json in, the files the role wrote (under files/) and manifest.json out.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listGoldenFiles } from '../golden.js';
import type { ReleaseName } from './releases.js';
import { install, upgrade, type Flags, type Generated, type Host, type HostState } from './role.js';

export const FIXTURES_ROOT = fileURLToPath(new URL('../../fixtures/mirror-registry/', import.meta.url));

export interface ScenarioInput {
  about: string;
  host: Host;
  install: { release: ReleaseName; flags: Flags; generated?: Generated };
  upgrade?: { release: ReleaseName; flags: Flags };
}

/** Every folder holding a scenario.json, sorted. */
export function listFixtures(root = FIXTURES_ROOT): string[] {
  return readdirSync(root)
    .filter(n => statSync(join(root, n)).isDirectory() && statSync(join(root, n, 'scenario.json'), { throwIfNoEntry: false }))
    .sort();
}

export function loadFixtureInput(name: string, root = FIXTURES_ROOT): ScenarioInput {
  return JSON.parse(readFileSync(join(root, name, 'scenario.json'), 'utf8')) as ScenarioInput;
}

export function renderFixture(input: ScenarioInput): HostState {
  const state = install(input.install.release, input.host, input.install.flags, input.install.generated);
  return input.upgrade ? upgrade(state, input.upgrade.release, input.host, input.upgrade.flags) : state;
}

/** What a scenario folder holds: files/<absolute path> for each rendered file, and manifest.json. */
export function fixtureOutputs(state: HostState): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, f] of state.files) out.set(join('files', path), f.content);
  out.set('manifest.json', renderManifest(state));
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

function renderManifest(s: HostState): string {
  const sorted = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => a.localeCompare(b));
  const manifest = {
    history: s.history,
    scope: s.scope,
    unitDir: s.unitDir,
    quayRoot: s.quayRoot,
    files: sorted(s.files).map(([path, f]) => ({ path, template: f.template, ...(f.mode ? { mode: f.mode } : {}) })),
    enableLinks: [...s.enableLinks].sort(),
    directories: sorted(s.directories).map(([path, d]) => ({ path, ...d })),
    volumes: [...s.volumes].sort(),
    secrets: sorted(s.secrets).map(([name, v]) => ({ name, ...v })),
    opensslFiles: [...s.opensslFiles].sort(),
    linger: s.linger,
    ...(s.etcHosts ? { etcHosts: s.etcHosts } : {}),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Paths (relative to the scenario folder) of every committed output: files/** and manifest.json. */
export function listFixtureOutputs(dir: string): string[] {
  const out = listGoldenFiles(dir).map(p => join('files', p));
  if (statSync(join(dir, 'manifest.json'), { throwIfNoEntry: false })) out.push('manifest.json');
  return out.sort((a, b) => a.localeCompare(b));
}
