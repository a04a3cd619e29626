// The podman 4 ↔ 5 layout move (src/plan/layout-move.ts): what up and upgrade delete, what they refuse.
import t from 'tap';
import { layoutProblem, movesToPodFiles, staleUnits } from '../../src/plan/layout-move.js';

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

t.test('layoutProblem: only the .pod layout on podman 4; movesToPodFiles: the podman 4 layout on podman 5, which up and upgrade move', async t => {
  t.match(layoutProblem(made5, [4, 9, 4], dirs), /made for podman 5\.0\.0 or newer .*quay\.pod.*podman 4\.9\.4, which cannot read \.pod files/);
  t.equal(layoutProblem(made5, [5, 4, 2], dirs), undefined);
  t.equal(layoutProblem(made49, [4, 9, 4], dirs), undefined);
  t.equal(layoutProblem(made49, [5, 4, 2], dirs), undefined, 'moved, not refused');
  t.equal(movesToPodFiles(made49, [5, 4, 2], dirs), true);
  t.equal(movesToPodFiles(made49, [5, 0, 0], dirs), true);
  t.equal(movesToPodFiles(made49, [4, 9, 4], dirs), false);
  t.equal(movesToPodFiles(made5, [5, 4, 2], dirs), false);
  t.equal(movesToPodFiles(made49, undefined, dirs), false);
});
