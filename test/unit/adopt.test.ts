// mreg adopt, pure parts: mirror-registry 1.2/1.3 unit files and config.yaml → InstallSpec + secrets.
import t from 'tap';
import { dbCredentials, execStarts, parseLegacyConfig, parseLegacyUnit, parsePodmanLine, splitWords, yamlScalar } from '../../src/adopt/legacy.js';
import { adoptedSecrets, adoptionFrom, quayRootFromAppUnit, type LegacyFiles } from '../../src/adopt/spec.js';
import { renameRoleArgs, renameRoleSql } from '../../src/adopt/pg-role.js';
import { HostError, UsageError } from '../../src/errors.js';

// Shapes of mirror-registry 1.3.11's templates (rootless, named volumes, podman secrets).
const POD = `[Unit]
Description=Infra Container for Quay
Before=quay-postgres.service quay-redis.service

[Service]
Type=simple
RemainAfterExit=yes
ExecStartPre=-/bin/rm -f %t/%n-pid %t/%n-pod-id
ExecStart=/usr/bin/podman pod create \\
    --name quay-pod \\
    --infra-image registry.access.redhat.com/ubi8/pause:8.7-6 \\
    --publish 8443:8443 \\
    --pod-id-file %t/%n-pod-id \\
    --replace
ExecStop=-/usr/bin/podman pod stop --ignore --pod-id-file %t/%n-pod-id -t 10

[Install]
WantedBy=multi-user.target default.target
`;
const PG = (volume: string, extra = '') => `[Service]
ExecStartPre=-/bin/rm -f %t/%n-pid %t/%n-cid
ExecStart=/usr/bin/podman run \\
    --name quay-postgres \\
    -v ${volume}:/var/lib/pgsql/data:Z \\
    --image-volume=ignore \\
    -e POSTGRESQL_USER=user \\
    -e POSTGRESQL_DATABASE=quay \\
    ${extra}--pod=quay-pod \\
    --conmon-pidfile %t/%n-pid \\
    --cidfile %t/%n-cid \\
    --cgroups=no-conmon \\
    --replace \\
    registry.redhat.io/rhel8/postgresql-10:1-203.1669834630
ExecStop=/usr/bin/podman stop --ignore --cidfile %t/%n-cid -t 10
`;
const REDIS = `[Service]
ExecStart=/usr/bin/podman run \\
    --name quay-redis \\
    --pod=quay-pod \\
    --image-volume=ignore \\
    --secret=redis_pass,type=env,target=REDIS_PASSWORD \\
    --replace \\
    registry.redhat.io/rhel8/redis-6:1-92.1669834635
`;
const APP = (root: string, storage: string) => `[Unit]
Requires=quay-pod.service quay-postgres.service quay-redis.service

[Service]
Environment=PODMAN_SYSTEMD_UNIT=%n
ExecStart=/usr/bin/podman run \\
    --name quay-app \\
    -v ${root}/quay-config:/quay-registry/conf/stack:Z \\
    -v ${storage}:/datastorage:Z \\
    --image-volume=ignore \\
    --pod=quay-pod \\
    --replace \\
    registry.redhat.io/quay/quay-rhel8:v3.8.15
`;
const CONFIG = `AUTHENTICATION_TYPE: Database
BUILDLOGS_REDIS:
  host: localhost
  password: r3disPw
  port: 6379
DATABASE_SECRET_KEY: '81541057085600720484162638317561463611194901378275494293746615390984668417511'
DB_URI: postgresql://user:pgPw%2Fx@localhost/quay
SECRET_KEY: "30824339799025335633887256663000123118247018465144108496567331049820667127217"
SERVER_HOSTNAME: registry.example.com:8443
SUPER_USERS:
- admin
USER_EVENTS_REDIS:
  host: localhost
  password: r3disPw
  port: 6379
`;

const files13 = (over: Partial<LegacyFiles> = {}): LegacyFiles => ({
  units: {
    'quay-pod.service': POD,
    'quay-postgres.service': PG('pg-storage', '--secret=pgdb_pass,type=env,target=POSTGRESQL_PASSWORD \\\n    '),
    'quay-redis.service': REDIS,
    'quay-app.service': APP('/home/alice/quay-install', 'quay-storage'),
  },
  configYaml: CONFIG,
  hasRootCa: true,
  ...over,
});
const rootless = { scope: 'rootless' as const, home: '/home/alice', fqdn: 'host.example.com', quayRoot: '/home/alice/quay-install' };

t.test('unit files: continuation lines, quoting, podman run flags', async t => {
  t.equal(execStarts(POD).length, 1, 'ExecStartPre/ExecStop are not ExecStart');
  t.same(splitWords(`a "b c" 'd e' f\\ g "h\\"i"`), ['a', 'b c', 'd e', 'f g', 'h"i']);
  const pod = parseLegacyUnit(POD)!;
  t.equal(pod.verb, 'pod create');
  t.equal(pod.publishedPort, 8443);
  t.equal(parsePodmanLine('/usr/bin/podman pod create --name quay-pod -p 127.0.0.1:9443:8443/tcp')?.publishedPort, 9443);
  const app = parseLegacyUnit(APP('/etc/quay-install', '/srv/blobs'))!;
  t.equal(app.name, 'quay-app');
  t.equal(app.image, 'registry.redhat.io/quay/quay-rhel8:v3.8.15');
  t.same(app.mounts.map(m => [m.source, m.target, m.options]), [
    ['/etc/quay-install/quay-config', '/quay-registry/conf/stack', 'Z'], ['/srv/blobs', '/datastorage', 'Z']]);
  const pg = parseLegacyUnit(PG('pg-storage', '--secret pgdb_pass,type=env,target=POSTGRESQL_PASSWORD '))!;
  t.same(pg.env, { POSTGRESQL_USER: 'user', POSTGRESQL_DATABASE: 'quay' });
  t.same(pg.secrets, { pgdb_pass: 'POSTGRESQL_PASSWORD' }, '--secret with a space, not =');
  t.equal(parsePodmanLine('/bin/rm -f %t/%n-pid'), undefined, 'not podman');
  t.equal(parsePodmanLine('-/usr/bin/podman stop --ignore x'), undefined, 'not run');
  t.equal(quayRootFromAppUnit(APP('/srv/quay/', 'q')), '/srv/quay');
});

t.test('config.yaml: block maps, quoting, DB_URI', async t => {
  const c = parseLegacyConfig(CONFIG);
  t.equal(c.redisPassword, 'r3disPw');
  t.equal(c.serverHostname, 'registry.example.com:8443');
  t.equal(c.secretKey, '30824339799025335633887256663000123118247018465144108496567331049820667127217');
  t.equal(c.databaseSecretKey, '81541057085600720484162638317561463611194901378275494293746615390984668417511');
  t.same(dbCredentials(c.dbUri!), { user: 'user', password: 'pgPw/x' }, 'percent-decoded');
  t.equal(parseLegacyConfig('BUILDLOGS_REDIS: {host: localhost, password: "a,b", port: 6379}\n').redisPassword, 'a,b', 'flow map');
  t.equal(parseLegacyConfig('BUILDLOGS_REDIS:\n  host: localhost\n  port: 6379\nX: 1\n  password: no\n').redisPassword, undefined, 'only the block itself');
  t.equal(yamlScalar(`'it''s'`), "it's");
  t.equal(yamlScalar('bare # comment'), 'bare');
  t.same(dbCredentials('sqlite:////sqlite/quay_sqlite.db'), {});
});

t.test('1.3 rootless install → spec', async t => {
  const a = adoptionFrom(files13(), rootless);
  t.equal(a.spec.scope, 'rootless');
  t.equal(a.spec.hostname, 'registry.example.com');
  t.equal(a.spec.port, 8443);
  t.equal(a.spec.quayRoot, '/home/alice/quay-install');
  t.same(a.spec.quayStorage, { kind: 'volume', name: 'quay-storage' });
  t.same(a.spec.pgStorage, { kind: 'volume', name: 'pg-storage' });
  t.same(a.spec.images, { quay: 'registry.redhat.io/quay/quay-rhel8:v3.8.15', postgres: 'registry.redhat.io/rhel8/postgresql-10:1-203.1669834630', redis: 'registry.redhat.io/rhel8/redis-6:1-92.1669834635' });
  t.same(a.spec.tls, { kind: 'generate' }, 'mirror-registry CA kept: mreg reuses quay-rootCA');
  t.equal(a.pgUser, 'user');
  t.same(a.secrets, { secretKey: '30824339799025335633887256663000123118247018465144108496567331049820667127217',
    databaseSecretKey: '81541057085600720484162638317561463611194901378275494293746615390984668417511', pgPassword: 'pgPw/x', redisPassword: 'r3disPw' });
  t.same(a.legacySecrets.sort(), ['pgdb_pass', 'redis_pass']);
  t.match(a.warnings.join('\n'), /role "user" will be renamed to "quay"/);
});

t.test('1.2 rootful install (bind paths under /etc/quay-install, env passwords) → spec', async t => {
  const f = files13({
    units: {
      'quay-pod.service': POD.replace('8443:8443', '443:8443'),
      'quay-postgres.service': PG('/etc/quay-install/pg-data', '-e POSTGRESQL_PASSWORD=password \\\n    '),
      'quay-redis.service': REDIS.replace('--secret=redis_pass,type=env,target=REDIS_PASSWORD', '-e REDIS_PASSWORD=password'),
      'quay-app.service': APP('/etc/quay-install', '/etc/quay-install/quay-storage'),
    },
    configYaml: CONFIG.replace('registry.example.com:8443', 'registry.example.com:443'),
    hasRootCa: false,
  });
  const a = adoptionFrom(f, { scope: 'rootful', home: '/root', fqdn: 'h.example.com', quayRoot: '/etc/quay-install' },
    { quayImage: 'registry.example.com/quay/quay-rhel8:v3.12.18' });
  t.equal(a.spec.scope, 'rootful');
  t.equal(a.spec.port, 443);
  t.same(a.spec.quayStorage, { kind: 'path', path: '/etc/quay-install/quay-storage' });
  t.same(a.spec.pgStorage, { kind: 'path', path: '/etc/quay-install/pg-data' });
  t.equal(a.spec.images.quay, 'registry.example.com/quay/quay-rhel8:v3.12.18', 'flag overrides the old image');
  t.same(a.spec.tls, { kind: 'provided', certPath: '/etc/quay-install/quay-config/ssl.cert', keyPath: '/etc/quay-install/quay-config/ssl.key', skipCheck: true },
    'no rootCA: the pair was the user\'s own');
  t.same(a.legacySecrets, []);
});

t.test('refusals', async t => {
  t.throws(() => adoptionFrom(files13({ units: { 'quay-app.service': '[Service]\nExecStart=/bin/true\n' } }), rootless), HostError);
  const noPg = files13();
  delete noPg.units['quay-postgres.service'];
  t.throws(() => adoptionFrom(noPg, rootless), { message: /quay-postgres.service is missing/, hint: /2\.x \(SQLite\)/ }, '2.x has no Postgres');
  t.throws(() => adoptionFrom(files13({ configYaml: CONFIG.replace(/^SECRET_KEY.*\n/m, '') }), rootless), /lacks secretKey/);
  t.throws(() => adoptionFrom(files13({ configYaml: CONFIG.replace('SERVER_HOSTNAME: registry.example.com', 'SERVER_HOSTNAME: 10.0.0.5') }), rootless), UsageError, 'an IP is refused as by mreg up');
  t.throws(() => adoptionFrom(files13(), rootless, { quayImage: 'not a ref' }), UsageError);
});

t.test('a bad value is named as where it came from: the user\'s flag as the flag, the old install\'s as the old install\'s', async t => {
  t.throws(() => adoptionFrom(files13(), rootless, { quayImage: 'Quay:latest' }),
    { message: /^--quayImage Quay:latest: /, hint: 'nothing was changed; see: mreg adopt --help' }, 'a flag');
  t.throws(() => adoptionFrom(files13({ configYaml: CONFIG.replace('SERVER_HOSTNAME: registry.example.com', 'SERVER_HOSTNAME: 10.0.0.5') }), rootless, { quayImage: 'Quay:latest' }),
    { message: /^from the old install: --quayHostname 10\.0\.0\.5.*\n--quayImage Quay:latest: /s, hint: /^pass the flag to adopt to override the value/ }, 'both');
});

t.test('Postgres role rename: SQL names roles only, argv holds no secret', async t => {
  const sql = renameRoleSql('us"er');
  t.match(sql, /ALTER ROLE "us""er" RENAME TO "quay"/);
  t.match(sql, /rolname = 'us"er'/);
  const args = renameRoleArgs('img:1', { kind: 'volume', name: 'pg-storage' });
  t.ok(args.includes('pg-storage:/var/lib/pgsql/data'));
  t.ok(renameRoleArgs('img:1', { kind: 'path', path: '/srv/pg' }).includes('/srv/pg:/var/lib/pgsql/data:Z,U'));
  t.ok(renameRoleArgs('img:1', { kind: 'path', path: '/srv/pg' }, false).includes('/srv/pg:/var/lib/pgsql/data:U'), 'labelled by mreg: no :Z to undo it');
  t.notMatch(args.join(' '), /pgPw|password/i);
});

t.test('adopted secrets: Quay\'s two keys carried over, the PostgreSQL and Redis passwords new (issue 15, 5)', async t => {
  const found = { secretKey: 'sk', databaseSecretKey: 'dsk', pgPassword: 'password', redisPassword: 'password' };
  const generated = { secretKey: 'new-sk', databaseSecretKey: 'new-dsk', pgPassword: 'new-pg', pgAdminPassword: 'new-admin', redisPassword: 'new-redis', initPassword: 'new-init' };
  t.same(adoptedSecrets(found, generated), { ...generated, secretKey: 'sk', databaseSecretKey: 'dsk' });
});
