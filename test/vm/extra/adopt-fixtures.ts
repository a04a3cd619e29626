// By hand, not in CI (about 15 minutes; CI adopts two of the six rendered installs in adopt.test.ts):
// every other rendered mirror-registry install (test/fixtures/mirror-registry) gets a first user and
// an image, is adopted, and must then serve the same image to the same password, healthy.
//   MREG_VM=$PWD/test/vm/vm.sh PORT=2240 npx tap --disable-coverage --jobs=1 --timeout=3600 test/vm/extra/adopt-fixtures.ts
// on a VM prepared as test/run.mjs does (a `clean` snapshot with the release executable installed).
import t from 'tap';
import { describe, sideBySide, SCOPES, type Scope } from '../guest.js';
import { installRendered, renderForGuest } from '../mr-install.js';
import { caPath, login, parseJson, pullDigest, pushTiny } from '../scopes.js';
import { fromClean } from '../snapshot.js';

const FIXTURES: Record<Scope['name'], string[]> = {
  rootful: ['1.2.9-rootful', '1.3.10-rootful'],
  rootless: ['1.3.10-rootless', '1.3.11-rootless'],
};
const OLD = { username: 'init', password: 'mirror-registry-pw-1' };

t.before(fromClean);

sideBySide(t, 'adopt every other rendered install', SCOPES, (t, scope) => {
  for (const fixture of FIXTURES[scope.name]) {
    t.test(fixture, async t => {
      const r = renderForGuest(fixture, scope);
      const s = r.scope;
      // The fixtures of one scope share its folders: the one before this one is taken away first.
      const clear = await s.run(`mreg down --purge --yes >/dev/null 2>&1 || true; test ! -e ${s.quayRoot}`);
      t.equal(clear.exitCode, 0, 'starts without an install', { output: describe(clear) });
      const fx = await installRendered(r);
      if (!t.equal(fx.exitCode, 0, 'the rendered install is healthy', { output: describe(fx) })) return;
      const init = await s.run(`jq -nc --arg p "$(cat)" '{username:"${OLD.username}",password:$p,email:"init@example.test"}' |
        curl -s -o /dev/null -w '%{http_code}' --cacert ${caPath(s)} -H content-type:application/json --data @- https://${s.host}/api/v1/user/initialize`, { input: OLD.password });
      t.equal(init.stdout.trim(), '200', 'first user through mirror-registry\'s bootstrap API', { output: describe(init) });
      t.equal((await login(s, OLD)).exitCode, 0, 'podman login');
      const pushed = await pushTiny(s, OLD);
      if (!t.equal(pushed.r.exitCode, 0, 'push', { output: describe(pushed.r) })) return;

      const a = await s.run('mreg adopt --json --remove-leftovers', { timeoutMs: 30 * 60_000 });
      if (!t.equal(a.exitCode, 0, 'mreg adopt exits 0', { output: describe(a) })) return;
      const j = parseJson<{ downtimeMs: number; durationMs: number }>(a);
      t.comment(`${fixture}: adopt ${((j?.durationMs ?? 0) / 1000).toFixed(1)} s, down ${((j?.downtimeMs ?? 0) / 1000).toFixed(1)} s`);
      const st = await s.run('mreg status', { timeoutMs: 300_000 });
      t.equal(st.exitCode, 0, 'mreg status: healthy', { output: describe(st) });
      t.equal((await login(s, OLD)).exitCode, 0, 'the old password logs in');
      t.equal((await pullDigest(s, OLD)).digest, pushed.digest, 'the image pulls with the digest it was pushed with');
      const units = await s.run(`${s.systemctl} show -p FragmentPath --value quay-app.service`);
      t.match(units.stdout, /\/generator\/quay-app\.service$/m, 'quay-app is Quadlet\'s unit now, not mirror-registry\'s', { output: describe(units) });
    });
  }
});
