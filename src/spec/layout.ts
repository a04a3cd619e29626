// Where mreg keeps things: the quayRoot layout and the per-scope pointer to it. Pure path arithmetic.
import { join } from 'node:path';
import type { Scope } from './spec.js';

export interface QuayRootLayout {
  root: string;
  configDir: string;
  configYaml: string;
  sslCert: string;
  sslKey: string;
  caDir: string;
  caCert: string;
  caKey: string;
  credentials: string;
  record: string;
}

export function quayRootLayout(root: string): QuayRootLayout {
  const configDir = join(root, 'quay-config');
  const caDir = join(root, 'quay-rootCA');
  return {
    root,
    configDir,
    configYaml: join(configDir, 'config.yaml'),
    sslCert: join(configDir, 'ssl.cert'),
    sslKey: join(configDir, 'ssl.key'),
    caDir,
    caCert: join(caDir, 'rootCA.pem'),
    caKey: join(caDir, 'rootCA.key'),
    credentials: join(root, 'credentials'),
    record: join(root, 'mreg-install.json'),
  };
}

/** A small file naming the quayRoot of this scope's install, so down/status need no flags. */
export function pointerPath(scope: Scope, home: string): string {
  return scope === 'rootful' ? '/var/lib/mreg/quayRoot' : join(home, '.local/state/mreg/quayRoot');
}

/** Lock against two mreg commands at once, per scope. */
export function lockPath(scope: Scope, home: string, runtimeDir: string): string {
  return scope === 'rootful' ? '/run/mreg.lock' : join(runtimeDir || join(home, '.local/state/mreg'), 'mreg.lock');
}

export function defaultQuayRoot(scope: Scope, home: string): string {
  return scope === 'rootful' ? '/etc/quay-install' : join(home, 'quay-install');
}

export const UNITS = {
  pod: 'quay-pod.service',
  postgres: 'quay-postgres.service',
  redis: 'quay-redis.service',
  app: 'quay-app.service',
} as const;

/** Stop order for down: the app first, then its backends, then the pod. */
export const STOP_ORDER = [UNITS.app, UNITS.redis, UNITS.postgres, UNITS.pod] as const;
export const ALL_UNITS = [UNITS.pod, UNITS.postgres, UNITS.redis, UNITS.app] as const;

export const SECRET_NAMES = {
  pgPassword: 'mreg-pg-password',
  pgAdminPassword: 'mreg-pg-admin-password',
  redisPassword: 'mreg-redis-password',
  secretKey: 'mreg-quay-secret-key',
  databaseSecretKey: 'mreg-quay-database-secret-key',
} as const;
