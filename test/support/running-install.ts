// A rootless install as `mreg up` leaves it, on the in-memory host of fake-host.ts: the record, files,
// units, secrets, volumes and containers, for tests of the commands that read or remove it.
import type { HostProbe } from '../../src/actions/ports.js';
import type { InstallRecord } from '../../src/install-spec/record.js';
import { recordFile, type FakeHostState } from './fake-host.js';

export const HOME = '/home/alice';
export const ROOT = `${HOME}/quay-install`;
export const QD = `${HOME}/.config/containers/systemd`;
export const POINTER = `${HOME}/.local/state/mreg/quayRoot`;
export const TRUST = `${HOME}/.config/containers/certs.d/registry.example.com:8443/ca.crt`;
export const NOW = new Date('2026-03-01T12:00:00.000Z');
export const SECRETS = ['mreg-pg-password', 'mreg-pg-admin-password', 'mreg-redis-password', 'mreg-quay-secret-key', 'mreg-quay-database-secret-key'];
export const UNITS = ['quay-app.service', 'quay-redis.service', 'quay-postgres.service', 'quay-pod.service'];

export const probe: HostProbe = {
  scope: 'rootless', uid: 1000, gid: 1000, user: 'alice', home: HOME, fqdn: 'registry.example.com',
  podmanVersion: [5, 4, 2], quadletDir: QD, runtimeDir: '/run/user/1000', now: NOW, cgroupV2: true,
  hasSubuid: true, hasSubgid: true, lingerEnabled: true, hasUserBus: true, memTotalBytes: 8 * 1024 ** 3, cpus: 2, selinux: 'disabled',
};

export type Storage = InstallRecord['spec']['quayStorage'];

/** A running install as `mreg up` leaves it: units active, files, secrets, volumes, containers. */
export function runningInstall(o: { quayStorage?: Storage; pgStorage?: InstallRecord['spec']['pgStorage']; takenDirs?: InstallRecord['takenDirs']; linger?: boolean; dirs?: FakeHostState['dirs']; extraFiles?: string[] } = {}): FakeHostState {
  const quayStorage = o.quayStorage ?? { kind: 'volume', name: 'quay-storage' };
  const pgStorage = o.pgStorage ?? { kind: 'volume', name: 'pg-storage' };
  const volumes = [quayStorage, pgStorage].flatMap(s => (s.kind === 'volume' ? [s.name] : []));
  const quadlets = ['quay.pod', 'quay-postgres.container', 'quay-redis.container', 'quay-app.container', ...volumes.map(v => `${v}.volume`)].map(f => `${QD}/${f}`);
  const record: InstallRecord = {
    schemaVersion: 1, mregVersion: '0.1.0', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
    spec: {
      scope: 'rootless', hostname: 'registry.example.com', port: 8443, quayRoot: ROOT, quayStorage, pgStorage,
      tls: { kind: 'generate' }, initUser: 'init', images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' },
    },
    files: [...quadlets, `${ROOT}/quay-config/config.yaml`, TRUST],
    secrets: SECRETS, volumes, lingerEnabledByMreg: o.linger ?? false,
    ...(o.takenDirs ? { takenDirs: o.takenDirs } : {}),
  };
  const file = (content = 'x') => ({ content, mode: 0o644 });
  return {
    units: Object.fromEntries([...UNITS, ...volumes.map(v => `${v}-volume.service`)].map(u => [u, 'active' as const])),
    files: {
      ...Object.fromEntries([...quadlets, `${ROOT}/quay-config/config.yaml`, `${ROOT}/credentials`, TRUST, ...(o.extraFiles ?? [])].map(f => [f, file()])),
      [`${ROOT}/mreg-install.json`]: recordFile(record),
      [POINTER]: file(`${ROOT}\n`),
    },
    dirs: { [ROOT]: { mode: 0o700, uid: 1000, gid: 1000 }, ...o.dirs },
    secrets: [...SECRETS], volumes: [...volumes], containers: ['quay-app', 'quay-redis', 'quay-postgres'], pods: ['quay-pod'],
    linger: o.linger ?? false,
  };
}
