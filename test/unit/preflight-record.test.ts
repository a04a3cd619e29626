import t from 'tap';
import { readFileSync } from 'node:fs';
import { PODMAN_SUPPORT } from '../../src/plan/compat.js';
import { preflight, type PreflightFacts } from '../../src/plan/preflight.js';
import { parseRecord, serializeRecord, RECORD_SCHEMA_VERSION, type InstallRecord } from '../../src/install-spec/record.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';

const spec: InstallSpec = {
  scope: 'rootless', hostname: 'reg.example.com', port: 8443, quayRoot: '/home/u/quay-install',
  quayStorage: { kind: 'volume', name: 'quay-storage' }, pgStorage: { kind: 'volume', name: 'pg-storage' },
  tls: { kind: 'generate' }, initUser: 'init',
  images: { quay: 'q', postgres: 'p', redis: 'r' },
};
const good: PreflightFacts = {
  podmanVersion: [5, 4, 2], cgroupV2: true, systemdReachable: true, hasSubuid: true, hasSubgid: true, portFree: true,
  portOwnedByInstall: false, hostnameResolves: true, memTotalBytes: 16 * 1024 ** 3, cpus: 4,
  diskFreeBytes: 100 * 1024 ** 3, user: 'u',
};

t.test('a good host passes with no warnings', async t => {
  t.same(preflight(spec, good), { errors: [], warnings: [] });
});

t.test('every host problem is reported at once, each with a fix', async t => {
  const r = preflight(spec, { ...good, podmanVersion: [4, 4, 1], cgroupV2: false, hasSubuid: false, portFree: false, hostnameResolves: false });
  t.equal(r.errors.length, 5);
  t.match(r.errors[0], /^podman 4\.4\.1 is too old: mreg needs podman 4\.6 or newer.*upgrade podman/);
  t.notMatch(r.errors[0], /\n/, 'one line');
  t.match(r.errors[1], /cgroup v2.*unified_cgroup_hierarchy/);
  t.match(r.errors[2], /subuid.*usermod --add-subuids/);
  t.match(r.errors[3], /port 8443 is already in use.*--quayHostname reg\.example\.com:PORT/);
  t.match(r.errors[4], /--quayHostname reg\.example\.com: the name does not resolve/);
});

t.test('podman 4.6-4.9 runs with the 4.x layout and a warning; 5.x needs no warning', async t => {
  const r = preflight(spec, { ...good, podmanVersion: [4, 9, 4] });
  t.same(r.errors, []);
  t.match(r.warnings.join('\n'), /podman 4\.9\.4: using the podman 4 layout/);
  t.same(preflight(spec, { ...good, podmanVersion: [4, 6, 0] }).errors, []);
  t.match(preflight(spec, { ...good, podmanVersion: [4, 5, 9] }).errors[0], /4\.5\.9 is too old/);
  t.same(preflight(spec, { ...good, podmanVersion: [5, 0, 0] }).warnings, []);
});

t.test('missing podman and unreachable systemd are errors', async t => {
  const r = preflight(spec, { ...good, podmanVersion: undefined, systemdReachable: false, systemdError: 'no bus' });
  t.match(r.errors.join('\n'), /podman is not installed/);
  t.match(r.errors.join('\n'), /systemd is not reachable over D-Bus \(no bus\)/);
});

t.test('a port held by this install on a re-run is no conflict', async t => {
  t.same(preflight(spec, { ...good, portFree: false, portOwnedByInstall: true }).errors, []);
});

t.test('small hosts get warnings, not errors', async t => {
  const r = preflight(spec, { ...good, cpus: 1, memTotalBytes: 2 * 1024 ** 3, diskFreeBytes: 1024 ** 3 });
  t.same(r.errors, []);
  t.equal(r.warnings.length, 3);
});

t.test('rootless cannot publish a privileged port', async t => {
  t.match(preflight({ ...spec, port: 443 }, good).errors.join('\n'), /below 1024/);
  t.same(preflight({ ...spec, scope: 'rootful', port: 443 }, good).errors, []);
});

const record: InstallRecord = {
  schemaVersion: RECORD_SCHEMA_VERSION, mregVersion: '0.1.0', createdAt: 'x', updatedAt: 'y',
  spec: { ...spec }, files: ['/a'], secrets: ['s'], volumes: ['quay-storage'], lingerEnabledByMreg: true,
};

t.test('install record round trip', async t => {
  t.same(parseRecord(serializeRecord(record), '/r'), record);
  const checked = { ...record, pgData: { imageId: 'sha256:abc', major: '17' } };
  t.same(parseRecord(serializeRecord(checked), '/r'), checked, 'the PostgreSQL check result is kept');
  t.equal(serializeRecord({ ...record, pgData: undefined }), serializeRecord(record), 'no check result: no pgData key');
  t.throws(() => parseRecord(serializeRecord({ ...record, pgData: { imageId: 1 } } as never), '/r'), /damaged \(pgData/, 'a damaged check result is refused');
  const mounts = { ...record, volumeMountpoints: { 'quay-storage': '/var/lib/containers/storage/volumes/quay-storage/_data' } };
  t.same(parseRecord(serializeRecord(mounts), '/r'), mounts, 'the volumes\' folders up recorded are kept (status reads them)');
});

t.test('corrupt and future records are refused with the path and a fix', async t => {
  t.throws(() => parseRecord('{not json', '/r.json'), { message: '/r.json: install record is not valid JSON', hint: /^put back a copy from before the damage .*; no mreg command rewrites it$/ });
  t.throws(() => parseRecord(JSON.stringify({ ...record, schemaVersion: 99 }), '/r.json'), { message: /schema version 99, newer than this mreg understands/ });
  t.throws(() => parseRecord(JSON.stringify({ ...record, spec: { ...record.spec, port: 'x' } }), '/r.json'), { message: /install record is damaged \(spec\.port/ });
});

t.test('rootless needs both /etc/subuid and /etc/subgid ranges; the message names the missing one', async t => {
  const noGid = preflight(spec, { ...good, hasSubgid: false });
  t.same(noGid.errors, ['user u has no entry in /etc/subgid; add one: usermod --add-subgids 100000-165535 u']);
  const neither = preflight(spec, { ...good, hasSubuid: false, hasSubgid: false });
  t.match(neither.errors[0], /\/etc\/subuid or \/etc\/subgid; add one: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 u$/);
  t.same(preflight({ ...spec, scope: 'rootful' }, { ...good, hasSubgid: false }).errors, [], 'rootful needs neither');
});

t.test('a missing podman names the real minimum (4.6), not 5.0', async t => {
  const { podmanVersion: _none, ...noPodman } = good;
  const r = preflight(spec, noPodman);
  t.equal(r.errors[0], `podman is not installed; install it (dnf install podman): mreg needs ${PODMAN_SUPPORT}`);
  t.match(PODMAN_SUPPORT, /^podman 4\.6 or newer: RHEL 8\.10 and 9\.4 ship 4\.9 .*RHEL 9\.5\+ and 10 ship 5\.x/);
});

t.test('README and mreg-up(1) say what is supported in the words of PODMAN_SUPPORT', async t => {
  const flat = (s: string) => s.replace(/\\-/g, '-').replace(/^\.[A-Z]+ ?/gm, '').replace(/\s+/g, ' ');
  t.ok(flat(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).includes(PODMAN_SUPPORT), 'README.md');
  t.ok(flat(readFileSync(new URL('../../man/mreg-up.1', import.meta.url), 'utf8')).includes(PODMAN_SUPPORT), 'man/mreg-up.1');
});
