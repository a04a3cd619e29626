// The proving ground: the three contract images, as mreg's Quadlet units run them in both scopes
// (the shared base install, base.ts), keep the outward contract mreg relies on: /health/instance over
// TLS verified with the CA, the version (also in the image's root filesystem), a Basic challenge on /v2/,
// user/initialize only on an empty database, pg_trgm in the quay database, a wrong password refused, pulls; dbus-next reads the units;
// no password in the containers' logs or in ps; stopping the pod stops every container cleanly.
// Until stop 12 this suite started its own hand-written pod per scope (6–10 min of first starts on
// TCG); mreg's units are what users run, and every suite proves them, so it checks those instead.
import t from 'tap';
import { requireVm, describe, sideBySide } from './guest.js';
import { useBase, BASE_SCOPES, tinyOne, type BaseInstall } from './base.js';
import { IMG } from './scopes.js';

requireVm();
t.setTimeout(30 * 60_000);

const DBUS_CHECK = '/opt/mreg/test/vm/guest/dbus-check.mjs';
const CONTAINERS = ['quay-postgres', 'quay-redis', 'quay-app'];
let base = new Map<string, BaseInstall>();
t.before(async () => { base = await useBase(); });

sideBySide(t, 'the contract images under mreg\'s units (both scopes at once)', BASE_SCOPES, (t, s) => {
  t.test(`${s.name}: the images' outward contract`, async t => {
    const b = base.get(s.name);
    if (!b?.json) return void t.fail('no base install');
    const { username, password } = b.json;
    const ca = `--cacert ${s.quayRoot}/quay-rootCA/rootCA.pem`;
    const url = `https://${s.host}`;

    const health = await s.run(`curl -s ${ca} -w '\\n%{http_code}' ${url}/health/instance`);
    t.match(health.stdout, /"database":true[\s\S]*\n200$/, '/health/instance is 200 over TLS verified with the CA', { diag: describe(health) });
    const ver = await s.run(`curl -s ${ca} ${url}/api/v1/discovery`);
    t.match(ver.stdout, /"version":"v1"/, 'the stand-in reports STANDIN_VERSION v1');
    // In the root filesystem, as real Quay has its version in its code: a podman export (mirror-registry's quay.tar) keeps it.
    const baked = await s.run(`podman run --rm --network none --entrypoint cat ${IMG}/quay:v2 /quay-registry/standin-version.json`);
    t.match(baked.stdout, /"version":"v2","schema":2/, 'the v2 image carries its version and schema in its root filesystem', { diag: describe(baked) });

    const anon = await s.run(`curl -s -o /dev/null -D - ${ca} ${url}/v2/`);
    t.match(anon.stdout, /^HTTP\/\S+ 401/m, '/v2/ without credentials is 401');
    t.match(anon.stdout, /^www-authenticate: Basic realm=/im, '... with a Basic challenge');

    // mreg up made the first user; Quay refuses a second bootstrap on a non-empty database.
    const init = await s.run(`curl -s ${ca} -H 'content-type: application/json' --data-binary @- -w '\\n%{http_code}' ${url}/api/v1/user/initialize`,
      { input: JSON.stringify({ username: 'another', password: 'Another-pw-123', email: 'a@example.test', access_token: true }) });
    t.match(init.stdout, /non-empty database[\s\S]*\n400$/, 'a second user/initialize is refused (400)', { diag: describe(init) });

    const trgm = await s.run(`podman exec quay-postgres psql -d quay -tAc "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'"`);
    t.match(trgm.stdout, /^pg_trgm$/m, 'pg_trgm exists in the quay database', { diag: describe(trgm) });

    const bad = await s.run(`podman login -u ${username} --password-stdin --authfile /tmp/fdn-auth-${s.name}.json ${s.host}; r=$?; rm -f /tmp/fdn-auth-${s.name}.json; exit $r`, { input: 'wrong-password\n' });
    t.not(bad.exitCode, 0, 'podman login with a wrong password is refused', { diag: describe(bad) });

    const ref = tinyOne(s, b.json);
    const pull = await s.run(`podman rmi -i ${ref} >/dev/null && podman pull -q ${ref} >/dev/null && podman image inspect --format '{{.Digest}}' ${ref} && podman rmi ${ref} >/dev/null`, { timeoutMs: 300_000 });
    t.equal(pull.stdout.trim(), b.digest, 'the pushed image pulls with its digest', { diag: describe(pull) });

    const dbus = await s.run(`node ${DBUS_CHECK} quay-pod.service quay-app.service`);
    let states: Record<string, { ActiveState: string }> = {};
    try { states = JSON.parse(dbus.stdout).units; } catch { /* asserted below */ }
    t.equal(states['quay-app.service']?.ActiveState, 'active', `dbus-next reads ActiveState on the ${s.name === 'rootful' ? 'system' : 'user'} bus`, { diag: describe(dbus) });

    // Patterns come on stdin (never argv) and the haystack goes through a file.
    const leak = await s.run(`f=$(mktemp); p=$(mktemp); { for c in ${CONTAINERS.join(' ')}; do podman logs $c 2>&1; done; ps -eo args; } > "$f"
      { cat; echo; for n in mreg-pg-password mreg-pg-admin-password mreg-redis-password; do podman secret inspect --showsecret --format '{{.SecretData}}' $n; echo; done; } | grep -v '^$' > "$p"
      grep -c -F -f "$p" "$f"; rm -f "$f" "$p"`, { input: password });
    t.equal(leak.stdout.trim(), '0', 'no password in the containers\' logs or in ps', { diag: describe(leak) });

    const stop = await s.run(`${s.systemctl} stop quay-pod.service && ! ${s.systemctl} is-active -q ${CONTAINERS.map(c => `${c}.service`).join(' ')}`, { timeoutMs: 300_000 });
    t.equal(stop.exitCode, 0, 'stopping the pod stops the containers', { diag: describe(stop) });
    const failed = await s.run(`${s.systemctl} is-failed ${CONTAINERS.map(c => `${c}.service`).join(' ')}`);
    t.notMatch(failed.stdout, /^failed$/m, 'no container unit ended failed (clean SIGTERM shutdown)', { diag: describe(failed) });
  });
});

// No teardown: the next file restores its own snapshot (snapshot.ts).
