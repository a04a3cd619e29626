// Runs INSIDE the test VM (as root, then as user mreg): proves src/host/* against real systemd, podman and D-Bus.
// Usage: node test/vm/guest/ports-smoke.mjs   (MREG_DIST=/path/to/dist overrides ../../../dist)
// Prints one line per check and "N passed, M failed"; exit code 1 on any failure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.MREG_DIST ? pathToFileURL(path.resolve(process.env.MREG_DIST) + '/') : new URL('../../../dist/', import.meta.url);
const load = (m) => import(new URL(`host/${m}.js`, dist).href);
const { connectSystemd } = await load('systemd');
const { getLinger, enableLinger, disableLinger } = await load('linger');
const { createPodman } = await load('podman');
const { gatherFacts, isPortFree, resolveHostname } = await load('facts');
const { acquireLock, ensureDir, writeFileAtomic, removeIfExists, readIfExists } = await load('fs');
const { journalTail } = await load('journal');

let passed = 0, failed = 0;
const t0 = Date.now();
async function check(name, f) {
  const start = Date.now();
  try {
    const note = await f();
    passed++;
    console.log(`ok   ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)${note ? ` — ${note}` : ''}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name} (${((Date.now() - start) / 1000).toFixed(1)} s): ${err?.stack ?? err}`);
    if (err?.hint) console.log(`     hint: ${err.hint}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
async function rejects(p, re) {
  try { await p; } catch (err) { assert(re.test(`${err.name}: ${err.message}`), `wrong error: ${err.name}: ${err.message}`); return `${err.name}: ${err.message.split('\n')[0]}`; }
  throw new Error('did not reject');
}

const facts = await gatherFacts({});
const scope = facts.scope;
console.log(`# scope ${scope}, uid ${facts.uid}, podman ${facts.podmanVersion?.join('.')}, quadletDir ${facts.quadletDir}`);
const IMAGE = 'localhost/mreg-test/base:latest';
const dir = path.join(facts.quadletDir, 'mreg-smoke');
const podman = createPodman({});
const unitText = (name, exec, extra = '') =>
  `[Unit]\nDescription=mreg ports smoke ${name}\n\n[Container]\nImage=${IMAGE}\nContainerName=mreg-smoke-${name}\nPull=never\nExec=${exec}\n\n[Service]\nTimeoutStartSec=300\n${extra}`;
const SLEEPER = `sh -c 'trap "exit 0" TERM; sleep infinity & wait'`;

await check('facts: fqdn, cgroup v2, subuid, memory, cpus', async () => {
  assert(facts.cgroupV2, 'cgroup v2 expected');
  assert(facts.podmanVersion?.[0] >= 5, 'podman 5 expected');
  if (scope === 'rootless') assert(facts.hasSubuid && facts.hasSubgid && facts.lingerEnabled && facts.hasUserBus, 'rootless prerequisites');
  return `fqdn=${facts.fqdn} linger=${facts.lingerEnabled} mem=${Math.round(facts.memTotalBytes / 2 ** 20)}MiB cpus=${facts.cpus} selinux=${facts.selinux}`;
});
await check('facts: port probe, dns lookup', async () => {
  assert(await isPortFree(scope === 'rootful' ? 8443 : 18443), 'port should be free');
  if (scope === 'rootful') assert(!(await isPortFree(22)), 'sshd holds 22');
  else await rejects(isPortFree(22), /HostError: .*port 22.*EACCES/); // below 1024 without root
  const addrs = await resolveHostname(facts.fqdn);
  assert(addrs.length > 0, `${facts.fqdn} should resolve`);
  assert((await resolveHostname('nope.invalid')).length === 0, '.invalid must not resolve');
  return `${facts.fqdn} -> ${addrs.join(',')}`;
});

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mreg-dry-'));
await check('quadletDryRun: good set ok, units parsed', async () => {
  writeFileSync(`${tmp}/good.container`, unitText('good', SLEEPER));
  writeFileSync(`${tmp}/good.volume`, '[Volume]\nVolumeName=mreg-smoke-v\n');
  const r = await podman.quadletDryRun(tmp, scope);
  assert(r.ok, `not ok: ${r.output}`);
  assert(r.units['good.service']?.includes('SourcePath='), 'good.service missing');
  return `units=${Object.keys(r.units).join(',')}`;
});
await check('quadletDryRun: unsupported key fails with the key named', async () => {
  writeFileSync(`${tmp}/bad.container`, `[Container]\nImage=${IMAGE}\nFrobnicate=yes\n`);
  const r = await podman.quadletDryRun(tmp, scope);
  assert(!r.ok && /Frobnicate/.test(r.output), `expected failure naming the key: ${r.output}`);
  return r.output.split('\n').filter((l) => /Frobnicate|produced no unit/.test(l)).join(' | ');
});
rmSync(tmp, { recursive: true, force: true });

const sd = await connectSystemd(scope);
try {
  await ensureDir(dir, 0o755);
  await writeFileAtomic(`${dir}/mreg-smoke.container`, unitText('main', SLEEPER));
  await writeFileAtomic(`${dir}/mreg-smoke-bad.container`, unitText('bad', '/nonexistent-binary'));
  await writeFileAtomic(`${dir}/mreg-smoke-slow.container`, unitText('slow', SLEEPER, 'ExecStartPre=/bin/sleep 60\n'));

  await check('reload runs the generator; unitState of a generated unit', async () => {
    await sd.reload();
    const s = await sd.unitState('mreg-smoke.service');
    assert(s.loadState === 'loaded', `loadState ${s.loadState}`);
    assert(s.sourcePath === `${dir}/mreg-smoke.container`, `sourcePath ${s.sourcePath}`);
    assert(s.fragmentPath.includes('generator'), `fragmentPath ${s.fragmentPath}`);
    assert(s.activeState === 'inactive' && !s.needDaemonReload, JSON.stringify(s));
    return `fragment=${s.fragmentPath}`;
  });
  let firstInvocation;
  await check('startUnit -> done; active, mainPid, timestamps, invocationId', async () => {
    const before = Date.now();
    const r = await sd.startUnit('mreg-smoke.service');
    assert(r === 'done', `result ${r}`);
    const s = await sd.unitState('mreg-smoke.service');
    assert(s.activeState === 'active' && s.subState === 'running', `${s.activeState}/${s.subState}`);
    assert(s.mainPid > 0 && s.result === 'success', `pid ${s.mainPid} result ${s.result}`);
    assert(s.activeEnterTimestamp >= before - 2000 && s.activeEnterTimestamp <= Date.now() + 2000, `activeEnter ${s.activeEnterTimestamp}`);
    assert(/^[0-9a-f]{32}$/.test(s.invocationId ?? ''), `invocationId ${s.invocationId}`);
    firstInvocation = s.invocationId;
    return `pid=${s.mainPid} nRestarts=${s.nRestarts} inv=${s.invocationId}`;
  });
  await check('podman exec with stdin input', async () => {
    const r = await podman.exec('mreg-smoke-main', ['cat'], { input: 'through stdin' });
    assert(r.stdout === 'through stdin', `stdout ${JSON.stringify(r.stdout)}`);
  });
  await check('restartUnit -> done; new invocation', async () => {
    const r = await sd.restartUnit('mreg-smoke.service');
    const s = await sd.unitState('mreg-smoke.service');
    assert(r === 'done' && s.activeState === 'active' && s.invocationId !== firstInvocation, `${r} ${s.activeState} ${s.invocationId}`);
  });
  await check('stopUnit -> done; inactive; stopping again -> done', async () => {
    const r = await sd.stopUnit('mreg-smoke.service');
    const s = await sd.unitState('mreg-smoke.service');
    assert(r === 'done' && s.activeState === 'inactive', `${r} ${s.activeState} result=${s.result}`);
    const again = await sd.stopUnit('mreg-smoke.service');
    assert(again === 'done', `again ${again}`);
    return `result=${s.result} execMain=${s.execMainCode}/${s.execMainStatus}`;
  });
  await check('a unit whose Exec fails -> failed; Result, journal tail; resetFailed', async () => {
    const r = await sd.startUnit('mreg-smoke-bad.service');
    assert(r === 'failed', `result ${r}`);
    const s = await sd.unitState('mreg-smoke-bad.service');
    assert(s.activeState === 'failed', `activeState ${s.activeState}`);
    // the crash watch's lean read says the same as the full one
    const e = await sd.unitExits('mreg-smoke-bad.service');
    for (const k of ['activeState', 'result', 'nRestarts', 'execMainCode', 'execMainStatus']) assert(e[k] === s[k], `unitExits ${k} ${e[k]} vs unitState ${s[k]}`);
    const tail = await journalTail('mreg-smoke-bad.service', scope, 5);
    assert(tail.length > 0, 'empty journal tail');
    await sd.resetFailed('mreg-smoke-bad.service');
    const after = await sd.unitState('mreg-smoke-bad.service');
    assert(after.activeState === 'inactive', `after reset ${after.activeState}`);
    return `Result=${s.result} ExecMain=${s.execMainCode}/${s.execMainStatus} journal: ${tail.at(-1)}`;
  });
  await check('unknown unit: unitState not-found; start rejects; stop done; resetFailed ignored', async () => {
    const s = await sd.unitState('mreg-no-such.service');
    assert(s.loadState === 'not-found', `loadState ${s.loadState}`);
    const msg = await rejects(sd.startUnit('mreg-no-such.service'), /HostError: .*not found/);
    assert((await sd.stopUnit('mreg-no-such.service')) === 'done', 'stop of unknown');
    await sd.resetFailed('mreg-no-such.service');
    return msg;
  });
  await check('job deadline: start of a slow unit rejects with HostError; stop cancels it', async () => {
    const msg = await rejects(sd.startUnit('mreg-smoke-slow.service', { timeoutMs: 1500 }), /HostError: .*did not finish within/);
    const r = await sd.stopUnit('mreg-smoke-slow.service');
    assert(r === 'done', `stop ${r}`);
    return msg;
  });
  await check('second connection: JobRemoved delivered to both', async () => {
    const sd2 = await connectSystemd(scope);
    try {
      const [a, b] = await Promise.all([sd.startUnit('mreg-smoke.service'), sd2.startUnit('mreg-smoke.service')]);
      assert(a === 'done' && b === 'done', `${a} ${b}`);
      assert((await sd2.stopUnit('mreg-smoke.service')) === 'done', 'stop');
    } finally { await sd2.close(); }
  });
} finally {
  await removeIfExists(dir);
  await sd.reload().catch(() => undefined);
  await sd.close();
}

await check('secrets: create (env, not argv), exists, value, replace, duplicate rejects, remove twice', async () => {
  const name = 'mreg-smoke-secret';
  await podman.secretRemove(name);
  const v1 = `p@ss w0rd;'"$x\`\\`;
  await podman.secretCreate(name, v1);
  assert(await podman.secretExists(name), 'exists');
  assert((await podman.secretValue(name)) === v1, 'round trip');
  await podman.secretCreate(name, 'v2', { replace: true });
  assert((await podman.secretValue(name)) === 'v2', 'replace');
  await rejects(podman.secretCreate(name, 'v3'), /HostError: .*secret/);
  await podman.secretRemove(name);
  await podman.secretRemove(name);
  assert(!(await podman.secretExists(name)) && (await podman.secretValue(name)) === undefined, 'gone');
});
await check('image/volume/pod/container: exists and remove-missing', async () => {
  assert(await podman.imageExists(IMAGE), 'image exists');
  assert(!(await podman.imageExists('localhost/nope:0')), 'missing image');
  assert(!(await podman.volumeExists('mreg-smoke-nope')), 'missing volume');
  await podman.volumeRemove('mreg-smoke-nope');
  await podman.podRemove('mreg-smoke-nope');
  await podman.containersRemove(['mreg-smoke-nope']);
  // one process for several names, some of them missing: the present one is removed all the same
  execFileSync('podman', ['create', '--name', 'mreg-smoke-rm', IMAGE, 'true'], { stdio: 'ignore' });
  await podman.containersRemove(['mreg-smoke-nope', 'mreg-smoke-rm']);
  assert(execFileSync('podman', ['ps', '-a', '--format', '{{.Names}}']).toString().split('\n').every(n => n !== 'mreg-smoke-rm'), 'mreg-smoke-rm removed');
});
await check('load: names from a `podman save` archive', async () => {
  const archive = path.join(os.tmpdir(), `mreg-smoke-${process.pid}.tar`);
  execFileSync('podman', ['save', '--quiet', '--output', archive, 'localhost/mreg-test/tiny:1']);
  try {
    const names = await podman.load(archive);
    assert(names.includes('localhost/mreg-test/tiny:1'), `names ${names}`);
    return names.join(',');
  } finally { rmSync(archive, { force: true }); }
});
await check('lock: second acquire rejects; release; stale pid taken over', async () => {
  const lock = path.join(os.tmpdir(), `mreg-smoke-${process.pid}.lock`);
  const release = await acquireLock(lock);
  await rejects(acquireLock(lock), /another mreg \(pid \d+\) is running/);
  await release();
  writeFileSync(lock, '2147483646\n');
  const r2 = await acquireLock(lock);
  assert((await readIfExists(lock)) === `${process.pid}\n`, 'takeover');
  await r2();
});
if (scope === 'rootless') {
  await check('unprivileged on the system bus: state readable, Reload refused with the root hint', async () => {
    const sys = await connectSystemd('rootful');
    try {
      const s = await sys.unitState('dbus.service');
      assert(s.activeState === 'active', `dbus.service ${s.activeState}`);
      const msg = await rejects(sys.reload(), /HostError: .*permission denied/);
      return msg;
    } finally { await sys.close(); }
  });
  await check('rootless bus address computed when XDG_RUNTIME_DIR is unset', async () => {
    const { XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS, ...rest } = process.env;
    const sd3 = await connectSystemd('rootless', rest);
    await sd3.close();
  });
}
await check('linger over logind', async () => {
  const mine = await getLinger(facts.uid);
  if (scope === 'rootless') {
    assert(mine, 'mreg has linger');
    let self = 'enableLinger(self) ok';
    try { await enableLinger(facts.uid); } catch (err) { self = `enableLinger(self): ${err.message}`; }
    return self;
  }
  try { execFileSync('userdel', ['--force', 'mreglinger'], { stdio: 'ignore' }); } catch { /* left by an earlier run, or not */ }
  execFileSync('useradd', ['--no-create-home', 'mreglinger']);
  try {
    const uid = Number(execFileSync('id', ['-u', 'mreglinger'], { encoding: 'utf8' }));
    assert(!(await getLinger(uid)), 'new user: no linger');
    await enableLinger(uid);
    assert(await getLinger(uid), 'enabled');
    await disableLinger(uid);
    assert(!(await getLinger(uid)), 'disabled');
    return `root linger=${mine}; uid ${uid}: enable/disable verified`;
  } finally {
    execFileSync('userdel', ['--force', 'mreglinger']); // its user manager may still be stopping
  }
});

console.log(`# ${scope}: ${passed} passed, ${failed} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exitCode = failed ? 1 : 0;
