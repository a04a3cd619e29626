// The proving ground itself: in the VM, rootful and rootless, a Quadlet pod with the three contract
// images comes up healthy, the Quay stand-in initialises its first user, and podman logs in (CA in
// certs.d, no --tls-verify=false), pushes and pulls; D-Bus (dbus-next) sees the units.
import t from 'tap';
import crypto from 'node:crypto';
import { root, user, requireVm, waitFor, describe, type GuestResult, type GuestOptions } from './guest.js';
import { fromClean } from './snapshot.js';

requireVm();
t.before(fromClean);
t.setTimeout(45 * 60_000); // TCG: container starts take seconds each

const FQDN = 'mreg-vm.example.test';
const DBUS_CHECK = '/opt/mreg/test/vm/guest/dbus-check.mjs';

interface Scope {
  name: string;
  run: (cmd: string, opts?: GuestOptions) => Promise<GuestResult>;
  systemctl: string;
  unitDir: string; // shell path in the guest
  confDir: string; // shell path in the guest
  confInUnit: string; // same folder as written in a .container file
  certsDir: string;
  port: number;
}

const scopes: Scope[] = [
  { name: 'rootful', run: root, systemctl: 'systemctl', unitDir: '/etc/containers/systemd',
    confDir: '/var/lib/fdn-quay/conf', confInUnit: '/var/lib/fdn-quay/conf', certsDir: '/etc/containers/certs.d', port: 18443 },
  { name: 'rootless', run: user, systemctl: 'systemctl --user', unitDir: '$HOME/.config/containers/systemd',
    confDir: '$HOME/fdn-quay/conf', confInUnit: '%h/fdn-quay/conf', certsDir: '$HOME/.config/containers/certs.d', port: 28443 },
];

const CONTAINERS = ['fdn-postgres', 'fdn-redis', 'fdn-quay'];

function quadletFiles(s: Scope): Record<string, string> {
  const common = '[Service]\nRestart=always\nTimeoutStartSec=600\n\n[Install]\nWantedBy=default.target\n';
  return {
    'fdn.pod': `[Unit]\nDescription=mreg foundation pod\n\n[Pod]\nPodName=fdn-pod\nServiceName=fdn-pod\nPublishPort=${s.port}:8443\n`,
    'fdn-pg.volume': '[Volume]\nVolumeName=fdn-pg-data\n',
    'fdn-redis.volume': '[Volume]\nVolumeName=fdn-redis-data\n',
    'fdn-storage.volume': '[Volume]\nVolumeName=fdn-storage-data\n',
    'fdn-postgres.container': `[Unit]\nDescription=fdn postgres\n\n[Container]
Image=localhost/mreg-test/postgres:15
ContainerName=fdn-postgres
Pod=fdn.pod
Volume=fdn-pg.volume:/var/lib/pgsql/data
Environment=POSTGRESQL_USER=quayuser
Environment=POSTGRESQL_DATABASE=quay
Secret=fdn-pg-pass,type=env,target=POSTGRESQL_PASSWORD
HealthCmd=pg_isready -q -h 127.0.0.1 -p 5432
HealthInterval=5s
Notify=healthy\n\n${common}`,
    'fdn-redis.container': `[Unit]\nDescription=fdn redis\n\n[Container]
Image=localhost/mreg-test/redis:7
ContainerName=fdn-redis
Pod=fdn.pod
Volume=fdn-redis.volume:/var/lib/redis/data
Secret=fdn-redis-pass,type=env,target=REDIS_PASSWORD
HealthCmd=sh -c 'REDISCLI_AUTH="$$REDIS_PASSWORD" redis-cli -h 127.0.0.1 ping | grep -q PONG'
HealthInterval=5s
Notify=healthy\n\n${common}`,
    'fdn-quay.container': `[Unit]\nDescription=fdn quay stand-in
Requires=fdn-postgres.service fdn-redis.service
After=fdn-postgres.service fdn-redis.service\n\n[Container]
Image=localhost/mreg-test/quay:v1
ContainerName=fdn-quay
Pod=fdn.pod
Volume=${s.confInUnit}:/quay-registry/conf/stack:Z
Volume=fdn-storage.volume:/datastorage
HealthCmd=curl -fsk https://localhost:8443/health/instance
HealthInterval=5s
Notify=healthy\n\n${common}`,
  };
}

function setupScript(s: Scope, pg: string, redis: string): string {
  const host = `${FQDN}:${s.port}`;
  const files = Object.entries(quadletFiles(s))
    .map(([name, body]) => `cat > "${s.unitDir}/${name}" <<'UNIT'\n${body}UNIT\n`).join('');
  return `set -euo pipefail
mkdir -p "${s.unitDir}" "${s.confDir}" "${s.certsDir}/${host}"
cd "${s.confDir}"
# a CA and a server cert signed by it, as mreg/mirror-registry generate them
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=fdn-test-ca \\
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout ssl.key -out ssl.csr -subj /CN=${FQDN} 2>/dev/null
printf 'subjectAltName=DNS:${FQDN},DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext.cnf
openssl x509 -req -in ssl.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out leaf.pem -extfile ext.cnf 2>/dev/null
cat leaf.pem ca.pem > ssl.cert
mv ca.pem "${s.certsDir}/${host}/ca.crt"
rm -f ca.key ca.srl ssl.csr ext.cnf leaf.pem
cat > config.yaml <<'YAML'
AUTHENTICATION_TYPE: Database
DB_URI: postgresql://quayuser:${pg}@localhost:5432/quay
BUILDLOGS_REDIS: {host: localhost, password: ${redis}, port: 6379}
USER_EVENTS_REDIS: {host: localhost, password: ${redis}, port: 6379}
DISTRIBUTED_STORAGE_CONFIG: {default: [LocalStorage, {storage_path: /datastorage}]}
FEATURE_USER_INITIALIZE: true
SERVER_HOSTNAME: ${host}
SETUP_COMPLETE: true
YAML
chmod 755 .; chmod 644 ./*     # the container runs as uid 1001
printf '%s' '${pg}' | podman secret create --replace fdn-pg-pass - >/dev/null
printf '%s' '${redis}' | podman secret create --replace fdn-redis-pass - >/dev/null
${files}${s.systemctl} daemon-reload
`;
}

function cleanupScript(s: Scope): string {
  const host = `${FQDN}:${s.port}`;
  // the .volume units are oneshot + RemainAfterExit: stop them too, or they linger as "not-found active"
  return `${s.systemctl} stop fdn-pod.service ${CONTAINERS.map((c) => `${c}.service`).join(' ')} 2>/dev/null
${s.systemctl} stop fdn-pg-volume.service fdn-redis-volume.service fdn-storage-volume.service 2>/dev/null
rm -f "${s.unitDir}"/fdn.pod "${s.unitDir}"/fdn-*.container "${s.unitDir}"/fdn-*.volume
${s.systemctl} daemon-reload; ${s.systemctl} reset-failed 2>/dev/null
podman pod rm -f -i fdn-pod >/dev/null; podman rm -f -i ${CONTAINERS.join(' ')} >/dev/null
podman volume rm -f fdn-pg-data fdn-redis-data fdn-storage-data >/dev/null 2>&1
podman secret rm fdn-pg-pass fdn-redis-pass >/dev/null 2>&1
podman rmi -i ${host}/fdnadmin/tiny:1 >/dev/null 2>&1; podman logout ${host} >/dev/null 2>&1
rm -rf "${s.confDir}" "${s.certsDir}/${host}"
true`;
}

async function diagnostics(s: Scope): Promise<string> {
  const st = await s.run(`${s.systemctl} --no-pager status fdn-pod ${CONTAINERS.join(' ')} 2>&1 | tail -60; podman ps -a`);
  const j = await root(`journalctl --no-pager -n 80 -o cat | grep -v -i -e pam_unix -e sshd`);
  return `${st.stdout}\n--- journal\n${j.stdout}`;
}

// npm test runs the rootful scope: every rootless piece (user manager, user Quadlet generator, pasta,
// sub-uids, secrets) is proven by the rootless mreg suites on mreg's own units, and CI's 90 minutes
// are short. Debug knobs: FDN_SCOPES=rootful,rootless runs both; FDN_KEEP=1 leaves the units running.
const only = process.env['FDN_SCOPES'] ?? 'rootful';
for (const s of scopes.filter((x) => !only || only.split(',').includes(x.name))) {
  t.test(`${s.name} Quadlet pod with the contract images`, async (t) => {
    const pg = crypto.randomBytes(12).toString('hex');
    const redis = crypto.randomBytes(12).toString('hex');
    const initPw = `Init-${crypto.randomBytes(9).toString('hex')}`;
    const host = `${FQDN}:${s.port}`;
    const ca = `${s.certsDir}/${host}/ca.crt`;
    if (!process.env['FDN_KEEP']) t.teardown(async () => { await s.run(cleanupScript(s), { timeoutMs: 180_000 }); });

    // leftovers of an aborted earlier run would make the first steps fail confusingly
    await s.run(cleanupScript(s), { timeoutMs: 180_000 });
    const setup = await s.run('bash -s', { input: setupScript(s, pg, redis), timeoutMs: 120_000 });
    t.equal(setup.exitCode, 0, 'units, config, cert and secrets written; daemon-reload', { diag: describe(setup) });
    const gen = await s.run(`${s.systemctl} cat fdn-pod.service ${CONTAINERS.map((c) => `${c}.service`).join(' ')} >/dev/null`);
    t.equal(gen.exitCode, 0, 'Quadlet generated fdn-pod.service and the container units', { diag: describe(gen) });

    const t0 = Date.now();
    const start = await s.run(`${s.systemctl} start fdn-pod.service`, { timeoutMs: 300_000 });
    t.equal(start.exitCode, 0, 'systemctl start fdn-pod.service', { diag: describe(start) });
    const up = await waitFor(async () => {
      // is-active exits 0 when ANY unit is active, so read every state
      const r = await s.run(`${s.systemctl} is-active ${CONTAINERS.map((c) => `${c}.service`).join(' ')}`);
      return r.stdout.trim().split('\n').filter((l) => l === 'active').length === CONTAINERS.length;
    }, 600_000, 3000);
    if (!up) t.fail('containers did not become active (healthy) within 600 s', { diag: await diagnostics(s) });
    else t.pass(`pod + 3 containers active and healthy after ${Math.round((Date.now() - t0) / 1000)} s`);

    const health = await s.run(`curl -s --cacert "${ca}" -w '\\n%{http_code}' https://${host}/health/instance`);
    t.match(health.stdout, /"database":true[\s\S]*\n200$/, '/health/instance is 200 over TLS verified with the CA', { diag: describe(health) });
    const ver = await s.run(`curl -s --cacert "${ca}" https://${host}/api/v1/discovery`);
    t.match(ver.stdout, /"version":"v1"/, 'the stand-in reports STANDIN_VERSION v1');

    const anon = await s.run(`curl -s -o /dev/null -D - --cacert "${ca}" https://${host}/v2/`);
    t.match(anon.stdout, /^HTTP\/\S+ 401/m, '/v2/ without credentials is 401');
    t.match(anon.stdout, /^www-authenticate: Basic realm=/im, '... with a Basic challenge');

    const body = JSON.stringify({ username: 'fdnadmin', password: initPw, email: 'fdn@example.test', access_token: true });
    const initCmd = `curl -s --cacert "${ca}" -H 'content-type: application/json' --data-binary @- -w '\\n%{http_code}' https://${host}/api/v1/user/initialize`;
    const init1 = await s.run(initCmd, { input: body });
    t.match(init1.stdout, /"username":"fdnadmin"[\s\S]*\n200$/, 'user/initialize creates the first user', { diag: describe(init1) });
    const init2 = await s.run(initCmd, { input: body });
    t.match(init2.stdout, /non-empty database[\s\S]*\n400$/, 'a second user/initialize is refused (400)', { diag: describe(init2) });

    const trgm = await s.run(`podman exec fdn-postgres psql -d quay -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm' && podman exec fdn-postgres psql -d quay -tAc "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'"`);
    t.match(trgm.stdout, /^pg_trgm$/m, 'pg_trgm can be created with podman exec psql as the default user', { diag: describe(trgm) });

    const bad = await s.run(`podman login -u fdnadmin --password-stdin ${host}`, { input: 'wrong-password\n' });
    t.not(bad.exitCode, 0, 'podman login with a wrong password is refused', { diag: describe(bad) });
    const login = await s.run(`podman login -u fdnadmin --password-stdin ${host}`, { input: `${initPw}\n` });
    t.equal(login.exitCode, 0, 'podman login (CA from certs.d, TLS verified)', { diag: describe(login) });

    const push = await s.run(`podman tag localhost/mreg-test/tiny:1 ${host}/fdnadmin/tiny:1 && podman push -q ${host}/fdnadmin/tiny:1`, { timeoutMs: 300_000 });
    t.equal(push.exitCode, 0, 'podman push of the tiny image', { diag: describe(push) });
    const pull = await s.run(`podman rmi ${host}/fdnadmin/tiny:1 >/dev/null && podman pull -q ${host}/fdnadmin/tiny:1 && podman image exists ${host}/fdnadmin/tiny:1`, { timeoutMs: 300_000 });
    const quayLog = async () => (await s.run('podman logs --tail 40 fdn-quay 2>&1')).stdout;
    t.equal(pull.exitCode, 0, 'podman pull of it back', { diag: describe(pull) + (pull.exitCode ? `\n--- quay log\n${await quayLog()}` : '') });

    const dbus = await s.run(`node ${DBUS_CHECK} fdn-pod.service fdn-quay.service`);
    let states: Record<string, { ActiveState: string }> = {};
    try { states = JSON.parse(dbus.stdout).units; } catch { /* asserted below */ }
    t.equal(states['fdn-quay.service']?.ActiveState, 'active', `dbus-next reads ActiveState on the ${s.name === 'rootful' ? 'system' : 'user'} bus`, { diag: describe(dbus) });

    // secrets must not leak into container logs or process arguments
    // patterns come on stdin (never argv); the haystack goes through a file
    const leak = await s.run(`f=$(mktemp); { for c in ${CONTAINERS.join(' ')}; do podman logs $c 2>&1; done; ps -eo args; } > "$f"; grep -c -F -f /dev/stdin "$f"; rm -f "$f"`,
      { input: `${pg}\n${redis}\n${initPw}\n` });
    t.equal(leak.stdout.trim(), '0', 'no password in the containers\' logs or in ps', { diag: describe(leak) });

    const t1 = Date.now();
    const stop = await s.run(`${s.systemctl} stop fdn-pod.service && ! ${s.systemctl} is-active -q ${CONTAINERS.map((c) => `${c}.service`).join(' ')}`, { timeoutMs: 300_000 });
    t.equal(stop.exitCode, 0, `stopping the pod stops the containers (${Math.round((Date.now() - t1) / 1000)} s)`, { diag: describe(stop) });
    const failed = await s.run(`${s.systemctl} is-failed ${CONTAINERS.map((c) => `${c}.service`).join(' ')}`);
    t.notMatch(failed.stdout, /^failed$/m, 'no container unit ended failed (clean SIGTERM shutdown)', { diag: describe(failed) });
  });
}
