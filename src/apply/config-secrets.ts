// Secrets recovered from a kept config.yaml. `mreg down` removes the podman secrets but keeps
// quayRoot; Quay encrypts database fields with DATABASE_SECRET_KEY, so a later `mreg up` over the
// same data must reuse these values, never generate new ones.
import type { InstallSecrets } from '../install-spec/spec.js';

type Recovered = Partial<Pick<InstallSecrets, 'secretKey' | 'databaseSecretKey' | 'pgPassword' | 'redisPassword'>>;

/** Reads the values mreg's own config.yaml holds (JSON-quoted scalars, see plan/quay-config.ts). */
export function secretsFromConfig(yaml: string): Recovered {
  const scalar = (key: string): string | undefined => {
    const m = new RegExp(`^${key}: (".*")$`, 'm').exec(yaml);
    if (!m?.[1]) return undefined;
    try { return JSON.parse(m[1]) as string; } catch { return undefined; }
  };
  const out: Recovered = {};
  const secretKey = scalar('SECRET_KEY');
  const databaseSecretKey = scalar('DATABASE_SECRET_KEY');
  if (secretKey) out.secretKey = secretKey;
  if (databaseSecretKey) out.databaseSecretKey = databaseSecretKey;
  const dbUri = scalar('DB_URI');
  if (dbUri) {
    try { out.pgPassword = decodeURIComponent(new URL(dbUri).password) || undefined; } catch { /* not a URL: regenerate */ }
    if (!out.pgPassword) delete out.pgPassword;
  }
  const redis = /^BUILDLOGS_REDIS:\n(?: {2}.*\n)*? {2}password: (".*")$/m.exec(yaml);
  if (redis?.[1]) {
    try { out.redisPassword = JSON.parse(redis[1]) as string; } catch { /* regenerate */ }
  }
  return out;
}
