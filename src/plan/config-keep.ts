// What of an existing config.yaml survives mreg's render: the registry's users must see the same
// registry after `mreg adopt` or another `mreg up` (anonymous pulls, self-registration, LDAP, any
// hand edit). mreg owns the keys that wire Quay to its pod (database, Redis, storage, hostname, keys);
// the settings below are only its defaults for a new install; every other key is carried over as found.
import { parse, type YAMLParseError } from 'yaml';
import { HostError } from '../errors.js';
import type { AccessRules } from '../install-spec/spec.js';

export type Yaml = string | number | boolean | null | readonly Yaml[] | { readonly [k: string]: Yaml };

/** User-visible behaviour: mreg's template sets them on a new install and keeps whatever the file says after that. */
export const SETTINGS: ReadonlySet<string> = new Set([
  'AUTHENTICATION_TYPE', 'CREATE_NAMESPACE_ON_PUSH', 'DEFAULT_TAG_EXPIRATION', 'FEATURE_ANONYMOUS_ACCESS',
  'FEATURE_APP_SPECIFIC_TOKENS', 'FEATURE_DIRECT_LOGIN', 'FEATURE_MAILING', 'FEATURE_PROXY_STORAGE', 'FEATURE_USER_CREATION', 'REGISTRY_TITLE',
  'REGISTRY_TITLE_SHORT', 'SUPER_USERS', 'TAG_EXPIRATION_OPTIONS',
]);

/** Why mreg sets an owned key its own way, where a user may wonder (printed beside the change). */
export const OWNED_WHY: Readonly<Record<string, string>> = {
  FEATURE_REPO_MIRROR: 'the registry runs no repository mirror worker',
  FEATURE_SECURITY_SCANNER: 'no Clair runs beside it',
  FEATURE_BUILD_SUPPORT: 'no build workers run beside it',
  DB_URI: 'mreg\'s PostgreSQL role and password',
  BUILDLOGS_REDIS: 'the pod\'s Redis and its new password',
  USER_EVENTS_REDIS: 'the pod\'s Redis and its new password',
};

/** Keys whose values are never printed. */
const SECRET_KEYS = new Set(['DB_URI', 'SECRET_KEY', 'DATABASE_SECRET_KEY', 'BUILDLOGS_REDIS', 'USER_EVENTS_REDIS', 'DISTRIBUTED_STORAGE_CONFIG']);

export interface KeptConfig {
  /** SETTINGS keys as the file has them. */
  settings: Readonly<Record<string, Yaml>>;
  /** Keys mreg's template does not write, in the file's order. */
  foreign: ReadonlyArray<readonly [string, Yaml]>;
}

export const NOTHING_KEPT: KeptConfig = { settings: {}, foreign: [] };

/**
 * Reads a config.yaml as Quay does (PyYAML, YAML 1.1: `yes` is true). Throws HostError naming the file
 * and line when it is not a YAML mapping: mreg never drops a config it cannot read.
 */
export function parseConfig(text: string, file: string): Readonly<Record<string, Yaml>> {
  // A run reads the same texts several times (what is kept, what changes): each parse is ~50 ms under emulation.
  const known = parsed.get(text);
  if (known) return known;
  const doc = parseYaml(text, file);
  if (parsed.size >= 4) parsed.clear();
  parsed.set(text, doc);
  return doc;
}

// The documents are plain data typed readonly: handing the same object out again is safe.
const parsed = new Map<string, Readonly<Record<string, Yaml>>>();

function parseYaml(text: string, file: string): Record<string, Yaml> {
  let doc: unknown;
  try {
    doc = parse(text, { version: '1.1', schema: 'yaml-1.1', uniqueKeys: false, maxAliasCount: 1000 });
  } catch (e) {
    const err = e as YAMLParseError;
    const line = err.linePos?.[0]?.line;
    throw new HostError(`${file} is not valid YAML${line ? ` (line ${line})` : ''}: ${err.message.split('\n')[0]}`,
      `fix it by hand or put back a copy that Quay starts with, then run mreg again; nothing was changed`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new HostError(`${file} is not a YAML mapping of Quay settings`, 'fix it by hand, then run mreg again; nothing was changed');
  }
  return toPlain(doc as Record<string, unknown>, file) as Record<string, Yaml>;
}

/** Dates (YAML 1.1 timestamps) back to the text they were; anything else that is not plain data is refused. */
function toPlain(v: unknown, file: string): Yaml {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(x => toPlain(x, file));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toPlain(x, file)]));
  }
  throw new HostError(`${file} holds a value mreg cannot carry over (${Object.prototype.toString.call(v)})`, 'write it as plain YAML (strings, numbers, lists, maps), then run mreg again; nothing was changed');
}

/** What `text` (the config.yaml on disk, if any) keeps through a render whose own keys are `templateKeys`. */
export function keptFromConfig(text: string | undefined, file: string, templateKeys: ReadonlySet<string>): KeptConfig {
  if (text === undefined) return NOTHING_KEPT;
  const doc = parseConfig(text, file);
  const settings: Record<string, Yaml> = {};
  const foreign: Array<readonly [string, Yaml]> = [];
  for (const [k, v] of Object.entries(doc)) {
    if (SETTINGS.has(k)) settings[k] = v;
    else if (!templateKeys.has(k)) foreign.push([k, v]);
  }
  return { settings, foreign };
}

export interface ConfigChange { key: string; before?: string; after?: string; why?: string }

/** Key by key, what a render changes in a config.yaml; secret values are shown as `<secret>`. */
export function configChanges(beforeText: string | undefined, afterText: string, file: string): ConfigChange[] {
  if (beforeText === afterText) return [];
  const before = beforeText === undefined ? {} : parseConfig(beforeText, file);
  const after = parseConfig(afterText, file);
  const show = (k: string, v: Yaml | undefined) => (v === undefined ? undefined : SECRET_KEYS.has(k) ? '<secret>' : JSON.stringify(v));
  const out: ConfigChange[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[key];
    const a = after[key];
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    const change: ConfigChange = { key };
    const bs = show(key, b);
    const as = show(key, a);
    if (bs !== undefined) change.before = bs;
    if (as !== undefined) change.after = as;
    if (OWNED_WHY[key]) change.why = OWNED_WHY[key];
    out.push(change);
  }
  return out;
}

/** One line per change, for the terminal. */
export function describeConfigChange(c: ConfigChange): string {
  const what = c.before === undefined ? `added ${c.after}` : c.after === undefined ? `removed (was ${c.before})`
    : c.before === '<secret>' ? 'changed' : `${c.before} → ${c.after}`;
  return `config.yaml ${c.key}: ${what}${c.why ? ` (${c.why})` : ''}`;
}

/**
 * What a re-run's render sets back in the config.yaml on disk: the keys mreg owns (a hand edit of one does
 * not last), each as a line for the terminal; the settings and foreign keys are kept, and an access flag's
 * change is said by accessRuleChanges. Secret values are never shown.
 */
export function ownedKeyResets(beforeText: string | undefined, afterText: string, file: string, opts: { secretsRendered?: boolean; recordedRender?: string } = {}): string[] {
  if (beforeText === undefined) return [];
  // A dry run renders with stand-in secrets: its secret keys always differ, so they are left out.
  const secret = (k: string) => opts.secretsRendered === false && SECRET_KEYS.has(k);
  // A key this run's flags change (the render for the recorded spec differs there) is that change, said as
  // such by up, not a hand edit set back.
  const byFlags = new Set(opts.recordedRender === undefined ? [] : configChanges(opts.recordedRender, afterText, file).map(c => c.key));
  return configChanges(beforeText, afterText, file).filter(c => !SETTINGS.has(c.key) && !secret(c.key) && !byFlags.has(c.key)).map(describeConfigChange);
}

/** "KEY: before → after" for each access rule a flag changes in an existing config.yaml. */
export function accessRuleChanges(kept: KeptConfig, rules: AccessRules | undefined): string[] {
  return Object.entries(rules ?? {}).filter(([k, v]) => kept.settings[k] !== v)
    .map(([k, v]) => `${k}: ${k in kept.settings ? String(kept.settings[k]) : 'unset'} → ${String(v)} (config.yaml; quay-app restarts)`);
}
