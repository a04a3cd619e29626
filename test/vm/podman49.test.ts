// The core of the suite on a real podman 4.9.4 (RHEL 8.10 / 9.4), both scopes side by side: the podman 4
// layout (plain quay-pod.service, containers joining it with --pod) through 4.9's own generator and
// runtime. up, status, push/pull, the security checks, self-healing after podman rm -f of each container
// and of the pod, upgrade and its rollback, a reboot, down, down --purge; then the host upgrade
// (4.9 → 5.4: up moves the install to quay.pod; an upgrade killed under 4.9 resumes, moving and rolling
// back) and the way back refused.
// Not here, to keep CI inside its time: a new port (faults.test.ts on 5.4; podman 4's plain pod unit
// is checked by the golden set) and `up` after `down` (mreg.test.ts on 5.4; the host move below runs
// `up` on a stopped-and-restored 4.9 install's files).
import t, { type Test } from 'tap';
import { describe, rebootGuest, requireVm, asRoot as root, type GuestResult } from './guest.js';
import { IMG, SCOPES, assertKilled, caPath, killWhen, stepLine, upCmd, login, pushTiny, pullDigest, status, waitHealthy, mainPid, collectSecrets, journalSecrets, parseJson, sampleArgv, type Scope, type Creds } from './scopes.js';
import { systemdUnitDir } from '../../src/model/scope.js';
import { UPGRADE_STEP } from '../../src/plan/upgrade-steps.js';
import { checkGoldenSet } from './golden.js';
import { PODMAN49, switchPodman, usePodman49 } from './podman49.js';
import { restoreSnapshot, saveSnapshot } from './snapshot.js';

requireVm();
t.setTimeout(60 * 60_000);

interface State { creds: Creds; digest: string; ca: string; secrets: string }
const state = new Map<string, State>();
const both = (fn: (s: Scope) => Promise<void>) => Promise.all(SCOPES.map(fn));
const unitDir = (s: Scope) => systemdUnitDir(s.name, s.home);
const PS_LOG = '/var/lib/mreg-test/p49-ps.log';
const secretsFile = (s: Scope) => (s.name === 'rootful' ? '/root/p49-secrets' : '/home/mreg/.p49-secrets');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const fingerprint = async (s: Scope) => (await s.run(`{ sha256sum ${caPath(s)} ${s.quayRoot}/credentials; for n in $(podman secret ls --format '{{.Name}}' | grep '^mreg-' | sort); do podman secret inspect --showsecret --format '{{.Spec.Name}} {{.SecretData}}' "$n"; done; } | sha256sum | cut -c1-64`)).stdout.trim();

async function install(t: Test, s: Scope): Promise<GuestResult> {
  const r = await s.run(`${upCmd(s)} --json`, { timeoutMs: 30 * 60_000 });
  t.equal(r.exitCode, 0, `${s.name}: mreg up exits 0 on podman ${PODMAN49}`, { output: describe(r) });
  const c = parseJson<{ username: string; password: string }>(r);
  if (!c) return r;
  const l = await login(s, c);
  t.equal(l.exitCode, 0, `${s.name}: podman login`, { output: describe(l) });
  const p = await pushTiny(s, c);
  t.match(p.digest, /^sha256:[0-9a-f]{64}$/, `${s.name}: tiny:1 pushed`, { output: describe(p.r) });
  state.set(s.name, { creds: c, digest: p.digest, ca: '', secrets: await fingerprint(s) });
  return r;
}

async function assertPulls(t: Test, s: Scope, what: string): Promise<void> {
  const st = state.get(s.name);
  if (!st) return void t.fail(`${s.name}: no install`);
  const p = await pullDigest(s, st.creds);
  t.equal(p.digest, st.digest, `${s.name}: ${what}: tiny:1 pulls with its pushed digest`, p.digest ? {} : { output: describe(p.r) });
}

t.before(usePodman49);

t.test(`the podman-4.9 golden set through the real ${PODMAN49} generator`, async t => checkGoldenSet(t, 'podman-4.9', `podman ${PODMAN49}`));

t.test(`up on podman ${PODMAN49}: the podman 4 layout, healthy, push and pull; no secret leaks`, async t => {
  await root(`mkdir -p -m 0700 /var/lib/mreg-test; rm -f ${PS_LOG} /var/lib/mreg-test/p49-ps.stop
    ${sampleArgv(PS_LOG, '/var/lib/mreg-test/p49-ps.stop')}`);
  const t0 = Date.now();
  const ups = await Promise.all(SCOPES.map(s => install(t, s)));
  await root('touch /var/lib/mreg-test/p49-ps.stop; sleep 1');
  t.comment(`first install on podman ${PODMAN49}, both scopes at once: ${secs(Date.now() - t0)}`);
  await both(async s => {
    const r = ups[SCOPES.findIndex(x => x.name === s.name)]!;
    t.match(r.stderr, /podman 4\.9\.4: using the podman 4 layout/, `${s.name}: preflight says which layout`);
    const files = await s.run(`ls ${s.quadletDir}; echo ---; ls ${unitDir(s)}/quay-pod.service; grep -h '^PodmanArgs=' ${s.quadletDir}/quay-*.container`);
    t.notMatch(files.stdout, /quay\.pod/, `${s.name}: no quay.pod (4.9 cannot read it)`, { output: describe(files) });
    t.match(files.stdout, /quay-pod\.service/, `${s.name}: the plain quay-pod.service in ${unitDir(s)}`);
    t.equal((files.stdout.match(/^PodmanArgs=--pod quay-pod$/gm) ?? []).length, 3, `${s.name}: each container joins the pod with --pod`);
    const st = await status(s);
    t.equal(st.r.exitCode, 0, `${s.name}: mreg status exits 0`, { output: describe(st.r) });
    t.same(st.json?.units.map(u => `${u.name}=${u.activeState}`), ['quay-pod', 'quay-postgres', 'quay-redis', 'quay-app'].map(u => `${u}.service=active`), `${s.name}: four units active`);
    const sc = await s.run(`${s.systemctl} status quay-app --no-pager | head -3`);
    t.match(sc.stdout, /active \(running\)/, `${s.name}: plain ${s.systemctl} status quay-app works`, { output: describe(sc) });
    await assertPulls(t, s, 'after install');
    // the security checks of security.test.ts that depend on the layout: units, generated units, argv, journal
    const w = await collectSecrets(s, secretsFile(s));
    t.ok(Number(w.stdout.trim()) >= 6, `${s.name}: collected the secrets (${w.stdout.trim()})`, { output: describe(w) });
    const f = secretsFile(s);
    const genDir = s.name === 'rootful' ? '/run/systemd/generator' : '/run/user/1000/systemd/generator';
    const units = await s.run(`grep -rlF -f ${f} ${s.quadletDir} ${unitDir(s)} ${genDir} || echo clean`);
    t.equal(units.stdout.trim(), 'clean', `${s.name}: no secret in unit files, the plain pod unit or generated units`, { output: describe(units) });
    const ps = await root(`grep -cF -f ${f} ${PS_LOG} || true`);
    t.equal(ps.stdout.trim(), '0', `${s.name}: no secret in any sampled ps -eo args line`);
    const j = await journalSecrets(s, f, 'root');
    t.ok(j.unitLines > 0, `${s.name}: the journal holds quay-app's lines (${j.unitLines}): the read below is not empty`, { output: describe(j.r) });
    t.equal(j.hits, 0, `${s.name}: no secret in the journal`, { output: describe(j.r) });
    // What an admin reads: quay-app's lines through mreg logs (journalctl, paging off without a terminal).
    const logs = await s.run('mreg logs quay-app --lines 20');
    t.ok(logs.exitCode === 0 && logs.stdout.trim().split('\n').length >= 5, `${s.name}: mreg logs quay-app shows quay-app's lines`, { output: describe(logs) });
    const modes = await s.run(`stat -c '%a %n' ${s.quayRoot} ${s.quayRoot}/credentials ${s.quayRoot}/quay-rootCA/rootCA.key`);
    t.same(modes.stdout.trim().split('\n').map(l => l.split(' ')[0]), ['700', '600', '600'], `${s.name}: quayRoot, credentials and CA key are owner-only`, { output: describe(modes) });
    // Issue 19 on 4.9's own secret store: a re-run asks podman once and records the folder, the next reads its files.
    const graph = (await s.run(`podman info --format '{{.Store.GraphRoot}}'`)).stdout.trim();
    const learnt = await s.run(`${upCmd(s)} --json --verbose && jq -r '.secretStore // "none"' ${s.quayRoot}/mreg-install.json`, { timeoutMs: 20 * 60_000 });
    t.equal(learnt.stdout.trim().split('\n').pop(), `${graph}/secrets`, `${s.name}: a re-run records podman ${PODMAN49}'s secrets folder`, { output: describe(learnt) });
    const fast = await s.run(`${upCmd(s)} --json --verbose`, { timeoutMs: 20 * 60_000 });
    t.equal(fast.exitCode, 0, `${s.name}: the next re-run exits 0`, { output: describe(fast) });
    t.notMatch(fast.stderr, /^\$ podman secret/m, `${s.name}: and reads the secrets with no podman process`, { output: describe(fast) });
    t.equal(parseJson<{ password: string }>(fast)?.password, state.get(s.name)?.creds.password, `${s.name}: the same password`);
    t.equal(await fingerprint(s), state.get(s.name)?.secrets, `${s.name}: every secret as it was`);
  });
  t.ok(Number((await root(`grep -c '^COMMAND' ${PS_LOG}`)).stdout.trim()) > 50, 'ps was sampled more than 50 times');
});

// Each container is removed in one scope, the two scopes side by side (as faults.test.ts does on 5.4),
// then the pod in both: its unit is the plain quay-pod.service in each scope's own systemd. Two rounds
// of recovery instead of four: each one restarts quay-app, the slowest start of the four.
const VICTIMS: Record<Scope['name'], string[][]> = { rootful: [['quay-postgres'], ['pod']], rootless: [['quay-redis', 'quay-app'], ['pod']] };
t.test('self-healing after podman rm -f of each container (each in one scope), then of the pod', async t => {
  await both(async s => {
    for (const victims of VICTIMS[s.name]) {
      const what = victims.join(' and ');
      const ids = async () => Promise.all(victims.map(async v => (v === 'pod' ? (await s.run("podman pod inspect -f '{{.ID}}' quay-pod")).stdout.trim() : await mainPid(s, `${v}.service`))));
      const before = await ids();
      const r = await s.run(victims[0] === 'pod' ? 'podman pod exists quay-pod && podman pod rm -f -t 0 quay-pod' : `for c in ${victims.join(' ')}; do podman container exists $c || exit 1; done; podman rm -f -t 0 ${victims.join(' ')}`);
      t.equal(r.exitCode, 0, `${s.name}: ${what} removed`, { output: describe(r) });
      const ms = await waitHealthy(s, 4 * 60_000);
      t.ok(ms !== undefined, `${s.name}: healthy again by itself after rm -f ${what} (${ms === undefined ? 'never' : secs(ms)})`);
      const after = await ids();
      victims.forEach((v, i) => t.not(after[i], before[i], `${s.name}: a new ${v === 'pod' ? 'pod' : `${v} container`} runs`));
    }
    await assertPulls(t, s, 'after the removals');
  });
});

// v3's rollback in rootless only (upgrade.test.ts rolls v3 back in both scopes on 5.4): the database
// is put back through the same podman exec on 4.9 in either scope.
t.test('upgrade v1 → v2, then v3 (never healthy) rolled back with its database (rootless)', async t => {
  await both(async s => {
    const v2 = await s.run(`mreg upgrade --quayImage ${IMG}/quay:v2 --json`, { timeoutMs: 20 * 60_000 });
    t.equal(v2.exitCode, 0, `${s.name}: upgrade to v2 exits 0`, { output: describe(v2) });
    t.same(parseJson<{ restarted: string[] }>(v2)?.restarted, ['quay-app.service'], `${s.name}: only quay-app restarted`);
    if (s.name !== 'rootless') return void await assertPulls(t, s, 'after the upgrade');
    const v3 = await s.run(`mreg upgrade --quayImage ${IMG}/quay:v3 --timeout 30 --json`, { timeoutMs: 20 * 60_000 });
    t.not(v3.exitCode, 0, `${s.name}: upgrade to v3 fails`, { output: describe(v3) });
    t.equal(parseJson<{ rollbackHealthy?: boolean }>(v3)?.rollbackHealthy, true, `${s.name}: rolled back to v2 and its database, healthy`, { output: describe(v3) });
    t.match((await s.run(`grep '^Image=' ${s.quadletDir}/quay-app.container`)).stdout, /quay:v2$/m, `${s.name}: the v2 unit is back`);
    await assertPulls(t, s, 'after the rollback');
  });
});

t.test(`reboot: podman ${PODMAN49} brings both registries back`, async t => {
  t.ok(await rebootGuest(), 'the guest is back');
  await both(async s => {
    t.equal((await s.run('podman --version')).stdout.trim(), `podman version ${PODMAN49}`, `${s.name}: still podman ${PODMAN49} after the boot`);
    const ms = await waitHealthy(s, 8 * 60_000);
    t.ok(ms !== undefined, `${s.name}: healthy after the reboot (${ms === undefined ? 'never' : secs(ms)} after ssh)`);
    // podman keeps logins in $XDG_RUNTIME_DIR (a tmpfs), so a reboot logs the client out.
    const st = state.get(s.name);
    if (st) t.equal((await login(s, st.creds)).exitCode, 0, `${s.name}: podman login after the reboot`);
    await assertPulls(t, s, 'after the reboot');
  });
});

t.test('down keeps the data; down --purge leaves nothing', async t => {
  // The host move below starts from this running 4.9 install instead of paying a second first start.
  await saveSnapshot('p49-installed');
  await both(async s => {
    const d = await s.run('mreg down --verbose');
    t.equal(d.exitCode, 0, `${s.name}: down exits 0`, { output: describe(d) });
    // mreg's own quay-pod.service removes the pod on stop as Quadlet 5's does: no podman rm of down's own.
    t.notMatch(d.stderr, /\$ podman (pod )?rm /, `${s.name}: no podman rm after a clean stop`, { output: describe(d) });
    const left = await s.run(`ls ${unitDir(s)}/quay-pod.service ${s.quadletDir}/quay-app.container 2>&1; podman ps -a --format '{{.Names}}' | grep -c quay; podman pod ls -q | grep -c .; true`);
    t.match(left.stdout, /No such file[\s\S]*No such file[\s\S]*^0\n0$/m, `${s.name}: units, containers and pod gone`, { output: describe(left) });
    t.equal(await fingerprint(s), state.get(s.name)?.secrets, `${s.name}: CA, credentials and secrets kept`);
    const kept = await s.run('podman volume exists pg-storage && echo yes');
    t.equal(kept.stdout.trim(), 'yes', `${s.name}: the database volume kept`, { output: describe(kept) });
    const p = await s.run('mreg down --purge --yes');
    t.equal(p.exitCode, 0, `${s.name}: down --purge exits 0`, { output: describe(p) });
    const gone = await s.run(`ls -d ${s.quayRoot} ${unitDir(s)}/quay-pod.service ${s.quadletDir}/quay-* 2>/dev/null; podman volume ls -q | grep -E 'quay|pg'; podman secret ls --format '{{.Name}}' | grep mreg-; podman pod ls -q; true`);
    t.equal(gone.stdout.trim(), '', `${s.name}: no quayRoot, unit, volume, secret or pod left`, { output: describe(gone) });
  });
});

// Rootful first has an upgrade to v3 killed under 4.9 after its files were written: until the upgrade did
// the move itself, up refused (an unfinished upgrade) and upgrade refused (the podman 4 layout), each
// naming the other. The same upgrade on 5.4 resumes, moves to quay.pod, never gets healthy and rolls
// both back (the podman 4 files, v2 and its database); then up moves the install, as in rootless.
const KILLED_UPGRADE_SCOPE = 'rootful';
t.test('the host moves to podman 5.4 (RHEL 9.4 → 9.6): up moves the install to quay.pod, data kept; an upgrade killed under 4.9 resumes', async t => {
  await restoreSnapshot('p49-installed'); // the 4.9 install (quay:v2, tiny:1 pushed) as it was before the purge
  const pods = new Map(await Promise.all(SCOPES.map(async s => [s.name, (await s.run("podman pod inspect -f '{{.ID}}' quay-pod")).stdout.trim()] as const)));
  const killedIn = SCOPES.find(s => s.name === KILLED_UPGRADE_SCOPE)!;
  const k = await killWhen(killedIn, `mreg upgrade --quayImage ${IMG}/quay:v3 --verbose`, stepLine(UPGRADE_STEP.write(`${killedIn.quadletDir}/quay-app.container`)));
  assertKilled(t, k, `${killedIn.name}: upgrade to v3 killed after writing its files`, [stepLine(UPGRADE_STEP.reload)]);
  await root(switchPodman('5'));
  await both(async s => {
    const before = state.get(s.name);
    if (s.name === KILLED_UPGRADE_SCOPE) {
      // Not --json: its output has no info lines. v3 never gets healthy (or the pod's restart outlasts 30 s): rolled back either way.
      const v3 = await s.run(`mreg upgrade --quayImage ${IMG}/quay:v3 --timeout 30`, { timeoutMs: 20 * 60_000 });
      t.not(v3.exitCode, 0, `${s.name}: the resumed upgrade to v3 fails`, { output: describe(v3) });
      t.match(v3.stderr, /resuming an upgrade that stopped after writing the unit files/, `${s.name}: it resumes the killed one`, { output: describe(v3) });
      t.match(v3.stderr, /moves from the podman 4 pod unit to quay\.pod/, `${s.name}: and moves to quay.pod`);
      t.match(v3.stderr, /rolled back to the previous version and its database, which is healthy again/, `${s.name}: rolled back to v2 and its database, healthy on 5.4`);
      const back = await s.run(`test -e ${s.quadletDir}/quay.pod && echo 'quay.pod left'; grep -h '^Image=' ${s.quadletDir}/quay-app.container; ${s.systemctl} show -p FragmentPath --value quay-pod.service`);
      t.same(back.stdout.trim().split('\n'), [`Image=${IMG}/quay:v2`, `${unitDir(s)}/quay-pod.service`], `${s.name}: the plain pod unit and v2 back, no quay.pod`, { output: describe(back) });
      await assertPulls(t, s, 'after the rollback on podman 5.4');
    }
    const r = await s.run('mreg up', { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, `${s.name}: mreg up on podman 5.4 exits 0`, { output: describe(r) });
    t.match(r.stderr, new RegExp(`removed ${unitDir(s)}/quay-pod.service`), `${s.name}: says it removed the plain pod unit`);
    const u = await s.run(`test -e ${unitDir(s)}/quay-pod.service && echo 'plain unit left'; ls ${s.quadletDir}/quay.pod; ${s.systemctl} show -p SourcePath --value quay-pod.service`);
    t.same(u.stdout.trim().split('\n'), [`${s.quadletDir}/quay.pod`, `${s.quadletDir}/quay.pod`], `${s.name}: quay.pod written, the plain unit gone, the pod generated from quay.pod`, { output: describe(u) });
    const pod = (await s.run("podman pod inspect -f '{{.ID}}' quay-pod")).stdout.trim();
    t.ok(/^[0-9a-f]{64}$/.test(pod) && pod !== pods.get(s.name), `${s.name}: the pod was made again by the generated unit`);
    t.equal(await fingerprint(s), before?.secrets, `${s.name}: same CA, credentials and secrets`);
    const st = await status(s);
    t.equal(st.r.exitCode, 0, `${s.name}: status healthy on podman 5.4`, { output: describe(st.r) });
    await assertPulls(t, s, 'after the move to podman 5.4');
    const again = await s.run('mreg up', { timeoutMs: 20 * 60_000 });
    t.match(again.stderr + again.stdout, /nothing changed/, `${s.name}: a second up changes nothing`, { output: describe(again) });
  });
});

t.test(`the way back: a quay.pod install on podman ${PODMAN49} is refused, nothing changed`, async t => {
  await root(switchPodman('4.9'));
  await both(async s => {
    const sum = `sha256sum ${s.quadletDir}/* ${s.quayRoot}/mreg-install.json`;
    const before = (await s.run(sum)).stdout;
    for (const cmd of ['mreg up', `mreg upgrade --quayImage ${IMG}/quay:v2`]) {
      const r = await s.run(cmd);
      t.equal(r.exitCode, 1, `${s.name}: ${cmd} exits 1`, { output: describe(r) });
      t.match(r.stderr, /made for podman 5\.0\.0 or newer .*podman 4\.9\.4, which cannot read \.pod files/, `${s.name}: ${cmd} says why in one line`, { output: describe(r) });
    }
    t.equal((await s.run(sum)).stdout, before, `${s.name}: units and record unchanged`);
  });
});
