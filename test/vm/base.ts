// The shared install: one per scope, side by side, made once per VM boot and kept as the `base`
// snapshot, so the suites that need a running registry (mreg, security, cert, upgrade, bundle) restore
// it in seconds instead of each paying a first start. It is made the way a user makes one (release
// executable, --verbose, --json, then podman login and a push), while root samples every argv, so
// the security suite can check that install's output and process table.
// Rootful keeps its own quayRoot and an empty blob folder the admin made beforehand (mode 0711):
// `up` with no flags must find it, and `down --purge` must give the folder back as it was.
import { describe, IMAGE_FLAGS, IMG, SCOPES, asRoot as root, type GuestResult, type Scope } from './guest.js';
import { hasSnapshot, restoreSnapshot, saveSnapshot, fromClean } from './snapshot.js';
import { login as loginWithCa, sampleArgv } from './scopes.js';

export const ROOTFUL_BLOBS = '/srv/mreg-blobs';
const ROOTS: Record<Scope['name'], string> = { rootful: '/srv/mreg-root', rootless: '/home/mreg/quay-install' };
export const INSTALL_FLAGS: Record<Scope['name'], string> = { rootful: `--quayRoot ${ROOTS.rootful} --quayStorage ${ROOTFUL_BLOBS}`, rootless: '' };
/** The scopes as the base install has them (rootful's quayRoot is its own). */
export const BASE_SCOPES: readonly Scope[] = SCOPES.map(s => ({ ...s, quayRoot: ROOTS[s.name] }));

const DIR = '/var/lib/mreg-test';
/** Every process's argv (`ps -eo args`), sampled about 6 times a second while both installs ran. */
export const PS_LOG = `${DIR}/ps.log`;
const FACTS = `${DIR}/base.json`;

export interface UpResult { url: string; username: string; password: string; caPath: string; unchanged: boolean; steps?: string[] }
/** `mreg up --dry-run --json`: `plan` is the steps it lists, with the ids a run reports in `steps`. */
export interface DryRunResult { plan: { id: string; text: string }[] }

/** What making the base install printed and stored, per scope. */
export interface BaseInstall {
  /** `up --dry-run --json` with the same flags, run just before the install. */
  dryRun: GuestResult;
  up: GuestResult;
  json?: UpResult;
  login: GuestResult;
  push: GuestResult;
  /** Manifest digest of `<user>/tiny:one`, pushed right after the install. */
  digest: string;
}

export const upBase = (s: Scope, extra = '') => `mreg up --quayHostname ${s.host} ${IMAGE_FLAGS} ${INSTALL_FLAGS[s.name]} ${extra}`.trim();
export const tinyOne = (s: Scope, c: { username: string }) => `${s.host}/${c.username}/tiny:one`;

async function make(s: Scope): Promise<BaseInstall> {
  const dryRun = await s.run(upBase(s, '--dry-run --json'));
  const up = await s.run(upBase(s, '--verbose --json'), { timeoutMs: 30 * 60_000 });
  let json: UpResult | undefined;
  try { json = JSON.parse(up.stdout) as UpResult; } catch { /* reported below */ }
  if (up.exitCode !== 0 || !json) return { dryRun, up, login: up, push: up, digest: '' };
  const login = await loginWithCa(s, json);
  const ref = tinyOne(s, json);
  const push = await s.run(`set -e; f=$(mktemp); podman tag ${IMG}/tiny:1 ${ref}; podman push -q --digestfile "$f" ${ref}
    podman rmi ${ref} >/dev/null; cat "$f"; rm -f "$f"`);
  return { dryRun, up, json, login, push, digest: push.stdout.trim().split('\n').pop() ?? '' };
}

async function build(): Promise<Map<string, BaseInstall>> {
  await fromClean();
  await root(`set -e; mkdir -p -m 0700 ${DIR}; rm -rf ${ROOTFUL_BLOBS}; mkdir -m 0711 ${ROOTFUL_BLOBS}
    ${sampleArgv(PS_LOG, `${DIR}/ps.stop`)}`);
  const made = await Promise.all(BASE_SCOPES.map(make));
  await root(`touch ${DIR}/ps.stop; sleep 1`);
  const facts = new Map(BASE_SCOPES.map((s, i) => [s.name, made[i]!] as const));
  const bad = BASE_SCOPES.filter(s => !/^sha256:[0-9a-f]{64}$/.test(facts.get(s.name)!.digest));
  if (bad.length) {
    throw new Error(bad.map(s => { const f = facts.get(s.name)!; return `${s.name} base install failed:\n${describe(f.up)}\n--- login\n${describe(f.login)}\n--- push\n${describe(f.push)}`; }).join('\n'));
  }
  const w = await root(`umask 077; cat >${FACTS}`, { input: JSON.stringify(Object.fromEntries(facts)) });
  if (w.exitCode !== 0) throw new Error(`could not store the base facts: ${describe(w)}`);
  await saveSnapshot('base');
  return facts;
}

/**
 * Puts the guest at the base install (made now if this boot has none) and returns what making it
 * printed. Throws when it cannot be made: every suite that needs it then fails, never skips.
 */
export async function useBase(): Promise<Map<string, BaseInstall>> {
  if (!(await hasSnapshot('base'))) return build();
  await restoreSnapshot('base');
  const r = await root(`cat ${FACTS}`);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, BaseInstall>));
}
