// Default values for `mreg up` and fixed names inside the containers (secret names and paths: layout.ts).

import type { Images } from './spec.js';

/**
 * Default images, each checked against an upstream tag list:
 * - quay: the newest 3.12.z, v3.12.21 (quay/quay git tag v3.12.21, 2026-08-05; Red Hat tags quay-rhel8 by
 *   the same version). mirror-registry v2.0.11 (2026-06-22) still pins v3.12.18 in its `.env`.
 * - postgres: the reference sclorg/postgresql-container's imagestreams/postgresql-rhel.json lists
 *   (registry.redhat.io/rhel9/postgresql-15:latest); Red Hat's Quay 3.15 proof-of-concept guide runs this
 *   image. mirror-registry 2.x has no Postgres.
 * - redis: the reference sclorg/redis-container's imagestreams/redis-rhel.json lists
 *   (registry.redhat.io/rhel9/redis-7:latest), same env contract as mirror-registry's rhel8/redis-6.
 * `:latest` for postgres/redis because Red Hat tags those by build id; pin with --pgImage/--redisImage.
 */
export const DEFAULT_IMAGES: Readonly<Images> = {
  quay: 'registry.redhat.io/quay/quay-rhel8:v3.12.21',
  postgres: 'registry.redhat.io/rhel9/postgresql-15:latest',
  redis: 'registry.redhat.io/rhel9/redis-7:latest',
};

/** Host port published when --quayHostname has no `:port` (mirror-registry's default). */
export const DEFAULT_PORT = 8443;
/** Quay's nginx TLS listener inside the pod. */
export const QUAY_TLS_PORT = 8443;
export const PG_PORT = 5432;
export const REDIS_PORT = 6379;

export const DEFAULT_QUAY_STORAGE = 'quay-storage';
export const DEFAULT_PG_STORAGE = 'pg-storage';
export const DEFAULT_INIT_USER = 'init';

/** Quay rejects shorter passwords ("at least 8 characters and contain no whitespace"). */
export const INIT_PASSWORD_MIN_LENGTH = 8;

/** Postgres role and database Quay uses (sclorg image: POSTGRESQL_USER / POSTGRESQL_DATABASE). */
export const PG_USER = 'quay';
export const PG_DATABASE = 'quay';

/**
 * The registry's name for a new install when --quayHostname is not given, in place of `hostname -f`:
 * `up -H HOST` sets it to HOST on the target, as mirror-registry names the registry after the target.
 * Unlike a --quayHostname flag it never overrides the name an existing install recorded.
 */
export const DEFAULT_HOSTNAME_ENV = 'MREG_DEFAULT_HOSTNAME';

/** Label on every podman object mreg creates, so ownership can be checked before deleting. */
export const MANAGED_LABEL = 'io.mreg.managed=1';

/** How long a command waits for /health/instance after starting Quay (a first start migrates the schema). */
export const HEALTH_TIMEOUT_MS = 10 * 60_000;
