// What each mirror-registry 1.x release brings to a rendered install: its templates, CLI defaults and images.
// Sources are named per row; test/fixtures/mirror-registry/README.md cites them in full.

export type ReleaseName = '1.2.9' | '1.3.10' | '1.3.11';
export type TemplateName = 'pod.service.j2' | 'postgres.service.j2' | 'quay.service.j2' | 'redis.service.j2' | 'config.yaml.j2';

export interface Release {
  name: ReleaseName;
  /** The git ref of quay/mirror-registry the row was read from. */
  ref: string;
  /** Folder under templates/ holding each template (identical templates are kept once, in the oldest release). */
  templates: Record<TemplateName, ReleaseName>;
  /** cmd/install.go flag defaults (1.2 had no --quayStorage/--pgStorage: data lived under quayRoot). */
  defaults: { quayRoot: string; quayStorage?: string; pgStorage?: string };
  /** cmd/install.go: 1.3 appends ":8443" to a --quayHostname without a port; 1.2 passed it as given. */
  appendsPort: boolean;
  /** 1.3.11 (#142): random config keys and passwords, the passwords in podman secrets pgdb_pass/redis_pass. */
  podmanSecrets: boolean;
  /** .env at the ref: baked into the binary with -ldflags and passed to ansible-playbook as -e. */
  images: { quay: string; postgres: string; redis: string; pause: string };
}

// What every 1.3 shares: its CLI defaults (cmd/install.go) and the non-Quay images of its .env.
const CLI_13 = { defaults: { quayRoot: '~/quay-install', quayStorage: 'quay-storage', pgStorage: 'pg-storage' }, appendsPort: true };
const RHEL8_13 = {
  postgres: 'registry.redhat.io/rhel8/postgresql-10:1-203.1669834630',
  redis: 'registry.redhat.io/rhel8/redis-6:1-92.1669834635',
  pause: 'registry.access.redhat.com/ubi8/pause:8.7-6',
};

export const RELEASES: Record<ReleaseName, Release> = {
  // Role templates identical from tag 1.2.0 to 1.2.9.
  '1.2.9': {
    name: '1.2.9',
    ref: 'tag 1.2.9 (0fd44754a0a30fb9e31c1a4677d97337ec86448e)',
    templates: { 'pod.service.j2': '1.2.9', 'postgres.service.j2': '1.2.9', 'quay.service.j2': '1.2.9', 'redis.service.j2': '1.2.9', 'config.yaml.j2': '1.2.9' },
    defaults: { quayRoot: '/etc/quay-install' },
    appendsPort: false,
    podmanSecrets: false,
    images: {
      quay: 'registry.redhat.io/quay/quay-rhel8:v3.7.10',
      postgres: 'registry.redhat.io/rhel8/postgresql-10:1-202.1666660384',
      redis: 'registry.redhat.io/rhel8/redis-6:1-88.1666660352',
      pause: 'registry.access.redhat.com/ubi8/pause:8.6-21',
    },
  },
  // Role templates identical from tag v1.3.0 to v1.3.10; only the images moved.
  '1.3.10': {
    name: '1.3.10',
    ref: 'tag v1.3.10 (80816e23ae015be7bdb9c49efe23e7e318e3c663)',
    templates: { 'pod.service.j2': '1.2.9', 'postgres.service.j2': '1.3.10', 'quay.service.j2': '1.3.10', 'redis.service.j2': '1.2.9', 'config.yaml.j2': '1.3.10' },
    ...CLI_13,
    podmanSecrets: false,
    images: { quay: 'registry.redhat.io/quay/quay-rhel8:v3.8.14', ...RHEL8_13 },
  },
  // Untagged: Red Hat shipped 1.3.11 from the head of branch mirror-registry-1.3-rhel-8.
  '1.3.11': {
    name: '1.3.11',
    ref: 'branch mirror-registry-1.3-rhel-8 at 26d82cea952998d643d53cc2c8248af6ea2e12b4 (v1.3.10-10-g26d82ce)',
    templates: { 'pod.service.j2': '1.2.9', 'postgres.service.j2': '1.3.11', 'quay.service.j2': '1.3.11', 'redis.service.j2': '1.3.11', 'config.yaml.j2': '1.3.11' },
    ...CLI_13,
    podmanSecrets: true,
    images: { quay: 'registry.redhat.io/quay/quay-rhel8:v3.8.15', ...RHEL8_13 },
  },
};

/** Which template becomes which unit (tasks/install-*-service.yaml `template: dest:`). */
export const UNIT_TEMPLATES = {
  'quay-pod.service': 'pod.service.j2',
  'quay-postgres.service': 'postgres.service.j2',
  'quay-redis.service': 'redis.service.j2',
  'quay-app.service': 'quay.service.j2',
} as const satisfies Record<string, TemplateName>;
