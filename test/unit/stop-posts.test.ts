// host/systemd.ts stopPostsSucceededSince: when the executor may take a container or pod as removed by
// its unit's stop. Any doubt reads as "not removed" (a podman process then makes sure).
import t from 'tap';
import { stopPostsSucceededSince } from '../../src/host/systemd.js';

const SINCE = 1_800_000_000_000; // ms
const us = (ms: number) => BigInt(ms) * 1000n;
// a(sasbttttuii): path, argv, ignore, start realtime, start monotonic, exit realtime, exit monotonic, pid, code, status
const run = (exitMs: number, code = 1, status = 0) => ['/usr/bin/podman', ['podman', 'rm', '-v', '-f', '-i', '--cidfile=/run/quay-app.cid'], true,
  us(exitMs - 900), 5n, us(exitMs), 6n, 4242, code, status];

t.test('every ExecStopPost ran after the run began and exited 0', async t => {
  t.ok(stopPostsSucceededSince([run(SINCE + 2000)], SINCE));
  t.ok(stopPostsSucceededSince([run(SINCE + 2000), run(SINCE + 2500)], SINCE), 'two commands, both ran');
});

t.test('anything else is not taken as removed', async t => {
  t.notOk(stopPostsSucceededSince([run(SINCE - 60_000)], SINCE), 'the last run is older than this one (the unit was already stopped)');
  t.notOk(stopPostsSucceededSince([['/usr/bin/podman', [], true, 0n, 0n, 0n, 0n, 0, 0, 0]], SINCE), 'zeroed since the unit last started: it did not run');
  t.notOk(stopPostsSucceededSince([run(SINCE + 2000, 1, 125)], SINCE), 'podman rm exited 125');
  t.notOk(stopPostsSucceededSince([run(SINCE + 2000, 2, 9)], SINCE), 'killed by a signal');
  t.notOk(stopPostsSucceededSince([run(SINCE + 2000), run(SINCE - 5)], SINCE), 'one of two did not run this time');
  t.notOk(stopPostsSucceededSince([], SINCE), 'no ExecStopPost at all');
  t.notOk(stopPostsSucceededSince(undefined, SINCE), 'not a service');
  t.notOk(stopPostsSucceededSince([['/usr/bin/podman']], SINCE), 'not the D-Bus shape');
});
