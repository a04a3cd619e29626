// The podman 4 ↔ 5 layout move (src/plan/layout-move.ts): what up deletes, what up and upgrade refuse.
import t from 'tap';
import { layoutProblem, staleUnits } from '../../src/plan/layout-move.js';

const dirs = { quadletDir: '/etc/containers/systemd', systemdUnitDir: '/etc/systemd/system' };
const containers = ['quay-postgres.container', 'quay-redis.container', 'quay-app.container'].map(f => `${dirs.quadletDir}/${f}`);
const made49 = [...containers, '/etc/systemd/system/quay-pod.service', '/etc/quay-install/quay-config/config.yaml', '/etc/containers/certs.d/h:8443/ca.crt'];
const made5 = [...containers, `${dirs.quadletDir}/quay.pod`, '/etc/quay-install/quay-config/config.yaml'];

t.test('staleUnits: the plain pod unit once the plan has quay.pod; never other recorded files', async t => {
  t.same(staleUnits(made49, made5, dirs), ['/etc/systemd/system/quay-pod.service']);
  t.same(staleUnits(made5, made5, dirs), []);
  t.same(staleUnits(made49, made49, dirs), []);
  // config, certs.d and anything outside the two unit folders stay, planned or not
  t.same(staleUnits(made49, containers, dirs), ['/etc/systemd/system/quay-pod.service']);
});

t.test('layoutProblem', async t => {
  t.match(layoutProblem(made5, [4, 9, 4], dirs, 'up'), /made for podman 5\.0\.0 or newer .*quay\.pod.*podman 4\.9\.4, which cannot read \.pod files/);
  t.match(layoutProblem(made5, [4, 9, 4], dirs, 'upgrade'), /cannot read \.pod files/);
  t.equal(layoutProblem(made5, [5, 4, 2], dirs, 'up'), undefined);
  t.equal(layoutProblem(made49, [4, 9, 4], dirs, 'upgrade'), undefined);
  // up moves a podman 4 install to quay.pod itself; upgrade asks for up first
  t.equal(layoutProblem(made49, [5, 4, 2], dirs, 'up'), undefined);
  t.match(layoutProblem(made49, [5, 4, 2], dirs, 'upgrade'), /written for podman 4 .*quay-pod\.service.*run `mreg up` first/);
});
