// The model (src/model/) against the units/ templates it describes: a template changed without
// the model, or the other way round, fails here.
import t from 'tap';
import { COMPONENTS, SECRET_NAMES, START_ORDER } from '../../src/model/components.js';
import { ALL_UNITS, CONTAINER_NAMES, STOP_ORDER, serviceOf } from '../../src/model/views.js';
import { TEMPLATES } from '../../src/plan/units.js';
import { getValues, parseUnit } from '../../src/plan/unit-file.js';

t.test('each component matches its template', async t => {
  for (const id of START_ORDER) {
    const c = COMPONENTS[id];
    const unit = parseUnit(TEMPLATES[c.quadletFile]);
    if (id === 'pod') {
      t.strictSame(getValues(unit, 'Pod', 'PodName'), [c.podmanName], 'PodName=');
      continue;
    }
    t.strictSame(getValues(unit, 'Container', 'ContainerName'), [c.podmanName], `${id}: ContainerName=`);
    t.strictSame(getValues(unit, 'Container', 'Secret').map(s => s.split(',')[0]), c.secrets.map(k => SECRET_NAMES[k]), `${id}: Secret=`);
    t.equal(getValues(unit, 'Service', 'ExecStartPost').some(v => v.includes('healthcheck run')), c.startWaitsForHealth, `${id}: health wait`);
  }
});

t.test('views keep the orders mreg has always used', async t => {
  t.strictSame(ALL_UNITS, ['quay-pod.service', 'quay-postgres.service', 'quay-redis.service', 'quay-app.service']);
  t.strictSame(STOP_ORDER, ['quay-app.service', 'quay-redis.service', 'quay-postgres.service', 'quay-pod.service']);
  t.strictSame(CONTAINER_NAMES, ['quay-app', 'quay-redis', 'quay-postgres']);
});

t.test('serviceOf: the component that reads a file', async t => {
  t.equal(serviceOf('/etc/containers/systemd/quay.pod'), 'quay-pod.service');
  t.equal(serviceOf('/etc/systemd/system/quay-pod.service'), 'quay-pod.service', 'podman 4.x pod unit');
  t.equal(serviceOf('/etc/containers/systemd/quay-redis.container'), 'quay-redis.service');
  t.equal(serviceOf('/etc/quay-install/quay-config/ssl.key'), 'quay-app.service');
  t.equal(serviceOf('/etc/quay-install/postgres-start/pg-trgm.sh'), 'quay-postgres.service');
  t.equal(serviceOf('/etc/containers/systemd/pg-storage.volume'), 'pg-storage-volume.service');
  t.equal(serviceOf('/etc/quay-install/quay-rootCA/rootCA.pem'), undefined, 'the CA restarts nothing');
});
