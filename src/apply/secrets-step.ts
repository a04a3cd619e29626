// Install secrets: reused from podman's secret store when they exist, generated once otherwise.
import { randomBytes } from 'node:crypto';
import type { Podman, StoredSecrets } from '../host/podman.js';
import { secretsFromConfig } from './config-secrets.js';
import { SECRET_NAMES } from '../model/components.js';
import { ALL_SECRET_NAMES } from '../model/views.js';
import type { InstallSecrets } from '../install-spec/spec.js';

/** URL-safe random text: no '/', '+', '@' or ':' that could break DB_URI or shell quoting. */
export function randomToken(length: number): string {
  let s = '';
  while (s.length < length) s += randomBytes(length).toString('base64url').replace(/[-_]/g, '');
  return s.slice(0, length);
}

export function generateSecrets(initPassword?: string): InstallSecrets {
  return {
    secretKey: randomToken(48),
    databaseSecretKey: randomToken(48),
    pgPassword: randomToken(32),
    pgAdminPassword: randomToken(32),
    redisPassword: randomToken(32),
    initPassword: initPassword ?? randomToken(32),
  };
}

type StoredKey = keyof typeof SECRET_NAMES;

/** Every mreg secret podman holds, by name, in one podman process. Only reads: up asks it beside its checks. */
export function readStoredSecrets(podman: Pick<Podman, 'secretValues'>): Promise<Map<string, string>> {
  return podman.secretValues(ALL_SECRET_NAMES);
}

/** The same, from podman's files when the record names their folder (`secretStore`); `store` is the folder to record. */
export function readStoredSecretsAt(podman: Pick<Podman, 'storedSecrets'>, store: string | undefined): Promise<StoredSecrets> {
  return podman.storedSecrets(ALL_SECRET_NAMES, store);
}

/**
 * The install's secrets: those podman holds (`stored`, from readStoredSecrets), then those a kept
 * config.yaml holds, fresh values for the rest; and the names that must still be created.
 */
export function resolveSecrets(stored: ReadonlyMap<string, string>, initPassword: string, configYaml?: string): { secrets: InstallSecrets; missing: string[] } {
  const fresh = generateSecrets(initPassword);
  // podman's store wins; a kept config.yaml (after `mreg down`) comes next; new values last.
  const secrets: InstallSecrets = { ...fresh, ...(configYaml ? secretsFromConfig(configYaml) : {}) };
  const missing: string[] = [];
  for (const key of Object.keys(SECRET_NAMES) as StoredKey[]) {
    const existing = stored.get(SECRET_NAMES[key]);
    if (existing !== undefined && existing !== '') secrets[key] = existing;
    else missing.push(SECRET_NAMES[key]);
  }
  return { secrets, missing };
}
