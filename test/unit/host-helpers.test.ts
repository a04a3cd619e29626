import t from 'tap';
import { hasSubIdRange } from '../../src/host/facts.js';
import { journalArgs, reasonTail } from '../../src/host/journal.js';
import { showArgs } from '../../src/host/journal-show.js';
import { judgeDryRun, parseDryRunUnits, quadletServiceName, parseLoadedImages, parsePodmanVersion, parseSecretInspect } from '../../src/host/podman.js';
import { busAddress } from '../../src/host/dbus.js';
import { tailLines } from '../../src/host/exec.js';
import { ensureMode } from '../../src/host/fs.js';
import { parseVolumeMountpoints } from '../../src/host/storage.js';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

t.test('parsePodmanVersion', async (t) => {
  t.same(parsePodmanVersion('podman version 5.4.2\n'), [5, 4, 2]);
  t.same(parsePodmanVersion('podman version 5.2.0-rc1'), [5, 2, 0]);
  t.same(parsePodmanVersion('podman version 6.0'), [6, 0, 0]); // dev builds may omit the patch
  t.equal(parsePodmanVersion('garbage'), undefined);
});

t.test('parseLoadedImages', async (t) => {
  t.same(parseLoadedImages('Loaded image: localhost/a:1\nLoaded image: quay.io/b/c:2\n'), ['localhost/a:1', 'quay.io/b/c:2']);
  // podman 4.x printed one line for several tags
  t.same(parseLoadedImages('Getting image source signatures\nLoaded image(s): x:1,y:2'), ['x:1', 'y:2']);
  t.same(parseLoadedImages(''), []);
});

const DRYRUN = `quadlet-generator[1]: Loading source unit file /s/a.container
---a.service---
[Unit]
SourcePath=/s/a.container

[Service]
ExecStart=/usr/bin/podman run x
---b-pod.service---
[Unit]
SourcePath=/s/b.pod
`;

t.test('parseDryRunUnits splits the ---name--- blocks', async (t) => {
  const units = parseDryRunUnits(DRYRUN);
  t.same(Object.keys(units), ['a.service', 'b-pod.service']);
  t.match(units['a.service'], /^\[Unit\]\nSourcePath=\/s\/a.container\n\n\[Service\]/);
});

t.test('judgeDryRun', async (t) => {
  const ok = judgeDryRun({ stdout: DRYRUN, stderr: '', exitCode: 0 }, ['/s/a.container', '/s/b.pod']);
  t.equal(ok.ok, true);
  // exit 0 but a file produced no unit: the generator skipped it
  const skipped = judgeDryRun({ stdout: DRYRUN, stderr: '', exitCode: 0 }, ['/s/a.container', '/s/b.pod', '/s/c.volume']);
  t.equal(skipped.ok, false);
  t.match(skipped.output, /c\.volume: the generator produced no unit/);
  // podman 4.9's volume units have no SourcePath= (v4.9.4 quadlet.go ConvertVolume): found by name
  const v49 = `${DRYRUN}---c-volume.service---\n[X-Volume]\nVolumeName=c\n\n[Service]\nExecStart=/usr/bin/podman volume create --ignore c\n`;
  t.equal(judgeDryRun({ stdout: v49, stderr: '', exitCode: 0 }, ['/s/a.container', '/s/b.pod', '/s/c.volume']).ok, true);
  // a unit of that name made from another file does not count for this one
  const other = `${DRYRUN}---c-volume.service---\n[Unit]\nSourcePath=/elsewhere/c.volume\n`;
  t.equal(judgeDryRun({ stdout: other, stderr: '', exitCode: 0 }, ['/s/a.container', '/s/c.volume']).ok, false);
  t.equal(quadletServiceName('/s/x.container'), 'x.service');
  t.equal(quadletServiceName('/s/x.pod'), 'x-pod.service');
  t.equal(quadletServiceName('x.network'), 'x-network.service');
  const bad = judgeDryRun({ stdout: '', stderr: 'converting "a.container": unsupported key \'Foo\' in group \'Container\'', exitCode: 1 }, ['/s/a.container']);
  t.equal(bad.ok, false);
  t.match(bad.output, /unsupported key 'Foo'/);
});

t.test('parseSecretInspect', async (t) => {
  // the shape of `podman secret inspect --showsecret a b` (found ones only; missing ones go to stderr)
  const out = JSON.stringify([
    { ID: 'c5b1f2e0a9d8e7f6a5b4c3d2e', Spec: { Name: 'a', Driver: { Name: 'file' }, Labels: {} }, SecretData: 'v a\n' },
    { ID: '0123456789abcdef012345678', Spec: { Name: 'other' }, SecretData: 'x' },
    { ID: '1123456789abcdef012345678', Spec: { Name: 'b' } },
  ], null, 4) + '\n';
  t.same([...parseSecretInspect(out, ['a', 'b', 'c'])!.values], [['a', 'v a\n'], ['b', '']]);
  t.same([...parseSecretInspect('[]\n', ['a'])!.values], []);
  t.equal(parseSecretInspect('', ['a']), undefined);
  t.equal(parseSecretInspect('{"a":1}', ['a']), undefined);
});

t.test('busAddress', async (t) => {
  t.same(busAddress('rootful', {}, 1000), { address: 'unix:path=/run/dbus/system_bus_socket', socket: '/run/dbus/system_bus_socket' });
  // XDG_RUNTIME_DIR unset (sudo -u, su): computed from the uid
  t.same(busAddress('rootless', {}, 1000), { address: 'unix:path=/run/user/1000/bus', socket: '/run/user/1000/bus' });
  t.same(busAddress('rootless', { XDG_RUNTIME_DIR: '/run/user/7' }, 1000).socket, '/run/user/7/bus');
  t.same(busAddress('rootless', { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x/bus', XDG_RUNTIME_DIR: '/run/user/7' }, 1000).socket, '/x/bus');
  t.equal(busAddress('rootless', { DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x' }, 1000).socket, undefined);
});

t.test('hasSubIdRange', async (t) => {
  const text = 'alice:100000:65536\n1001:165536:65536\nbob:1:0\n';
  t.equal(hasSubIdRange(text, 'alice', 1000), true);
  t.equal(hasSubIdRange(text, 'carol', 1001), true); // entries may name the uid
  t.equal(hasSubIdRange(text, 'bob', 1002), false); // a zero-length range is no range
  t.equal(hasSubIdRange('', 'alice', 1000), false);
});

t.test('journalArgs', async (t) => {
  t.same(journalArgs('quay-app.service', 'rootful', 20), ['--unit', 'quay-app.service', '--lines', '20', '--no-pager', '--output', 'cat']);
  t.same(journalArgs('quay-app.service', 'rootless', 5).slice(0, 3), ['--user', '--unit', 'quay-app.service']);
});

t.test('tailLines keeps the last non-empty lines', async (t) => {
  t.same(tailLines('a\n\nb\nc\n', 2), ['b', 'c']);
});

t.test('ensureMode puts back drifted permission bits and leaves right ones alone', async (t) => {
  const dir = t.testdir({ key: 'secret' });
  const key = join(dir, 'key');
  chmodSync(key, 0o644);
  t.equal(await ensureMode(key, 0o600), true, 'changed');
  t.equal(statSync(key).mode & 0o7777, 0o600);
  t.equal(await ensureMode(key, 0o600), false, 'already right');
  t.equal(await ensureMode(join(dir, 'missing'), 0o600), false, 'a missing file is left to the writer');
  writeFileSync(key, 'secret');
});

t.test('parseVolumeMountpoints: one podman call for several volumes, missing ones left out', async t => {
  const out = 'quay-storage\t/var/lib/containers/storage/volumes/quay-storage/_data\n';
  t.same([...parseVolumeMountpoints(out, ['quay-storage', 'pg-storage'])], [['quay-storage', '/var/lib/containers/storage/volumes/quay-storage/_data']]);
  t.same([...parseVolumeMountpoints('other\t/x\nquay-storage\t\n', ['quay-storage'])], [], 'names not asked for and empty mountpoints are ignored');
  t.same([...parseVolumeMountpoints('', ['a'])], []);
});

t.test('a program that is not installed: runChecked says to install it (execa is loaded only on first use)', async t => {
  const { runChecked, isCommandMissing } = await import('../../src/host/exec.js');
  await t.rejects(runChecked('mreg-no-such-program', ['x']), { name: 'HostError', message: /mreg-no-such-program failed/, hint: 'install mreg-no-such-program' });
  t.notOk(isCommandMissing(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })), 'a file system ENOENT is not a missing program');
});

t.test('mreg logs: a rootless unit from the system journal when journald does not split the user\'s', async (t) => {
  t.same(showArgs('quay-app.service', 'rootless', 50, true), ['--user', '--unit', 'quay-app.service', '--lines', '50', '--no-pager']);
  t.same(showArgs('quay-app.service', 'rootless', 50, false), ['--user-unit', 'quay-app.service', '--lines', '50', '--no-pager']);
  t.same(showArgs('quay-app.service', 'rootful', 50, false), ['--unit', 'quay-app.service', '--lines', '50', '--no-pager']);
});

t.test('reasonTail: the failing rows of Quay\'s config table that fell out of the last lines come first', async (t) => {
  // config-tool's validate: a bordered table, a separator line after each of its ~26 field groups.
  const groups = ['AccessSettings', 'ActionLogArchiving', 'AppTokenAuthentication', 'AutoPrune', 'BitbucketBuildTrigger', 'BuildManager',
    'Database', 'DistributedStorage', 'ElasticSearch', 'Email', 'GitHubBuildTrigger', 'GitHubLogin', 'GitLabBuildTrigger', 'GoogleLogin',
    'HostSettings', 'JWTAuthentication', 'LDAP', 'OIDC', 'QuayDocumentation', 'Redis', 'RepoMirror', 'SecurityScanner', 'TeamSyncing',
    'TimeMachine', 'UserVisibleSettings'];
  const run = ['Validating Configuration', '+----+', ...groups.flatMap(g => [g === 'HostSettings' ? `| ${g} | x509: certificate is valid for a, not b | 🔴 |` : `| ${g} | - | 🟢 |`, '+----+'])];
  const journal = [...run, 'quay-app.service: Main process exited, code=exited, status=1/FAILURE', ...run, 'quay-app.service: Main process exited, code=exited, status=1/FAILURE'];
  const shown = reasonTail(journal, 20);
  t.equal(shown[0], '| HostSettings | x509: certificate is valid for a, not b | 🔴 |', 'the reason, once, first');
  t.equal(shown[1], '…');
  t.same(shown.slice(2), journal.slice(-20), 'then the last 20 lines as they were');
  t.same(reasonTail(['a', 'b'], 20), ['a', 'b'], 'a short journal as it is');
  const inTail = reasonTail([...journal.slice(0, 5), '| Redis | refused | 🔴 |', 'x'], 20);
  t.equal(inTail.filter(l => l.includes('🔴')).length, 1, 'a reason within the last lines is not repeated');
});
