// What a registry is: the four components and the names Quadlet, systemd and podman know each by.
// Unit lists, stop orders, container names, secrets and image flags elsewhere are views of these tables.
import type { Images } from '../install-spec/spec.js';

/**
 * The podman secrets of one install, by the InstallSecrets key of their value. All are created so
 * a re-run reuses them; the containers read only those a component lists (Secret= in its template),
 * Quay's two keys reach it through config.yaml.
 */
export const SECRET_NAMES = {
  pgPassword: 'mreg-pg-password',
  pgAdminPassword: 'mreg-pg-admin-password',
  redisPassword: 'mreg-redis-password',
  secretKey: 'mreg-quay-secret-key',
  databaseSecretKey: 'mreg-quay-database-secret-key',
} as const;
export type SecretKey = keyof typeof SECRET_NAMES;

/** The flag that sets each image, in the order messages list them. */
export const IMAGE_FLAGS = {
  quay: '--quayImage',
  postgres: '--pgImage',
  redis: '--redisImage',
} as const satisfies Record<keyof Images, string>;

/** Storage the user chooses (a named volume or a bind path), as a component mounts it. */
export interface StorageMount {
  spec: 'quayStorage' | 'pgStorage';
  target: string;
  /** Volume= options on both kinds (bind paths also get :Z, unless mreg labels them: plan/selinux.ts). */
  options: readonly string[];
  /** Mode of a bind folder. */
  mode: number;
  /** Inside-container uid:gid a bind folder is given before the first start; none when :U chowns it. */
  owner?: { uid: number; gid: number };
  /**
   * The names the container writes at the top of its storage: all that `down --purge` and `storage
   * migrate --cleanup` delete from a bind folder, so files someone else put there stay.
   */
  writes: readonly string[];
}

/** Folders of quayRoot that containers mount (quayRootLayout names the files in them). */
export const QUAY_CONFIG_DIR = 'quay-config';
export const PG_START_HOOK_DIR = 'postgres-start';

/** A folder of quayRoot the component mounts; a file mreg writes there restarts it. */
export interface QuayRootMount {
  dir: string;
  target: string;
  options: string;
}

export interface Component {
  /** Quadlet file of the podman 5 layout, named as its template in units/. */
  quadletFile: string;
  /** The service Quadlet generates from it; podman 4.x's plain pod unit has the pod's name too. */
  service: string;
  /** ContainerName=, or the pod's PodName=. */
  podmanName: string;
  image?: keyof Images;
  storage?: StorageMount;
  quayRootMounts: readonly QuayRootMount[];
  /** Secret= keys of its template. */
  secrets: readonly SecretKey[];
  /** Its start job ends only when its healthcheck passes (ExecStartPost); Quay's health mreg probes itself. */
  startWaitsForHealth: boolean;
}

const pod = {
  quadletFile: 'quay.pod', service: 'quay-pod.service', podmanName: 'quay-pod',
  quayRootMounts: [], secrets: [], startWaitsForHealth: false,
} as const satisfies Component;

const postgres = {
  quadletFile: 'quay-postgres.container', service: 'quay-postgres.service', podmanName: 'quay-postgres', image: 'postgres',
  // :U chowns the data to the image's uid 26 at each start (mirror-registry#259), so no owner here.
  // sclorg's image keeps its cluster in PGDATA=/var/lib/pgsql/data/userdata (test/README.md, PostgreSQL).
  storage: { spec: 'pgStorage', target: '/var/lib/pgsql/data', options: ['U'], mode: 0o700, writes: ['userdata'] },
  // The image sources postgresql-start/*.sh on every start; mreg's creates pg_trgm.
  quayRootMounts: [{ dir: PG_START_HOOK_DIR, target: '/opt/app-root/src/postgresql-start', options: 'ro,Z' }],
  secrets: ['pgPassword', 'pgAdminPassword'], startWaitsForHealth: true,
} as const satisfies Component;

const redis = {
  quadletFile: 'quay-redis.container', service: 'quay-redis.service', podmanName: 'quay-redis', image: 'redis',
  quayRootMounts: [], secrets: ['redisPassword'], startWaitsForHealth: true,
} as const satisfies Component;

const app = {
  quadletFile: 'quay-app.container', service: 'quay-app.service', podmanName: 'quay-app', image: 'quay',
  // Blob storage can be huge, so no :U; Quay (uid 1001, gid 0) gets the folder itself before the start.
  // Quay's LocalStorage writes blobs (sha256/), uploads, sharedimages, _verify and exported action logs
  // (test/README.md, "What `down --purge` deletes"); docker/ is distribution's root, which the stand-in writes.
  storage: { spec: 'quayStorage', target: '/datastorage', options: [], mode: 0o750, owner: { uid: 1001, gid: 0 },
    writes: ['sha256', 'uploads', 'sharedimages', '_verify', 'exportedactionlogs', 'docker'] },
  // :Z on quayRoot's small folders costs nothing and gives config.yaml (secrets) the container's private categories.
  quayRootMounts: [{ dir: QUAY_CONFIG_DIR, target: '/quay-registry/conf/stack', options: 'Z' }],
  secrets: [], startWaitsForHealth: false,
} as const satisfies Component;

/** The components by id. */
export const COMPONENTS = { pod, postgres, redis, app } as const;
export type ComponentId = keyof typeof COMPONENTS;

/** Start order: the pod, the backends, then Quay (which Requires= both). Stop order is the reverse. */
export const START_ORDER = ['pod', 'postgres', 'redis', 'app'] as const satisfies readonly ComponentId[];
