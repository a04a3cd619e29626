// Fault matrix, rootful and rootless side by side (separate ports, locks, storage): `mreg up` SIGKILLed
// after each of its steps of a fresh install, two mreg commands at once, kill -9 of postgres/quay/conmon,
// podman rm -f of each container (each in one scope) and of the pod, postgres stopped (systemctl stop; podman stop), a damaged quayRoot, an interrupted
// upgrade, and a full --quayStorage. After each fault the registry must recover by itself or
// through `mreg up`, and tiny:1 must still pull with the digest it was pushed with.
// mreg.test.ts covers kill -9 of redis, reboot and re-run idempotence; they are not repeated here.
import t, { type Test } from 'tap';
import { requireVm, waitFor, describe, sideBySide, type GuestResult } from './guest.js';
import {
  asRoot as root, SCOPES, IMG, caPath, upCmd, parseJson, login, pushTiny, pullDigest, status, waitHealthy, sha, keysHash, mainPid, killWhen, assertKilled, stepLine,
  type Scope, type Creds,
} from './scopes.js';
import { fromClean } from './snapshot.js';
import { UP_STEP } from '../../src/plan/up-steps.js';
import { UPGRADE_STEP } from '../../src/plan/upgrade-steps.js';
import { ALL_SECRET_NAMES, UNITS } from '../../src/model/views.js';

requireVm();
t.before(fromClean);
t.setTimeout(60 * 60_000);

// Blobs live on a small tmpfs per scope (a bind path, where mreg's default is a volume) so "storage
// full" costs one fallocate, not gigabytes. Rootful, mreg makes blobs/ in it; rootless, the mount itself
// (the user's, empty) is the storage: a folder that existed before, which --purge must give back as it was.
// Rootless keeps its database in a bind path too: after the first start it belongs to a sub-uid, and
// every re-run of up below must still prepare it.
const SMALL: Record<Scope['name'], string> = { rootful: '/mnt/mreg-small', rootless: '/mnt/mreg-small-user' };
const blobDir = (s: Scope) => (s.name === 'rootful' ? `${SMALL.rootful}/blobs` : SMALL.rootless);
const extraUp = (s: Scope) => `--quayStorage ${blobDir(s)}${s.name === 'rootless' ? ' --pgStorage /home/mreg/mreg-pgdata' : ''}`;

interface State { creds: Creds; digest: string; ca: string; credsSha: string; keys: string }
const state = new Map<string, State>();
const both = (fn: (s: Scope) => Promise<void>) => Promise.all(SCOPES.map(fn));
const secs = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** Same digest as at push time, after a fault. */
async function assertPulls(t: Test, s: Scope, what: string): Promise<void> {
  const st = state.get(s.name)!;
  const p = await pullDigest(s, st.creds);
  t.equal(p.digest, st.digest, `${s.name}: after ${what}, tiny:1 pulls with the digest it was pushed with`, p.digest ? {} : { output: describe(p.r) });
}

/** Waits for self-repair (status exit 0), else runs `mreg up` once; returns how it recovered and how long it took. */
async function recover(s: Scope, selfMs: number): Promise<{ how: 'self' | 'mreg up' | 'no'; ms: number }> {
  const t0 = Date.now();
  if ((await waitHealthy(s, selfMs)) !== undefined) return { how: 'self', ms: Date.now() - t0 };
  const r = await s.run(upCmd(s, extraUp(s)), { timeoutMs: 20 * 60_000 });
  const ok = r.exitCode === 0 && (await waitHealthy(s, 60_000)) !== undefined;
  return { how: ok ? 'mreg up' : 'no', ms: Date.now() - t0 };
}

t.before(async () => {
  await both(s => root(`mkdir -p ${SMALL[s.name]} && (mountpoint -q ${SMALL[s.name]} || mount -t tmpfs -o size=64m,mode=0755,uid=${s.uid},gid=${s.uid} mreg-small ${SMALL[s.name]})`).then(() => undefined));
});

// sha256 of nothing: what keysHash gives while config.yaml does not exist yet.
const EMPTY_SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// The steps of a fresh `mreg up`, in order, and what must already be on disk when it dies right after
// one. mreg is killed on the line `up --verbose` prints as a step ends ("step ID", the ids of
// plan/up-steps.ts that `up --dry-run --json` lists), so renaming a progress label changes nothing here.
// Steps that run side by side end together (preflight with the image check, TLS with the secrets): one
// kill each. After the last start job is the start of the health wait, before the first user.
// Each step's kill runs in one scope, three in each: every killed run repeats node start-up, preflight
// and the image check (about 30 s on TCG), and both scopes resume through the same code. Rootful's
// write kill resumes the run killed after TLS, whose early record listed no unit yet.
// `notYet`: step lines that must not have shown when the kill landed, so each row proves it killed the
// run between its step and the next slow one (key generation, the quadlet dry run, a systemd reload or
// job, the health wait), not later. The first user's row has none: the record follows it within
// milliseconds, so only a real kill (the run still going) can be asked of it.
const UP_KILLS: Array<{ after: string; pattern: string; notYet?: string[]; scope: Scope['name']; check?: (t: Test, s: Scope) => Promise<void> }> = [
  { after: 'preflight and the image check', pattern: stepLine(UP_STEP.images), notYet: [stepLine(UP_STEP.tls)], scope: 'rootless',
    check: async (t, s) => {
      t.equal((await s.run("podman secret ls --format '{{.Name}}' | grep -c '^mreg-'")).stdout.trim(), '0', `${s.name}: no mreg secret yet (they come after TLS)`);
    } },
  // No notYet: the unit files are written some tens of milliseconds after the last secret, within the kill's
  // own latency (a poll every 50 ms), so asking for it would make the row flaky, not stricter.
  { after: 'TLS and the secrets', pattern: stepLine(UP_STEP.secret(ALL_SECRET_NAMES.at(-1)!)), scope: 'rootful',
    check: async (t, s) => {
      t.match(await sha(s, caPath(s)), /^[0-9a-f]{64}$/, `${s.name}: the CA exists`);
      t.equal((await s.run("podman secret ls --format '{{.Name}}' | grep -c '^mreg-'")).stdout.trim(), '5', `${s.name}: five mreg secrets exist`);
    } },
  { after: 'writing the units and config', pattern: `^step ${UP_STEP.write('')}`, notYet: [stepLine(UP_STEP.reload)], scope: 'rootful',
    check: async (t, s) => {
      t.not(await keysHash(s), EMPTY_SHA, `${s.name}: config.yaml has its keys`);
      // This run resumed from the one killed after TLS (whose record listed no unit yet): the units it
      // wrote must be in the record, or down would leave them behind.
      const listed = await s.run(`jq -r '.files[]' ${s.quayRoot}/mreg-install.json | grep -c '/quay-app.container$'`);
      t.equal(listed.stdout.trim(), '1', `${s.name}: the record lists the Quadlet files it wrote`);
    } },
  { after: 'reload systemd', pattern: stepLine(UP_STEP.reload), notYet: [stepLine(UP_STEP.start(UNITS.pod))], scope: 'rootless',
    // The reload ran the generator over the units this run wrote (the first run here to write any).
    check: async (t, s) => void t.equal((await s.run(`${s.systemctl} show -p LoadState --value ${UNITS.app}`)).stdout.trim(), 'loaded', `${s.name}: systemd knows ${UNITS.app}`) },
  { after: 'the start jobs (the health wait begins)', pattern: stepLine(UP_STEP.start(UNITS.app)), notYet: [stepLine(UP_STEP.health)], scope: 'rootless',
    check: async (t, s) => void t.notOk((await s.run(`test -e ${s.quayRoot}/credentials`)).exitCode === 0, `${s.name}: no credentials yet (the first user comes after health)`) },
  { after: 'first user', pattern: stepLine(UP_STEP.firstUser), scope: 'rootful',
    check: async (t, s) => void t.equal((await s.run(`test -e ${s.quayRoot}/credentials && echo yes`)).stdout.trim(), 'yes', `${s.name}: credentials written`) },
];

t.test('fault 3: mreg up SIGKILLed after each of its steps in turn, then run again: converges, same CA, keys and password', async t => {
  await both(async s => {
    const cmd = upCmd(s, extraUp(s));
    const seen = { ca: '', keys: '', creds: '' };
    for (const k of UP_KILLS.filter(k => k.scope === s.name)) {
      const r = await killWhen(s, `${cmd} --verbose`, k.pattern);
      assertKilled(t, r, `${s.name}: killed after ${k.after}`, k.notYet);
      await k.check?.(t, s);
      // Whatever a killed run made first must survive every later run unchanged.
      for (const [key, now] of [['ca', await sha(s, caPath(s))], ['keys', await keysHash(s)], ['creds', await sha(s, `${s.quayRoot}/credentials`)]] as const) {
        if (!/^[0-9a-f]{64}$/.test(now) || now === EMPTY_SHA) continue; // not made yet
        if (seen[key] === '') seen[key] = now;
        else t.equal(now, seen[key], `${s.name}: ${key} unchanged by the run killed after ${k.after}`);
      }
    }
    const t0 = Date.now();
    let r = await s.run(`${cmd} --json`, { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, `${s.name}: mreg up after its killed runs converges (stale lock taken over) in ${secs(Date.now() - t0)}`, { output: describe(r) });
    if (r.exitCode !== 0) {
      // The failure is already recorded above; stop the half-started units by hand so the later faults
      // still run on an install instead of all failing for the same reason.
      await s.run(`${s.systemctl} stop quay-app.service quay-redis.service quay-postgres.service quay-pod.service`, { timeoutMs: 10 * 60_000 });
      r = await s.run(`${cmd} --json`, { timeoutMs: 20 * 60_000 });
      t.equal(r.exitCode, 0, `${s.name}: mreg up converges once the half-started pod is stopped by hand`, { output: describe(r) });
    }
    const creds = parseJson<Creds>(r);
    if (!creds) { t.fail(`${s.name}: no JSON from mreg up`, { output: describe(r) }); return; }
    const ca = await sha(s, caPath(s));
    const keys = await keysHash(s);
    const credsSha = await sha(s, `${s.quayRoot}/credentials`);
    t.equal(ca, seen.ca, `${s.name}: same CA as the killed run that made it`);
    t.equal(keys, seen.keys, `${s.name}: same SECRET_KEY/DATABASE_SECRET_KEY as the killed run that wrote them`);
    if (seen.creds) t.equal(credsSha, seen.creds, `${s.name}: same credentials as the run killed after the first user`);
    else t.match(credsSha, /^[0-9a-f]{64}$/, `${s.name}: credentials written by the converging run`);
    const l = await login(s, creds);
    // A failed login here was seen once (rootful, CI 2026-11-30, after a 123 s converge): keep what the units said.
    const why = l.exitCode === 0 ? undefined : await s.run(`${s.systemctl} status --no-pager -n 0 quay-app quay-postgres | grep -E 'Active|since'; ${s.journalctl} -u quay-app -u quay-postgres -n 40 --no-pager -o short-precise`);
    t.equal(l.exitCode, 0, `${s.name}: login`, { output: describe(l), ...(why ? { units: describe(why) } : {}) });
    const p = await pushTiny(s, creds);
    t.match(p.digest, /^sha256:[0-9a-f]{64}$/, `${s.name}: push tiny:1`, { output: describe(p.r) });
    state.set(s.name, { creds, digest: p.digest, ca, credsSha, keys });
  });
});

t.test('fault 2: two mreg commands at once: the second refuses, the first finishes', async t => {
  await both(async s => {
    if (!state.has(s.name)) return void t.fail(`${s.name}: no install`);
    // One guest shell: start up #1 and freeze it (SIGSTOP) right after it took the lock (its "==> preflight"
    // line; the lock file itself outlives every run, so its existence says nothing). A frozen holder makes
    // the race deterministic: a no-op up finishes in seconds, sooner than a contender's Node start-up.
    const r = await s.run(`setsid ${upCmd(s, extraUp(s))} >/tmp/lock1-${s.name}.out 2>&1 </dev/null & pid=$!
      for i in $(seq 600); do grep -q '^==> preflight' /tmp/lock1-${s.name}.out && break; sleep 0.1; done
      kill -STOP -- -$pid
      ${upCmd(s, extraUp(s))} >/tmp/lock2-${s.name}.out 2>&1; echo "second=$?"
      mreg upgrade --quayImage ${IMG}/quay:v1 >/tmp/lock3-${s.name}.out 2>&1; echo "third=$?"
      kill -CONT -- -$pid
      wait $pid; echo "first=$?"; echo ---; cat /tmp/lock2-${s.name}.out /tmp/lock3-${s.name}.out; echo ---; tail -5 /tmp/lock1-${s.name}.out
      rm -f /tmp/lock[123]-${s.name}.out`, { timeoutMs: 20 * 60_000 });
    t.match(r.stdout, /^second=1$/m, `${s.name}: a second mreg up exits 1`, { output: describe(r) });
    t.match(r.stdout, /^third=1$/m, `${s.name}: mreg upgrade exits 1 meanwhile`, { output: describe(r) });
    t.match(r.stdout, /another mreg \(pid \d+\) is running[^\n]*\n[\s\S]*another mreg \(pid \d+\) is running/, `${s.name}: both name the lock holder`, { output: describe(r) });
    t.match(r.stdout, /^first=0$/m, `${s.name}: the first mreg up finishes`, { output: describe(r) });
    const st = await status(s);
    t.equal(st.r.exitCode, 0, `${s.name}: healthy afterwards`, { output: describe(st.r) });
    t.equal((await s.run(`test -e ${s.lock} && echo held || echo free`)).stdout.trim(), 'free', `${s.name}: lock released`);
  });
});

// Rootless only (its port is published by rootlessport, the harder path): two pod restarts per scope,
// and the code that restarts a service older than its file is the same in both.
t.test('fault 3b (rootless): up with a new port killed after writing its units; the same command again publishes the port', async t => {
  await Promise.all(SCOPES.filter(s => s.name === 'rootless').map(async s => {
    if (!state.has(s.name)) return void t.fail(`${s.name}: no install`);
    const newHost = s.host.replace(/:\d+$/, `:${s.port + 20}`);
    const cmd = upCmd(s, extraUp(s)).replace(`--quayHostname ${s.host}`, `--quayHostname ${newHost}`);
    const k = await killWhen(s, `${cmd} --verbose`, `^step ${UP_STEP.write('')}`);
    assertKilled(t, k, `${s.name}: killed after writing the units for ${newHost}`, [stepLine(UP_STEP.reload)]);
    // The re-run finds every file as it wants it; the pod and quay-app still run the old ones.
    const r = await s.run(cmd, { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, `${s.name}: the same mreg up again exits 0`, { output: describe(r) });
    const c = await s.run(`curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert ${caPath(s)} https://${newHost}/health/instance; echo; curl -sk -o /dev/null -w '%{http_code}' --max-time 10 https://${s.host}/health/instance`);
    t.same(c.stdout.trim().split('\n'), ['200', '000'], `${s.name}: ${newHost} answers with its certificate, the old port is closed`, { output: describe(c) });
    const back = await s.run(upCmd(s, extraUp(s)), { timeoutMs: 20 * 60_000 });
    t.equal(back.exitCode, 0, `${s.name}: and back to ${s.host}`, { output: describe(back) });
    // Issue 12: a flag that disagrees with the install is a change up says before it applies it.
    t.match(`${back.stdout}${back.stderr}`, `mreg: changing --quayHostname: ${newHost} → ${s.host} (new server certificate`, `${s.name}: up says what it changes`);
    await assertPulls(t, s, 'the port moved (interrupted) and came back');
  }));
});

// A kill goes through root: rootless container processes belong to sub-uids the user cannot signal.
// Each round runs one fault per scope at once, and each fault runs in one scope: both scopes restart a
// container the same way (Restart=always in their own systemd manager), and a round costs a container
// restart plus a pull under TCG. podman rm -f of quay-redis is the same path as of quay-app and
// quay-postgres (the container goes, conmon exits, the unit restarts), so it is not repeated.
interface Kill { what: string; unit: string; run: (s: Scope) => Promise<GuestResult> }
const KILL: Record<string, Kill> = {
  pgKill: { what: 'kill -9 of postgres', unit: 'quay-postgres', run: s => killPid(s, 'quay-postgres', '{{.State.Pid}}') },
  // Postgres shut down cleanly behind systemd's back (exit 0): Restart=always brings it back too.
  pgStop: { what: 'podman stop quay-postgres', unit: 'quay-postgres', run: s => s.run('podman stop -t 30 quay-postgres', { timeoutMs: 5 * 60_000 }) },
  appKill: { what: 'kill -9 of quay-app', unit: 'quay-app', run: s => killPid(s, 'quay-app', '{{.State.Pid}}') },
  conmonKill: { what: 'kill -9 of redis\'s conmon', unit: 'quay-redis', run: s => killPid(s, 'quay-redis', '{{.State.ConmonPid}}') },
  appRm: { what: 'podman rm -f quay-app', unit: 'quay-app', run: s => s.run('podman rm -f -t 0 quay-app') },
  pgRm: { what: 'podman rm -f quay-postgres', unit: 'quay-postgres', run: s => s.run('podman rm -f -t 0 quay-postgres') },
};
/** Per round, the fault each scope gets; rootless takes the conmon kill (its conmon runs in the user's manager). */
const ROUNDS: Array<Record<Scope['name'], Kill>> = [
  { rootful: KILL.pgKill!, rootless: KILL.pgStop! },
  { rootful: KILL.appKill!, rootless: KILL.conmonKill! },
  { rootful: KILL.appRm!, rootless: KILL.pgRm! },
];

async function killPid(s: Scope, container: string, field: string): Promise<GuestResult> {
  const pid = (await s.run(`podman inspect -f '${field}' ${container}`)).stdout.trim();
  if (!/^[1-9]\d*$/.test(pid)) return { stdout: '', stderr: `no pid for ${container}: '${pid}'`, exitCode: 1 };
  return root(`kill -9 ${pid}`);
}

for (const round of ROUNDS) {
  t.test(`fault 1: ${SCOPES.map(s => `${s.name}: ${round[s.name].what}`).join('; ')}: repaired by systemd`, async t => {
    await both(async s => {
      const k = round[s.name];
      if (!state.has(s.name)) return void t.fail(`${s.name}: no install`);
      const before = await mainPid(s, `${k.unit}.service`);
      const r = await k.run(s);
      t.equal(r.exitCode, 0, `${s.name}: ${k.what}`, { output: describe(r) });
      const t0 = Date.now();
      const restarted = await waitFor(async () => { const p = await mainPid(s, `${k.unit}.service`); return /^[1-9]\d*$/.test(p) && p !== before; }, 5 * 60_000, 1000);
      t.ok(restarted, `${s.name}: ${k.unit} has a new main PID`);
      const rec = await recover(s, 5 * 60_000);
      t.equal(rec.how, 'self', `${s.name}: recovered by itself after ${k.what}`);
      t.comment(`${s.name}: ${k.what}: healthy again ${secs(Date.now() - t0)} after the kill (${rec.how})`);
      await assertPulls(t, s, k.what);
    });
  });
}

t.test('fault 1: podman pod rm -f of the pod', async t => {
  await both(async s => {
    if (!state.has(s.name)) return void t.fail(`${s.name}: no install`);
    // `pod rm -f` exits 0 for a pod that does not exist: until 2026-11-30 this removed "quay", a name
    // mreg's pod never had, so the fault never happened. Name the pod, and compare its ID afterwards.
    const podId = async () => (await s.run("podman pod inspect -f '{{.ID}}' quay-pod")).stdout.trim();
    const before = await podId();
    const r = await s.run('podman pod exists quay-pod && podman pod rm -f -t 0 quay-pod');
    t.equal(r.exitCode, 0, `${s.name}: pod quay-pod removed`, { output: describe(r) });
    const t0 = Date.now();
    // Give systemd a fair window to rebuild the pod by itself; mreg up is the documented repair.
    const rec = await recover(s, 3 * 60_000);
    t.not(rec.how, 'no', `${s.name}: recovered after pod rm -f (${rec.how}, ${secs(rec.ms)})`);
    t.comment(`${s.name}: pod rm -f: healthy again after ${secs(Date.now() - t0)} via ${rec.how}`);
    const after = await podId();
    t.ok(/^[0-9a-f]{64}$/.test(after) && after !== before, `${s.name}: a new pod runs (${before.slice(0, 12)} → ${after.slice(0, 12)})`);
    await assertPulls(t, s, 'pod rm -f');
  });
});

t.test('fault 5 + 3: damaged quayRoot, then mreg up killed while waiting for health, then mreg up', async t => {
  await both(async s => {
    const st0 = state.get(s.name);
    if (!st0) return void t.fail(`${s.name}: no install`);
    const R = s.quayRoot;
    await s.run(`chmod 0755 ${R}; chmod 0644 ${R}/credentials ${R}/quay-rootCA/rootCA.key; rm -f ${R}/quay-config/config.yaml`);
    const st = await status(s);
    t.equal(st.r.exitCode, 3, `${s.name}: status exits 3`, { output: describe(st.r) });
    const problems = (st.json?.problems ?? []).join('\n');
    t.match(problems, /config\.yaml is missing/, `${s.name}: status names the missing config.yaml`, { problems });
    t.match(problems, new RegExp(`${R}: mode 0755 is too open`), `${s.name}: status names quayRoot's mode`, { problems });
    t.match(problems, /credentials: mode 0644 is too open/, `${s.name}: status names the credentials' mode`, { problems });
    t.match(problems, /rootCA\.key: mode 0644 is too open/, `${s.name}: status names the CA key's mode`, { problems });
    const k = await killWhen(s, `${upCmd(s, extraUp(s))} --verbose`, stepLine(UP_STEP.start(UNITS.app)), 3);
    assertKilled(t, k, `${s.name}: mreg up killed while waiting for health`, [stepLine(UP_STEP.health)]);
    const t0 = Date.now();
    const r = await s.run(upCmd(s, extraUp(s)), { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, `${s.name}: mreg up converges in ${secs(Date.now() - t0)}`, { output: describe(r) });
    t.equal(await sha(s, caPath(s)), st0.ca, `${s.name}: same CA`);
    t.equal(await sha(s, `${R}/credentials`), st0.credsSha, `${s.name}: same credentials file`);
    t.equal(await keysHash(s), st0.keys, `${s.name}: same SECRET_KEY/DATABASE_SECRET_KEY`);
    const modes = (await s.run(`stat -c '%a %u %n' ${R} ${R}/credentials ${R}/quay-rootCA/rootCA.key ${R}/quay-config/config.yaml`)).stdout.trim();
    t.equal(modes, [`700 ${s.uid} ${R}`, `600 ${s.uid} ${R}/credentials`, `600 ${s.uid} ${R}/quay-rootCA/rootCA.key`, `640 ${s.uid} ${R}/quay-config/config.yaml`].join('\n'),
      `${s.name}: mreg up restored the modes of quayRoot, credentials and the CA key`);
    // Put the modes right by hand whatever up did, so one bug does not cascade into the later faults.
    await s.run(`chmod 0700 ${R}; chmod 0600 ${R}/credentials ${R}/quay-rootCA/rootCA.key`);
    t.ok((await waitHealthy(s, 3 * 60_000)) !== undefined, `${s.name}: healthy`);
    await assertPulls(t, s, 'the damaged quayRoot');
  });
});

// An admin's `systemctl stop` is deliberate, so systemd leaves it stopped (and quay-app with it, by
// Requires=); mreg status must say so and mreg up is the repair. A stop behind systemd's back
// (podman stop) is in KILLS above: systemd restarts that by itself.
async function fault4(t: Test, s: Scope): Promise<void> {
  if (!state.has(s.name)) return void t.fail(`${s.name}: no install`);
  await s.run(`${s.systemctl} stop quay-postgres.service`, { timeoutMs: 5 * 60_000 });
  const st = await status(s);
  t.equal(st.r.exitCode, 3, `${s.name}: mreg status exits 3 with postgres stopped`, { output: describe(st.r) });
  t.ok(st.json?.problems.some(p => p.startsWith('quay-postgres.service is inactive')), `${s.name}: status names quay-postgres.service`, { problems: st.json?.problems });
  const t0 = Date.now();
  const r = await s.run(upCmd(s, extraUp(s)), { timeoutMs: 20 * 60_000 });
  t.equal(r.exitCode, 0, `${s.name}: mreg up starts it again`, { output: describe(r) });
  t.ok((await waitHealthy(s, 3 * 60_000)) !== undefined, `${s.name}: healthy`);
  t.comment(`${s.name}: postgres stopped: healthy again ${secs(Date.now() - t0)} after mreg up started`);
  await assertPulls(t, s, 'postgres stopped');
}

// Killed on the step line of quay-app's restart (the only unit a new Quay image restarts): its job is
// done and the health wait begins, so the files and the running quay-app are v2 and the record still v1.
async function fault6(t: Test, s: Scope): Promise<void> {
  if (!state.has(s.name)) return void t.fail(`${s.name}: no install`);
  const cmd = `mreg upgrade --quayImage ${IMG}/quay:v2`;
  const k = await killWhen(s, `${cmd} --verbose`, stepLine(UPGRADE_STEP.restart(UNITS.app)), 1);
  assertKilled(t, k, `${s.name}: upgrade killed while waiting for health`, [stepLine(UPGRADE_STEP.health)]);
  t.equal((await s.run(`jq -r .spec.images.quay ${s.quayRoot}/mreg-install.json`)).stdout.trim(), `${IMG}/quay:v1`,
    `${s.name}: killed before it recorded v2`);
  const t0 = Date.now();
  const r = await s.run(`${cmd} --json`, { timeoutMs: 20 * 60_000 });
  t.equal(r.exitCode, 0, `${s.name}: upgrade run again exits 0 (${secs(Date.now() - t0)})`, { output: describe(r) });
  const version = (await s.run(`curl -s --cacert ${caPath(s)} https://${s.host}/api/v1/discovery | jq -r .version`)).stdout.trim();
  t.equal(version, 'v2', `${s.name}: the stand-in runs v2`);
  t.equal((await s.run(`jq -r .spec.images.quay ${s.quayRoot}/mreg-install.json`)).stdout.trim(), `${IMG}/quay:v2`, `${s.name}: the install record names v2`);
  t.ok((await waitHealthy(s, 3 * 60_000)) !== undefined, `${s.name}: healthy`);
  await assertPulls(t, s, 'the interrupted upgrade');
}

// Faults 4 and 6 run in one scope each, at the same time (each is a restart under TCG; the scopes
// restart the same way). Fault 6 leaves v2 running, so it comes after fault 5's `mreg up` with v1's flags.
t.test('fault 4 (rootful): postgres stopped by systemctl; fault 6 (rootless): upgrade v1→v2 killed while waiting for health', async t => {
  const pick = (name: Scope['name']) => SCOPES.find(s => s.name === name);
  const rootful = pick('rootful');
  const rootless = pick('rootless');
  await Promise.all([rootful && fault4(t, rootful), rootless && fault6(t, rootless)]);
});

sideBySide(t, 'fault 7: a full --quayStorage is reported and pushes work again once space is freed', SCOPES, (t, s) => {
  t.test('fill the storage, then free it', async t => {
    const st = state.get(s.name);
    if (!st) return void t.fail('no install');
    const small = SMALL[s.name];
    // A fresh 2 MB layer: tiny:1's blob already exists in the registry, so re-pushing it writes nothing.
    const push = () => s.run(`set -e; d=$(mktemp -d); head -c 2000000 /dev/urandom >"$d/blob"; tar -C "$d" -c blob | podman import -q - ${IMG}/rand:1 >/dev/null
      rm -rf "$d"; podman tag ${IMG}/rand:1 ${s.host}/${st.creds.username}/rand:1; podman push -q ${s.host}/${st.creds.username}/rand:1
      podman rmi ${IMG}/rand:1 ${s.host}/${st.creds.username}/rand:1 >/dev/null`);
    await root(`avail=$(df --output=avail -B1 ${small} | tail -1); fallocate -l $((avail - 262144)) ${small}/fill`);
    const full = await status(s);
    t.equal(full.r.exitCode, 3, 'status exits 3 with the storage full', { output: describe(full.r) });
    t.ok(full.json?.problems.some(p => p.startsWith(`quayStorage ${blobDir(s)}: only`)), 'status names quayStorage and its free space', { problems: full.json?.problems });
    const refused = await push();
    t.not(refused.exitCode, 0, 'a push fails while the storage is full', { output: describe(refused) });
    await root(`rm -f ${small}/fill`);
    const ok = await push();
    t.equal(ok.exitCode, 0, 'the push works after freeing space', { output: describe(ok) });
    t.ok((await waitHealthy(s, 60_000)) !== undefined, 'status healthy again');
    await assertPulls(t, s, 'the storage was full');
  });
});

// Issue 12: every storage here is a bind path (rootful's blob folder and rootless's database folder made
// by mreg, rootless's blob folder one that existed before), so this is where both scopes' purge of bind
// storage is proven. An administrator's file beside the blobs must survive it, and keep its folder.
sideBySide(t, 'down --purge of bind storage deletes what Quay and PostgreSQL wrote, not the admin\'s file', SCOPES, (t, s) => {
  t.test('purge with a file of the admin\'s in the blob folder', async t => {
    const blobs = blobDir(s);
    const inNs = (cmd: string) => s.run(s.name === 'rootless' ? `podman unshare sh -c '${cmd}'` : cmd);
    t.equal((await inNs(`echo mine > ${blobs}/admin-notes.txt`)).exitCode, 0, 'the admin writes a file beside the blobs');
    const d = await s.run('mreg down --purge --yes', { timeoutMs: 10 * 60_000 });
    t.equal(d.exitCode, 0, 'down --purge exits 0', { output: describe(d) });
    t.match(d.stderr, `kept ${blobs}: it holds 1 entry mreg did not write (admin-notes.txt)`, 'says what it left and why');
    const left = await inNs(`ls -A ${blobs}; cat ${blobs}/admin-notes.txt`);
    t.equal(left.stdout.trim(), 'admin-notes.txt\nmine', 'only the admin\'s file is left in the blob folder', { output: describe(left) });
    if (s.name === 'rootless') {
      // The mount existed before (the user's, 0755): it is given back with its owner and mode.
      const back = await s.run(`stat -c '%a %U' ${blobs}`);
      t.equal(back.stdout.trim(), '755 mreg', 'the folder that existed before has its old mode and owner again', { output: describe(back) });
      const pg = await s.run('test -e /home/mreg/mreg-pgdata && echo "still there: $(podman unshare ls -A /home/mreg/mreg-pgdata)"; true');
      t.equal(pg.stdout.trim(), '', 'the database folder mreg made, holding only what PostgreSQL wrote, is gone', { output: describe(pg) });
    }
    await root(s.name === 'rootful' ? `rm -rf ${blobs}` : `rm -f ${blobs}/admin-notes.txt`);
  });
});

// No teardown: the next file restores its own snapshot (snapshot.ts).
