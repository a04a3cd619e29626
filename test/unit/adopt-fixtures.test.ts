// mreg adopt's parsing on installs as mirror-registry's own role wrote them (test/fixtures/mirror-registry):
// what adopt derives for each, and findLegacy on the rootless ones laid out under a test folder.
import t from 'tap';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findLegacy } from '../../src/adopt/find.js';
import { adoptionFrom, quayRootFromAppUnit, LEGACY_UNITS, type LegacyFiles } from '../../src/adopt/spec.js';
import type { Scope, Storage } from '../../src/install-spec/spec.js';
import { FIXTURES_ROOT, listFixtures, loadFixtureInput } from '../support/mirror-registry/fixtures.js';
import { RELEASES, type ReleaseName } from '../support/mirror-registry/releases.js';

interface Manifest {
  scope: Scope;
  unitDir: string;
  quayRoot: string;
  enableLinks: string[];
  secrets: { name: string; data: string }[];
  opensslFiles: string[];
}

// 1.2 and 1.3.0-1.3.10 shipped these to everyone (config.yaml.j2 at 1.2.9 and v1.3.10).
const SHARED_KEYS = {
  secretKey: '30824339799025335633887256663000123118247018465144108496567331049820667127217',
  databaseSecretKey: '81541057085600720484162638317561463611194901378275494293746615390984668417511',
  pgPassword: 'password',
  redisPassword: 'password',
};

interface Expected {
  home: string;
  hostname: string;
  port: number;
  quayStorage: Storage;
  pgStorage: Storage;
  /** The release whose units are on disk (after an upgrade, the upgrade's). */
  images: ReleaseName;
  /** 'shared': config.yaml has the constants above; 'generated': the scenario's random values. */
  keys: 'shared' | 'generated';
  legacySecrets: string[];
}

const vol = (name: string): Storage => ({ kind: 'volume', name });
const path = (p: string): Storage => ({ kind: 'path', path: p });
const EXPECTED: Record<string, Expected> = {
  '1.2.9-rootful': { home: '/root', hostname: 'registry.example.com', port: 8443,
    quayStorage: path('/etc/quay-install/quay-storage'), pgStorage: path('/etc/quay-install/pg-data'), images: '1.2.9', keys: 'shared', legacySecrets: [] },
  '1.2.9-upgraded-1.3.11-rootful': { home: '/root', hostname: 'registry.example.com', port: 8443,
    quayStorage: vol('quay-storage'), pgStorage: vol('pg-storage'), images: '1.3.11', keys: 'shared', legacySecrets: ['pgdb_pass', 'redis_pass'] },
  '1.3.10-rootful': { home: '/root', hostname: 'mirror.example.com', port: 8443,
    quayStorage: vol('quay-storage'), pgStorage: vol('pg-storage'), images: '1.3.10', keys: 'shared', legacySecrets: [] },
  '1.3.10-rootless': { home: '/home/alice', hostname: 'mirror.example.com', port: 8443,
    quayStorage: vol('quay-storage'), pgStorage: vol('pg-storage'), images: '1.3.10', keys: 'shared', legacySecrets: [] },
  '1.3.11-rootless': { home: '/home/alice', hostname: 'mirror.example.com', port: 8443,
    quayStorage: vol('quay-storage'), pgStorage: vol('pg-storage'), images: '1.3.11', keys: 'generated', legacySecrets: ['pgdb_pass', 'redis_pass'] },
  '1.3.11-rootless-bind': { home: '/home/alice', hostname: 'registry.example.com', port: 9443,
    quayStorage: path('/data/quay/storage'), pgStorage: path('/data/quay/pg'), images: '1.3.11', keys: 'generated', legacySecrets: ['pgdb_pass', 'redis_pass'] },
};

function readFixture(name: string): { manifest: Manifest; files: LegacyFiles } {
  const dir = join(FIXTURES_ROOT, name);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const read = (abs: string) => readFileSync(join(dir, 'files', abs), 'utf8');
  const units: LegacyFiles['units'] = {};
  for (const u of LEGACY_UNITS) units[u] = read(join(manifest.unitDir, u));
  const hasRootCa = ['rootCA.pem', 'rootCA.key'].every(f => manifest.opensslFiles.includes(join(manifest.quayRoot, 'quay-rootCA', f)));
  return { manifest, files: { units, configYaml: read(join(manifest.quayRoot, 'quay-config/config.yaml')), hasRootCa } };
}

t.test('every fixture has an expectation', async t => {
  t.same(Object.keys(EXPECTED).sort(), listFixtures());
});

for (const name of listFixtures()) {
  t.test(`adopt derives ${name}`, async t => {
    const want = EXPECTED[name]!;
    const { manifest, files } = readFixture(name);
    const quayRoot = quayRootFromAppUnit(files.units['quay-app.service']!);
    t.equal(quayRoot, manifest.quayRoot, 'quayRoot from the quay-config mount of quay-app.service');
    const a = adoptionFrom(files, { scope: manifest.scope, home: want.home, fqdn: 'elsewhere.example.com', quayRoot: quayRoot! });
    t.equal(a.spec.scope, manifest.scope);
    t.equal(a.spec.quayRoot, manifest.quayRoot);
    t.equal(a.spec.hostname, want.hostname, 'hostname from SERVER_HOSTNAME, not this host');
    t.equal(a.spec.port, want.port, 'port quay-pod publishes');
    t.same(a.spec.quayStorage, want.quayStorage);
    t.same(a.spec.pgStorage, want.pgStorage);
    const { quay, postgres, redis } = RELEASES[want.images].images;
    t.same(a.spec.images, { quay, postgres, redis }, `the images ${want.images}'s units run`);
    t.equal(a.spec.infraImage, RELEASES[want.images].images.pause, 'the pod keeps the infra image mirror-registry\'s pod ran');
    t.same(a.spec.tls, { kind: 'generate' }, 'mirror-registry made quay-rootCA: keep the CA');
    t.equal(a.pgUser, 'user', 'every 1.x install used role "user"');

    const gen = loadFixtureInput(name).install.generated;
    const keys = want.keys === 'shared' ? SHARED_KEYS
      : { secretKey: gen!.secretKey, databaseSecretKey: gen!.databaseSecretKey, pgPassword: gen!.pgdbPassword, redisPassword: gen!.redisPassword };
    t.same(a.secrets, keys, 'keys and passwords from config.yaml');
    t.same([...a.legacySecrets].sort(), want.legacySecrets, 'podman secrets the old units used, to remove once adopted');
    // adopt reads the passwords from config.yaml only: that is safe while the secrets hold the same values.
    const byName = Object.fromEntries(manifest.secrets.map(s => [s.name, s.data]));
    if (want.legacySecrets.length > 0) t.same(byName, { pgdb_pass: keys.pgPassword, redis_pass: keys.redisPassword }, 'secrets agree with config.yaml');
  });
}

for (const name of listFixtures()) {
  const { manifest } = readFixture(name);
  if (manifest.scope !== 'rootless') continue;
  t.test(`findLegacy on ${name} under a temporary $HOME`, async t => {
    const root = t.testdir();
    const at = (abs: string) => join(root, abs);
    const dir = join(FIXTURES_ROOT, name);
    for (const abs of [...LEGACY_UNITS.map(u => join(manifest.unitDir, u)), join(manifest.quayRoot, 'quay-config/config.yaml')]) {
      mkdirSync(dirname(at(abs)), { recursive: true });
      writeFileSync(at(abs), readFileSync(join(dir, 'files', abs)));
    }
    for (const abs of manifest.opensslFiles) {
      mkdirSync(dirname(at(abs)), { recursive: true });
      writeFileSync(at(abs), '');
    }
    for (const link of manifest.enableLinks) {
      mkdirSync(dirname(at(link)), { recursive: true });
      symlinkSync(join('..', link.split('/').pop()!), at(link));
    }
    // The unit names the real quayRoot, outside the temporary root: passed as --quayRoot.
    const found = await findLegacy('rootless', at(EXPECTED[name]!.home), at(manifest.quayRoot));
    t.equal(found.unitDir, at(manifest.unitDir), 'unit dir');
    t.same(found.unitPaths.sort(), LEGACY_UNITS.map(u => at(join(manifest.unitDir, u))).sort(), 'all four units');
    t.same(found.wantsLinks, manifest.enableLinks.map(at).sort(), 'enable links in both .wants folders');
    t.ok(found.files.hasRootCa, 'quay-rootCA found');
  });
}
