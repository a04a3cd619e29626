import t from 'tap';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { HostError } from '../../src/errors.js';
import { identify } from '../../src/host/facts.js';
import { parseShow, showUnits, wallClockOf } from '../../src/host/unit-show.js';

// systemd 257's answer in the test VM (`systemctl show --property=… -- quay-pod.service nope.service`, 2026-12-05),
// with NeedDaemonReload=yes on the second (as after an edit of its file) so both values are read.
const SHOWN = `MainPID=823
Result=success
NRestarts=0
Id=quay-pod.service
LoadState=loaded
ActiveState=active
SubState=running
FragmentPath=/run/systemd/generator/quay-pod.service
SourcePath=/etc/containers/systemd/quay.pod
StateChangeTimestampMonotonic=118077453
ActiveEnterTimestampMonotonic=118077453
NeedDaemonReload=no

MainPID=0
Result=success
NRestarts=0
Id=nope.service
LoadState=not-found
ActiveState=inactive
SubState=dead
FragmentPath=
SourcePath=
StateChangeTimestampMonotonic=0
ActiveEnterTimestampMonotonic=0
NeedDaemonReload=yes
`;

t.test('parseShow: one block per unit, in the order asked', async t => {
  const states = parseShow(SHOWN, ['quay-pod.service', 'nope.service'], us => (us > 0 ? 1_000 + us / 1000 : undefined));
  t.same(states, [
    { name: 'quay-pod.service', loadState: 'loaded', activeState: 'active', subState: 'running', stateChangeTimestamp: 119_077.453, activeEnterTimestamp: 119_077.453,
      mainPid: 823, nRestarts: 0, result: 'success', needDaemonReload: false, fragmentPath: '/run/systemd/generator/quay-pod.service', sourcePath: '/etc/containers/systemd/quay.pod' },
    { name: 'nope.service', loadState: 'not-found', activeState: 'inactive', subState: 'dead', stateChangeTimestamp: undefined, activeEnterTimestamp: undefined,
      mainPid: 0, nRestarts: 0, result: 'success', needDaemonReload: true, fragmentPath: '', sourcePath: '' },
  ]);
  t.throws(() => parseShow(SHOWN, ['a.service', 'b.service', 'c.service'], () => 0), HostError, 'a missing block is an error, not a shifted table');
});

t.test('wallClockOf: a monotonic timestamp of now reads as now; 0 is never', async t => {
  t.equal(wallClockOf(0), undefined);
  const now = { monoUs: 5_000_000_000, wallMs: Date.parse('2026-12-06T12:00:00Z') };
  t.equal(wallClockOf(now.monoUs, now), now.wallMs, 'now reads as now');
  t.equal(wallClockOf(now.monoUs - 60_000_000, now), now.wallMs - 60_000, 'a minute ago');
  t.equal(wallClockOf(now.monoUs - 1_400, now), now.wallMs - 1, 'rounded to the millisecond');
});

/** A systemctl on PATH that records its argv and environment, then answers as `script` says. */
function fakeSystemctl(script: string): { env: NodeJS.ProcessEnv; argv: () => string; runtimeDir: () => string } {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-show-'));
  writeFileSync(join(dir, 'systemctl'), `#!/bin/sh\necho "$*" > ${dir}/argv\necho "$XDG_RUNTIME_DIR" > ${dir}/rt\n${script}\n`);
  chmodSync(join(dir, 'systemctl'), 0o755);
  return {
    env: { PATH: `${dir}:${process.env.PATH}` },
    argv: () => readFileSync(join(dir, 'argv'), 'utf8').trim(),
    runtimeDir: () => readFileSync(join(dir, 'rt'), 'utf8').trim(),
  };
}

t.test('showUnits: one process for all units; the user manager found without XDG_RUNTIME_DIR', async t => {
  const f = fakeSystemctl(`cat <<'EOF'\n${SHOWN}EOF`);
  const states = await showUnits(identify({ scope: 'rootless', env: f.env }), ['quay-pod.service', 'nope.service'], f.env);
  t.same(states.map(s => s.activeState), ['active', 'inactive']);
  t.equal(f.argv(), '--user show --property=Id,LoadState,ActiveState,SubState,StateChangeTimestampMonotonic,ActiveEnterTimestampMonotonic,MainPID,NRestarts,Result,NeedDaemonReload,FragmentPath,SourcePath -- quay-pod.service nope.service');
  t.equal(f.runtimeDir(), `/run/user/${userInfo().uid}`, 'as sudo -u leaves it: /run/user/UID');
  await showUnits(identify({ scope: 'rootful', env: f.env }), ['quay-pod.service', 'nope.service'], { ...f.env, XDG_RUNTIME_DIR: '/x' });
  t.match(f.argv(), /^show /, 'rootful: the system manager');
});

t.test('showUnits: a manager it cannot reach is named with the way to fix it', async t => {
  const f = fakeSystemctl('echo "Failed to connect to bus: No medium found" >&2; exit 1');
  const err = await showUnits(identify({ scope: 'rootless', env: f.env }), ['quay-app.service'], f.env).then((): HostError | undefined => undefined, (e: unknown) => e as HostError);
  t.type(err, HostError);
  t.match(err?.message, new RegExp(`^cannot reach your systemd user manager \\(uid ${userInfo().uid}\\): systemctl --user show failed \\(bus \\S+/bus\\): Failed to connect to bus: No medium found$`));
  t.match(err?.hint, /loginctl enable-linger/);
  const root = await showUnits(identify({ scope: 'rootful', env: f.env }), ['quay-app.service'], f.env).then((): HostError | undefined => undefined, (e: unknown) => e as HostError);
  t.type(root, HostError);
  t.match(root?.message, /^cannot reach the system manager: systemctl show failed/);
  t.match(root?.hint, /systemd as PID 1/);
});
