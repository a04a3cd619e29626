// The validated description of one install: what every later layer works from.

export type Scope = 'rootful' | 'rootless';

/** Where data lives: a podman named volume, or an absolute host path bind-mounted. */
export type Storage = { kind: 'volume'; name: string } | { kind: 'path'; path: string };

/**
 * Blobs in an S3-compatible bucket (Ceph RGW, OpenShift Data Foundation, MinIO): Quay's RadosGWStorage.
 * The key pair is read from credentialsFile when mreg needs it and never recorded.
 */
export interface ObjectStorage {
  kind: 's3';
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing '/', '' for none. */
  prefix: string;
  /** e.g. https://s3.example.com:443 (origin only). */
  endpoint: string;
  credentialsFile: string;
  /** PEM bundle to trust for the endpoint's certificate (private CAs). */
  caBundle?: string;
  keys?: S3Keys;
  /** caBundle's PEM, read with the keys (not recorded either). */
  caPem?: string;
}

export interface S3Keys { accessKey: string; secretKey: string }

/** Quay's blob storage: local like Postgres' data, or an object store. */
export type QuayStorage = Storage | ObjectStorage;

export type TlsSource =
  | { kind: 'generate' }
  | { kind: 'provided'; certPath: string; keyPath: string; skipCheck: boolean };

export interface Images {
  quay: string;
  postgres: string;
  redis: string;
}

export interface InstallSpec {
  scope: Scope;
  /** DNS name clients use, without port (e.g. registry.example.com). */
  hostname: string;
  /** Host port the pod publishes; Quay listens on 8443 inside. */
  port: number;
  /** Absolute path of the folder holding quay-config/, the CA, credentials and the install record. */
  quayRoot: string;
  quayStorage: QuayStorage;
  pgStorage: Storage;
  tls: TlsSource;
  initUser: string;
  /** Undefined: generate one (or reuse the recorded one on re-run). */
  initPassword?: string;
  images: Images;
  /** Absolute path of an image archive to `podman load` before starting (then nothing is pulled). */
  imageArchive?: string;
  /**
   * The pod's infra image (`--infra-image`); undefined: podman's own, which it builds from catatonit.
   * Adopt keeps the one mirror-registry's pod ran with (its pause.tar), which the host holds.
   */
  infraImage?: string;
  /**
   * --anonymousAccess / --userCreation: config.yaml access rules to set on this run. Not recorded: the
   * file keeps them, and every later run carries them over (plan/config-keep.ts SETTINGS).
   */
  accessRules?: AccessRules;
}

/** The access rules a flag may change, by config.yaml key. */
export type AccessRules = Partial<Record<'FEATURE_ANONYMOUS_ACCESS' | 'FEATURE_USER_CREATION', boolean>>;

/** Random values of one install; generated once, recorded, never rotated on re-run. */
export interface InstallSecrets {
  secretKey: string;
  databaseSecretKey: string;
  pgPassword: string;
  pgAdminPassword: string;
  redisPassword: string;
  initPassword: string;
}

/** What mreg learned about the host, read once before planning; plan() treats it as input. */
export interface HostFacts {
  scope: Scope;
  uid: number;
  gid: number;
  user: string;
  home: string;
  /** `hostname -f` (falls back to the short name). */
  fqdn: string;
  /** podman version as [major, minor, patch], or undefined when podman is missing. */
  podmanVersion?: readonly [number, number, number];
  /** Where Quadlet files go: /etc/containers/systemd or ~/.config/containers/systemd. */
  quadletDir: string;
  /** For rootless: $XDG_RUNTIME_DIR (computed as /run/user/<uid> when unset). */
  runtimeDir: string;
  now: Date;
  /** From /sys/fs/selinux/enforce; 'disabled' when it is missing. */
  selinux: SelinuxMode;
}

export type SelinuxMode = 'enforcing' | 'permissive' | 'disabled';
