// SELinux for bind storage: the pure choice (plan/selinux.ts) and the label-once bookkeeping
// (host/selinux.ts) with a stand-in for chcon and stat. Whether the kernel then lets a container in is
// proven on no host here: the test VM (Debian) has no SELinux.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../../src/errors.js';
import { labelForContainers, type RunCommand } from '../../src/host/selinux.js';
import type { RunResult } from '../../src/host/exec.js';
import { hasContainerFileLabel, isSelinuxOn, labelCommand, selinuxLabelPaths } from '../../src/plan/selinux.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';

t.test('which paths are labelled', async t => {
  const spec = {
    quayStorage: { kind: 'path', path: '/srv/q' }, pgStorage: { kind: 'volume', name: 'pg-storage' },
  } as InstallSpec;
  t.strictSame(selinuxLabelPaths(spec, { selinux: 'enforcing' }), ['/srv/q']);
  t.strictSame(selinuxLabelPaths(spec, { selinux: 'permissive' }), ['/srv/q'], 'permissive too: enforcing later would deny unlabelled data');
  t.strictSame(selinuxLabelPaths(spec, { selinux: 'disabled' }), [], 'disabled: nothing, the units keep :Z');
  const both = { ...spec, pgStorage: { kind: 'path', path: '/srv/p' } } as InstallSpec;
  t.strictSame(selinuxLabelPaths(both, { selinux: 'enforcing' }), ['/srv/q', '/srv/p'], 'quayStorage, then pgStorage');
  t.notOk(isSelinuxOn({ selinux: 'disabled' }));
});

t.test('the chcon command', async t => {
  t.strictSame(labelCommand('/srv/q', 'rootful'), ['chcon', '-R', '-t', 'container_file_t', '-l', 's0', '--', '/srv/q']);
  t.strictSame(labelCommand('/srv/q', 'rootless'), ['podman', 'unshare', 'chcon', '-R', '-t', 'container_file_t', '-l', 's0', '--', '/srv/q'],
    'rootless: in the user namespace, where the sub-uid owned files are writable');
  t.strictSame(labelCommand('/srv/q', 'rootful', false), ['chcon', '-t', 'container_file_t', '-l', 's0', '--', '/srv/q']);
});

t.test('reading a context', async t => {
  t.ok(hasContainerFileLabel('system_u:object_r:container_file_t:s0\n'));
  t.ok(hasContainerFileLabel('unconfined_u:object_r:container_file_t:s0'), 'the SELinux user does not matter');
  t.notOk(hasContainerFileLabel('system_u:object_r:container_file_t:s0:c12,c345'), 'private categories from an earlier :Z');
  t.notOk(hasContainerFileLabel('system_u:object_r:var_t:s0'));
  t.notOk(hasContainerFileLabel('?'), 'stat without SELinux');
});

/** A stand-in host: records each command; `answer` decides its result. */
function fakeRun(answer: (argv: string[]) => Partial<RunResult> = () => ({})): { run: RunCommand; calls: string[] } {
  const calls: string[] = [];
  const run: RunCommand = async (file, args) => {
    const argv = [file, ...args];
    calls.push(argv.join(' '));
    return { stdout: '', stderr: '', exitCode: 0, ...answer(argv) };
  };
  return { run, calls };
}

t.test('labels once, then only looks', async t => {
  const marker = join(t.testdir(), 'selinux-labelled');
  const first = fakeRun();
  t.equal(await labelForContainers('/srv/q', 'rootful', marker, first.run), 'labelled');
  t.strictSame(first.calls, ['chcon -t container_file_t -l s0 -- /srv/q', 'chcon -R -t container_file_t -l s0 -- /srv/q']);
  t.equal(readFileSync(marker, 'utf8'), '/srv/q\n');

  const again = fakeRun(() => ({ stdout: 'system_u:object_r:container_file_t:s0\n' }));
  t.equal(await labelForContainers('/srv/q', 'rootful', marker, again.run), 'already');
  t.strictSame(again.calls, ['stat -c %C -- /srv/q'], 'a re-run costs one stat');

  // restorecon -F, or a folder replaced by hand: the marker alone is not trusted.
  const reset = fakeRun(a => (a[0] === 'stat' ? { stdout: 'system_u:object_r:var_t:s0\n' } : {}));
  t.equal(await labelForContainers('/srv/q', 'rootful', marker, reset.run), 'labelled');
  t.equal(reset.calls.length, 3);

  const other = fakeRun();
  t.equal(await labelForContainers('/srv/p', 'rootless', marker, other.run), 'labelled');
  t.match(other.calls[0], /^podman unshare chcon /, 'rootless runs in the user namespace');
  t.equal(readFileSync(marker, 'utf8'), '/srv/q\n/srv/p\n');
});

t.test('a top label without the marker is relabelled: an interrupted chcon -R leaves one', async t => {
  const marker = join(t.testdir(), 'selinux-labelled');
  const f = fakeRun(() => ({ stdout: 'system_u:object_r:container_file_t:s0\n' }));
  t.equal(await labelForContainers('/srv/q', 'rootful', marker, f.run), 'labelled');
  t.notOk(f.calls.some(c => c.startsWith('stat')), 'no marker: not even looked at');
});

t.test('a file system without labels is left alone, at the cost of one chcon', async t => {
  const marker = join(t.testdir(), 'selinux-labelled');
  const f = fakeRun(() => ({ exitCode: 1, stderr: "chcon: failed to change context of '/mnt/nfs/q' to 'system_u:object_r:container_file_t:s0': Operation not supported\n" }));
  t.equal(await labelForContainers('/mnt/nfs/q', 'rootful', marker, f.run), 'unsupported');
  t.strictSame(f.calls, ['chcon -t container_file_t -l s0 -- /mnt/nfs/q'], 'no walk of the tree');
  t.throws(() => readFileSync(marker), 'nothing recorded');
});

t.test('a failure names the path and the command, and records nothing', async t => {
  const marker = join(t.testdir(), 'selinux-labelled');
  const f = fakeRun(a => (a.includes('-R') ? { exitCode: 1, stderr: "chcon: failed to change context of '/srv/q/x': Permission denied\n" } : {}));
  const err = await labelForContainers('/srv/q', 'rootful', marker, f.run).catch((e: unknown) => e);
  t.ok(err instanceof HostError);
  const e = err as HostError;
  t.match(e.message, 'giving /srv/q the SELinux label container_file_t:s0 failed: chcon -R -t container_file_t -l s0 -- /srv/q exited with code 1');
  t.match(e.message, 'Permission denied');
  t.match(e.hint ?? '', 'the registry was not started on the new units');
  t.match(e.hint ?? '', '`chcon -R -t container_file_t -l s0 -- /srv/q`');
  t.throws(() => readFileSync(marker), 'nothing recorded');
});
