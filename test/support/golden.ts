// Golden scenarios: spec.json + facts.json + secrets.json in, the planned files (under files/) out.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_SECRET_NAMES } from '../../src/model/views.js';
import { planDown } from '../../src/plan/down.js';
import { unitDirs } from '../../src/plan/layout-move.js';
import { upSteps, type UpStep } from '../../src/plan/up-steps.js';
import type { Plan } from '../../src/plan/plan.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { RECORD_SCHEMA_VERSION, recordSpec, type InstallRecord } from '../../src/install-spec/record.js';
import type { HostFacts, InstallSecrets, InstallSpec } from '../../src/install-spec/spec.js';

export const GOLDEN_ROOT = fileURLToPath(new URL('../golden/', import.meta.url));

export interface Scenario {
  name: string;
  dir: string;
  spec: InstallSpec;
  facts: HostFacts;
  secrets: InstallSecrets;
}

/** Every folder of test/golden holding a spec.json, sorted. */
export function listScenarios(root = GOLDEN_ROOT): string[] {
  return readdirSync(root)
    .filter(n => statSync(join(root, n)).isDirectory() && statSync(join(root, n, 'spec.json'), { throwIfNoEntry: false }))
    .sort();
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function loadScenario(name: string, root = GOLDEN_ROOT): Scenario {
  const dir = join(root, name);
  const facts = readJson<HostFacts & { now: string; podmanVersion?: [number, number, number] }>(join(dir, 'facts.json'));
  return {
    name,
    dir,
    spec: readJson<InstallSpec>(join(dir, 'spec.json')),
    facts: { ...facts, now: new Date(facts.now) },
    secrets: readJson<InstallSecrets>(join(dir, 'secrets.json')),
  };
}

/** Where a planned file's expected bytes live: files/ + its absolute path, so files/etc/containers/systemd/ is a ready QUADLET_UNIT_DIRS. */
export function goldenFilePath(dir: string, absPath: string): string {
  return join(dir, 'files', absPath.replace(/^\/+/, ''));
}

/** Paths (relative to files/) of every expected file on disk. */
export function listGoldenFiles(dir: string): string[] {
  const base = join(dir, 'files');
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(base, p));
    }
  };
  if (statSync(base, { throwIfNoEntry: false })) walk(base);
  return out.sort();
}

/** Everything in a Plan except file contents (those are compared as files), as stable JSON. */
export function renderManifest(p: Plan): string {
  const manifest = {
    files: p.files.map(f => ({ path: f.path, mode: `0${f.mode.toString(8)}`, sensitive: f.sensitive, kind: f.kind })),
    secrets: p.secrets.map(s => s.name),
    volumes: p.volumes,
    // Only with SELinux on, so the manifests of the sets without it stay as they were.
    ...(p.selinuxLabels.length > 0 ? { selinuxLabels: p.selinuxLabels } : {}),
    services: p.services,
    pod: p.pod,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** The record `mreg up` would write for the scenario's plan, every folder created by mreg. */
export function recordOf(s: Scenario, p: Plan): InstallRecord {
  const bindPaths = [s.spec.quayStorage, s.spec.pgStorage].flatMap(st => (st.kind === 'path' ? [st.path] : []));
  return {
    schemaVersion: RECORD_SCHEMA_VERSION, mregVersion: '0.0.0-golden', createdAt: s.facts.now.toISOString(), updatedAt: s.facts.now.toISOString(),
    spec: recordSpec(s.spec), files: p.files.map(f => f.path).sort(), secrets: ALL_SECRET_NAMES, volumes: p.volumes,
    lingerEnabledByMreg: s.spec.scope === 'rootless',
    takenDirs: [s.spec.quayRoot, ...bindPaths].map(path => ({ path, createdFrom: path })),
  };
}

/**
 * mreg down's actions for an install made from the scenario (the record `mreg up` would write for its
 * plan, every folder created by mreg), without and with --purge, as stable JSON.
 */
export function renderDownActions(s: Scenario, p: Plan): string {
  const record = recordOf(s, p);
  const layout = quayRootLayout(s.spec.quayRoot);
  const flows = Object.fromEntries([false, true].map(purge => [purge ? 'down --purge' : 'down',
    planDown({ record, layout, facts: s.facts, purge, quayRootGiven: false }).actions]));
  return `${JSON.stringify(flows, null, 2)}\n`;
}

/** One line a step, "[id] text": the id is what a command's `--json` reports for the step it took. */
export function stepLines(steps: readonly UpStep[]): string[] {
  return steps.map(st => `[${st.id}] ${st.text}`);
}

/**
 * The steps `mreg up --dry-run` lists for the scenario: a first install (linger off), and a re-run over
 * the install it made (its record and first user in place), as stable JSON.
 */
export function renderUpSteps(s: Scenario, p: Plan): string {
  const layout = quayRootLayout(s.spec.quayRoot);
  const host = (lingerEnabled: boolean) => ({ user: s.facts.user, home: s.facts.home, lingerEnabled, podmanVersion: s.facts.podmanVersion ?? [5, 0, 0], unitDirs: unitDirs(s.facts) });
  const flows = {
    'up (first install)': stepLines(upSteps({ spec: s.spec, changes: [], planned: p, layout, host: host(false) })),
    'up (again)': stepLines(upSteps({ spec: s.spec, previous: recordOf(s, p), changes: [], planned: p, layout, host: host(true), credentialsUser: s.spec.initUser })),
  };
  return `${JSON.stringify(flows, null, 2)}\n`;
}
