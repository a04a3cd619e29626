import t from 'tap';
import { MIN_PODMAN_4X, systemdUnitDir, toPodman4Container, usesPodman4Layout } from '../../src/plan/podman4.js';
import { getValues, parseUnit } from '../../src/plan/unit-file.js';

t.test('which podman versions get the 4.x layout', async t => {
  t.strictSame(MIN_PODMAN_4X, [4, 6, 0]);
  t.notOk(usesPodman4Layout([4, 5, 9]), 'below 4.6: refused elsewhere');
  t.ok(usesPodman4Layout([4, 6, 0]));
  t.ok(usesPodman4Layout([4, 9, 4]), 'RHEL 8.10 / 9.4');
  t.notOk(usesPodman4Layout([5, 0, 0]));
  t.equal(systemdUnitDir({ scope: 'rootful', home: '/root' }), '/etc/systemd/system');
  t.equal(systemdUnitDir({ scope: 'rootless', home: '/home/a' }), '/home/a/.config/systemd/user');
});

t.test('a 5.x container unit rewritten for 4.x', async t => {
  const wait = "/bin/sh -c 'until /usr/bin/podman healthcheck run quay-postgres >/dev/null 2>&1; do sleep 0.5; done'";
  const five = parseUnit(`[Unit]\nDescription=x\n[Container]\nContainerName=quay-postgres\nImage=i\nPod=quay.pod\nHealthCmd=true\nStopTimeout=60\n[Service]\nRestart=always\nExecStartPost=${wait}\n[Install]\nWantedBy=default.target\n`);
  const four = toPodman4Container(five);
  t.strictSame(getValues(four, 'Container', 'Pod'), []);
  t.strictSame(getValues(four, 'Container', 'Notify'), []);
  t.strictSame(getValues(four, 'Container', 'StopTimeout'), []);
  t.strictSame(getValues(four, 'Container', 'PodmanArgs'), ['--pod quay-pod', '--stop-timeout=60']);
  t.strictSame(getValues(four, 'Unit', 'BindsTo'), ['quay-pod.service']);
  t.strictSame(getValues(four, 'Unit', 'After'), ['quay-pod.service']);
  t.strictSame(getValues(four, 'Service', 'ExecStartPost'), [wait], 'the health wait is kept as is');
  t.strictSame(getValues(four, 'Install', 'WantedBy'), ['default.target'], 'rest kept');
  t.throws(() => toPodman4Container(parseUnit('[Container]\nImage=i\n')), /ContainerName/);
  t.throws(() => toPodman4Container(parseUnit('[Container]\nContainerName=c\nPod=other.pod\n')), /unexpected Pod=/);
  t.throws(() => toPodman4Container(parseUnit('[Container]\nContainerName=c\nNotify=healthy\n')), /unexpected Notify=/);
});
