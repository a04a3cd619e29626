import t from 'tap';
import {
  KEY_SINCE, MIN_PODMAN, checkCompat, compareVersions, describeCompatProblem, type PodmanVersion,
} from '../../src/plan/compat.js';
import { parseUnit } from '../../src/plan/unit-file.js';

const unit = (text: string) => parseUnit(text);

t.test('compareVersions', async t => {
  t.ok(compareVersions([5, 0, 0], [4, 9, 4]) > 0);
  t.ok(compareVersions([5, 2, 2], [5, 10, 0]) < 0, 'numeric, not lexical');
  t.equal(compareVersions([5, 3, 0], [5, 3, 0]), 0);
});

t.test('checkCompat lists every key too new for the host', async t => {
  const u = unit('[Pod]\nPodName=p\nLabel=a=b\nExitPolicy=continue\n[Container]\nPod=quay.pod\nStopSignal=SIGINT\n');
  t.strictSame(checkCompat(u, [5, 0, 0]), [
    { section: 'Pod', key: 'Label', since: [5, 6, 0] },
    { section: 'Pod', key: 'ExitPolicy', since: [5, 6, 0] },
    { section: 'Container', key: 'StopSignal', since: [5, 2, 0] },
  ]);
  t.strictSame(checkCompat(u, [5, 6, 0]), [], 'all fine on 5.6');
  t.strictSame(checkCompat(u, [4, 9, 4]).map(p => p.key), ['PodName', 'Label', 'ExitPolicy', 'Pod', 'StopSignal'], '4.9 has no .pod');
});

t.test('value-gated entries and unknown keys', async t => {
  t.strictSame(checkCompat(unit('[Container]\nNotify=healthy\n'), [4, 9, 0]),
    [{ section: 'Container', key: 'Notify', value: 'healthy', since: [5, 0, 0] }], 'Notify=healthy needs 5.0');
  t.strictSame(checkCompat(unit('[Container]\nNotify=true\n'), [4, 9, 0]), [], 'Notify=true is older');
  t.strictSame(checkCompat(unit('[Container]\nMadeUp=1\n'), [5, 8, 0]),
    [{ section: 'Container', key: 'MadeUp', value: '1' }], 'keys missing from the table are reported');
  t.strictSame(checkCompat(unit('[Unit]\nAnything=1\n[Service]\nTimeoutStartSec=5\n'), MIN_PODMAN), [],
    '[Unit] and [Service] pass through to systemd');
});

t.test('messages name key, section, file and version', async t => {
  const v: PodmanVersion = [5, 0, 0];
  t.equal(describeCompatProblem('quay.pod', { section: 'Pod', key: 'Label', since: [5, 6, 0] }, v),
    'quay.pod: [Pod] Label needs podman 5.6.0, this host has 5.0.0');
  t.equal(describeCompatProblem('x.container', { section: 'Container', key: 'Notify', value: 'healthy', since: [5, 0, 0] }, [4, 9, 4]),
    'x.container: [Container] Notify=healthy needs podman 5.0.0, this host has 4.9.4');
  t.equal(describeCompatProblem('x.container', { section: 'Container', key: 'MadeUp', value: '1' }, v),
    "x.container: [Container] MadeUp is not in mreg's Quadlet key table (src/plan/compat.ts)");
});

t.test('table sanity', async t => {
  for (const [section, keys] of Object.entries(KEY_SINCE)) {
    for (const [key, since] of Object.entries(keys)) {
      t.ok(compareVersions(since, [4, 4, 0]) >= 0 && compareVersions(since, [7, 0, 0]) < 0, `${section}.${key}`);
    }
  }
});
