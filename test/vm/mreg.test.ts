// mreg up / status / down for real, in the VM, rootful and rootless side by side, on the shared base
// install (base.ts): what the install printed, log in with the printed credentials and the generated
// CA, push and pull, run up again (nothing changes), reboot (everything returns), kill -9 a container
// (systemd restarts it), down (data kept), up again (same CA, same data), down --purge (nothing left
// behind). Rootful uses its own quayRoot and an empty blob folder that existed before: up with no flags
// must find that install, and --purge must give the folder back as it was.
import t, { type Test } from 'tap';
import { root, rebootGuest, requireVm, waitFor, describe, sideBySide, IMAGE_FLAGS as IMAGES, type GuestResult, type Scope } from './guest.js';
import { useBase, upBase, BASE_SCOPES as scopes, ROOTFUL_BLOBS, type BaseInstall, type DryRunResult, type UpResult } from './base.js';
import { waitHealthy } from './scopes.js';
import { UP_STEP } from '../../src/plan/up-steps.js';

requireVm();
t.setTimeout(90 * 60_000);

const UNITS = ['quay-pod', 'quay-postgres', 'quay-redis', 'quay-app'];

const installs = new Map<string, UpResult>();
const host = (s: Scope) => s.host;
const quayRoot = (s: Scope) => s.quayRoot;
let base = new Map<string, BaseInstall>();

async function up(s: Scope, extra = ''): Promise<{ r: GuestResult; json?: UpResult }> {
  const r = await s.run(upBase(s, `--json ${extra}`), { timeoutMs: 30 * 60_000 });
  let json: UpResult | undefined;
  try { json = JSON.parse(r.stdout) as UpResult; } catch { /* asserted by the caller */ }
  return { r, json };
}

/** The step ids `up --dry-run --json` listed, or undefined when it printed no plan. */
function dryRunIds(r: GuestResult): string[] | undefined {
  try { return (JSON.parse(r.stdout) as DryRunResult).plan.map(p => p.id); } catch { return undefined; }
}

/** What a run into a new install (or one `down` left) must have done: every step its dry run listed, in order. */
function assertRanDryRun(t: Test, dry: GuestResult, ran: UpResult | undefined): void {
  t.equal(dry.exitCode, 0, 'up --dry-run --json exits 0', { output: describe(dry) });
  const listed = dryRunIds(dry);
  t.ok(listed && listed.length > 10, 'the dry run lists its steps with ids', { output: describe(dry) });
  t.same(ran?.steps, listed, 'up took exactly the steps up --dry-run --json listed, in that order');
}

async function activeStates(s: Scope): Promise<string> {
  return (await s.run(`${s.systemctl} is-active ${UNITS.join(' ')}`)).stdout.trim().split('\n').join(' ');
}

async function allActive(s: Scope): Promise<boolean> {
  return (await activeStates(s)) === 'active active active active';
}

async function login(s: Scope, c: UpResult): Promise<GuestResult> {
  return s.run(`set -e; d=${s.certsDir}/${host(s)}; mkdir -p "$d"; cp ${c.caPath} "$d/ca.crt"
    podman login -u ${c.username} --password-stdin ${host(s)}`, { input: c.password });
}

/** Pulls tiny:TAG afresh; stdout is the digest pulled, to compare with the one pushed. */
async function pullTiny(s: Scope, c: UpResult, tag: string): Promise<GuestResult> {
  const ref = `${host(s)}/${c.username}/tiny:${tag}`;
  return s.run(`set -e; podman rmi -i ${ref} >/dev/null 2>&1 || true
    podman pull -q ${ref} >/dev/null; podman image inspect --format '{{.Digest}}' ${ref}; podman rmi ${ref} >/dev/null`);
}

const pushed = new Map<string, string>();

/** After a fault: tiny:one pulls with the digest it was pushed with. */
async function assertSameDigest(t: Test, s: Scope, c: UpResult, what: string): Promise<void> {
  const q = await pullTiny(s, c, 'one');
  t.equal(q.exitCode, 0, `${s.name}: ${what}: tiny:one still pulls`, { output: describe(q) });
  t.equal(q.stdout.trim(), pushed.get(s.name), `${s.name}: ${what}: same digest as pushed`);
}

async function caHash(s: Scope, c: UpResult): Promise<string> {
  return (await s.run(`sha256sum ${c.caPath} | cut -c1-64`)).stdout.trim();
}

/** sha256 of every mreg podman secret's name and value: down and up must keep them byte for byte. */
async function secretsHash(s: Scope): Promise<string> {
  // One podman process for all of them (each is about a second under emulation).
  const r = await s.run(`names=$(podman secret ls --format '{{.Name}}' | grep '^mreg-' | sort)
    { [ -z "$names" ] || podman secret inspect --showsecret --format '{{.Spec.Name}} {{.SecretData}}' $names; } | sha256sum | cut -c1-64`);
  return r.stdout.trim();
}

t.before(async () => { base = await useBase(); });

sideBySide(t, 'install, push, up again, status, kill -9 (both scopes at once)', scopes, (t, s) => {
  t.test(`${s.name}: mreg up on a fresh guest (the base install)`, async t => {
    const b = base.get(s.name);
    if (!b) return t.fail('no base install');
    const { up: r, json } = b;
    t.equal(r.exitCode, 0, `mreg up exits 0`, { output: describe(r) });
    if (!json) return t.fail(`mreg up --json printed no JSON`, { output: describe(r) });
    installs.set(s.name, json);
    assertRanDryRun(t, b.dryRun, json);
    t.equal(json.url, `https://${host(s)}`);
    t.equal(json.username, 'init');
    t.ok(json.password.length >= 24, 'generated password has at least 24 characters');
    t.notOk(r.stderr.includes(json.password), 'the password is not in the progress output');
    t.ok(await allActive(s), `all four units active: ${await activeStates(s)}`);
    const files = await s.run(`ls ${s.quadletDir}`);
    t.match(files.stdout, /quay\.pod/);
    t.match(files.stdout, /quay-app\.container/);
    const noSecret = await s.run(`grep -rl -- '${json.password}' ${s.quadletDir} || echo clean`);
    t.equal(noSecret.stdout.trim(), 'clean', 'no secret in any unit file');
    const ext = await s.run(`podman exec quay-postgres psql -Atc "select extname from pg_extension" -d quay`);
    t.match(ext.stdout, /pg_trgm/, `pg_trgm exists in the quay database (made before Quay started)`, { output: describe(ext) });
    const sc = await s.run(`${s.systemctl} status quay-app --no-pager`);
    t.match(sc.stdout, /active \(running\)/, 'plain systemctl status quay-app works');
    if (s.name === 'rootless') {
      // vm.sh keeps one ssh session open for all commands, so nothing here would notice the user's
      // services stopping at logout: the linger that keeps them running is checked instead.
      const linger = await s.run('loginctl show-user mreg -P Linger');
      t.equal(linger.stdout.trim(), 'yes', 'linger is on for the rootless user (its units outlive the login)', { output: describe(linger) });
    }
  });

  t.test(`${s.name}: podman login, push and pull over verified TLS`, async t => {
    const c = installs.get(s.name);
    const b = base.get(s.name);
    if (!c || !b) return t.fail('no install');
    t.equal(b.login.exitCode, 0, `podman login with the generated CA`, { output: describe(b.login) });
    pushed.set(s.name, b.digest);
    t.match(pushed.get(s.name), /^sha256:[0-9a-f]{64}$/, 'the registry returned a manifest digest');
    t.equal(b.push.exitCode, 0, `push`, { output: describe(b.push) });
    const q = await pullTiny(s, c, 'one');
    t.equal(q.exitCode, 0, `pull`, { output: describe(q) });
    t.equal(q.stdout.trim(), pushed.get(s.name), 'pulled the digest that was pushed');
    const bad = await s.run(`podman login -u ${c.username} --password-stdin ${host(s)}`, { input: 'wrong-password' });
    t.not(bad.exitCode, 0, 'a wrong password is refused');
    await s.run(`podman login -u ${c.username} --password-stdin ${host(s)}`, { input: c.password });
  });

  t.test(`${s.name}: mreg up again changes nothing`, async t => {
    const c = installs.get(s.name);
    if (!c) return t.fail('no install');
    const before = await caHash(s, c);
    const { r, json } = await up(s, '--verbose');
    t.equal(r.exitCode, 0, 'exits 0', { output: describe(r) });
    t.equal(json?.unchanged, true, 'reports unchanged');
    // Issue 19: the four units running the recorded images show they are here; no podman process asks.
    t.notMatch(r.stderr, /^\$ podman image (inspect|exists)/m, 'no podman image check', { output: describe(r) });
    t.notOk(json?.steps?.some(id => id === UP_STEP.reload || id.startsWith(UP_STEP.start(''))), 'no reload and no start job among the steps it reports', { steps: json?.steps });
    t.equal(json?.password, c.password, 'same password');
    t.equal(await caHash(s, c), before, 'same CA');
  });

  t.test(`${s.name}: mreg up with no flags at all finds the install and keeps it`, async t => {
    const c = installs.get(s.name);
    if (!c) return t.fail('no install');
    const before = await caHash(s, c);
    const r = await s.run('mreg up --no-color', { timeoutMs: 30 * 60_000 });
    t.equal(r.exitCode, 0, 'exits 0', { output: describe(r) });
    t.match(r.stderr, /nothing changed/, 'nothing changed', { output: describe(r) });
    t.match(r.stdout, new RegExp(`^URL: +https://${host(s).replace(/\./g, '\\.')}$`, 'm'), 'same hostname and port as the install (not hostname -f and 8443)');
    t.notOk(r.stdout.includes(c.password) || r.stderr.includes(c.password), 'the password is not printed again (it was printed when the user was made)');
    t.match(r.stdout, new RegExp(`^Password: +in ${quayRoot(s)}/credentials`, 'm'), 'it says where the password is');
    t.equal(await caHash(s, c), before, 'same CA');
    const l = await s.run(`podman login -u ${c.username} --password-stdin ${host(s)}`, { input: c.password });
    t.equal(l.exitCode, 0, 'the same credentials log in', { output: describe(l) });
  });

  t.test(`${s.name}: a re-run reads the secrets from podman's own files; a removed one is made again with its value`, async t => {
    // Issue 19: the earlier re-runs asked `podman secret inspect` and recorded the folder it confirmed.
    const c = installs.get(s.name);
    if (!c) return t.fail('no install');
    const graph = (await s.run(`podman info --format '{{.Store.GraphRoot}}'`)).stdout.trim();
    const rec = await s.run(`jq -r '.secretStore // "none"' ${quayRoot(s)}/mreg-install.json`);
    t.equal(rec.stdout.trim(), `${graph}/secrets`, 'the record names podman\'s secrets folder', { output: describe(rec) });
    const before = await secretsHash(s);
    const { r, json } = await up(s, '--verbose');
    t.equal(r.exitCode, 0, 'exits 0', { output: describe(r) });
    t.equal(json?.unchanged, true, 'reports unchanged');
    t.notMatch(r.stderr, /^\$ podman secret/m, 'no podman secret process', { output: describe(r) });
    t.match(r.stderr, /^healthy: \/health\/instance answered 200 while up checked/m, 'the health asked beside the checks stands: nothing changed');
    t.equal(json?.password, c.password, 'same password');
    const rm = await s.run('podman secret rm mreg-redis-password');
    t.equal(rm.exitCode, 0, 'mreg-redis-password removed by hand', { output: describe(rm) });
    const again = await up(s, '--verbose');
    t.equal(again.r.exitCode, 0, 'up exits 0', { output: describe(again.r) });
    t.match(again.r.stderr, /^\$ podman secret inspect/m, 'the files lack it: podman is asked', { output: describe(again.r) });
    t.match(again.r.stderr, /^\$ podman secret create .*mreg-redis-password/m, 'and it is made again');
    t.match(again.r.stderr, /^healthy after \d+ ms of probing/m, 'a run that made a secret waits for health after its restarts');
    t.equal(await secretsHash(s), before, 'every mreg secret has the value it had');
  });

  t.test(`${s.name}: mreg up with only the image flags keeps the install where it is`, async t => {
    // Issue 12's case: re-run with fewer flags than the install was made with (rootful's quayRoot is
    // /srv/mreg-root, not the default). It once made a second, empty install under /etc/quay-install.
    const c = installs.get(s.name);
    if (!c) return t.fail('no install');
    const before = await caHash(s, c);
    const r = await s.run(`mreg up ${IMAGES}`, { timeoutMs: 30 * 60_000 });
    t.equal(r.exitCode, 0, 'exits 0', { output: describe(r) });
    t.match(r.stderr, /nothing changed/, 'nothing changed', { output: describe(r) });
    t.equal(await caHash(s, c), before, 'same CA');
    const def = s.name === 'rootful' ? '/etc/quay-install' : '/home/mreg/quay-install';
    if (def !== quayRoot(s)) t.equal((await s.run(`test -e ${def} && echo made; true`)).stdout.trim(), '', `no second install at ${def}`);
    const l = await s.run(`podman login -u ${c.username} --password-stdin ${host(s)}`, { input: c.password });
    t.equal(l.exitCode, 0, 'the same credentials log in', { output: describe(l) });
  });

  t.test(`${s.name}: a flag that disagrees with the install is refused and changes nothing`, async t => {
    const other = s.name === 'rootful' ? '/srv/mreg-other-root' : '/home/mreg/other-root';
    const r1 = await s.run('mreg up --quayStorage some-other-volume');
    t.equal(r1.exitCode, 2, 'another --quayStorage: exit 2', { output: describe(r1) });
    t.match(r1.stderr, /--quayStorage some-other-volume: this install keeps its data in .*mreg up never moves data/, 'says why and how', { output: describe(r1) });
    const r2 = await s.run(`mreg up --quayRoot ${other} --quayHostname ${host(s)} ${IMAGES}`);
    t.equal(r2.exitCode, 2, 'another --quayRoot: exit 2 (a second install would take over the units)', { output: describe(r2) });
    t.match(r2.stderr, new RegExp(`--quayRoot ${other}: this host already has a ${s.name} mreg install at ${quayRoot(s)}`), 'names the install', { output: describe(r2) });
    const left = await s.run(`test -e ${other} && echo exists; podman volume exists some-other-volume && echo volume; true`);
    t.equal(left.stdout.trim(), '', 'nothing was created', { output: describe(left) });
    t.ok(await allActive(s), 'the registry still runs');
  });

  t.test(`${s.name}: mreg status is healthy`, async t => {
    const r = await s.run('mreg status --json');
    t.equal(r.exitCode, 0, 'exits 0', { output: describe(r) });
    const st = JSON.parse(r.stdout) as { healthy: boolean; units: Array<{ activeState: string }> };
    t.equal(st.healthy, true);
    t.same(st.units.map(u => u.activeState), ['active', 'active', 'active', 'active']);
    const human = await s.run('mreg status --no-color');
    t.match(human.stdout, /quay-app\.service\s+loaded\s+active\s+running/);
    // up records where podman keeps the volumes, so status needs no podman process for them (issue 19).
    const recorded = await s.run(`jq -r '.volumeMountpoints["pg-storage"]' ${s.quayRoot}/mreg-install.json; podman volume inspect --format '{{.Mountpoint}}' pg-storage`);
    const [fromRecord, fromPodman] = recorded.stdout.trim().split('\n');
    t.equal(fromRecord, fromPodman, 'the record holds the folder podman reports for pg-storage', { output: describe(recorded) });
    t.ok((JSON.parse(r.stdout) as { storage: Array<{ location: string }> }).storage.some(x => x.location === fromPodman), 'status shows that folder');
  });

  t.test(`${s.name}: mreg logs quay-postgres shows the server's own lines`, async t => {
    // sclorg's image logs into files in the data unless POSTGRESQL_LOG_DESTINATION says otherwise (the stand-in too).
    const r = await s.run('mreg logs quay-postgres -n 200');
    t.equal(r.exitCode, 0, 'exits 0', { output: describe(r) });
    t.match(r.stdout, /database system is ready to accept connections/, 'the server\'s start in the journal', { output: describe(r) });
  });

  t.test(`${s.name}: kill -9 of a container is repaired by systemd`, async t => {
    const pid = (await s.run('podman inspect -f "{{.State.Pid}}" quay-redis')).stdout.trim();
    t.match(pid, /^\d+$/, 'redis has a pid');
    const before = Number((await s.run(`${s.systemctl} show -p NRestarts --value quay-redis`)).stdout.trim());
    await s.run(s.name === 'rootful' ? `kill -9 ${pid}` : `podman unshare kill -9 ${pid} || kill -9 ${pid}`);
    const back = await waitFor(async () => {
      const n = Number((await s.run(`${s.systemctl} show -p NRestarts --value quay-redis`)).stdout.trim());
      return n > before && (await allActive(s));
    }, 5 * 60_000);
    t.ok(back, `redis restarted and all active: ${await activeStates(s)}`);
    const healthy = (await waitHealthy(s, 3 * 60_000)) !== undefined;
    t.ok(healthy, 'mreg status healthy again', healthy ? {} : { output: describe(await s.run('mreg status')) });
    const c = installs.get(s.name);
    if (c) await assertSameDigest(t, s, c, 'after kill -9 of redis');
  });
});

t.test('reboot: both installs come back with their images', async t => {
  t.ok(await rebootGuest(), 'guest is back after reboot');
  await Promise.all(scopes.map(async s => {
    const c = installs.get(s.name);
    if (!c) return void t.fail(`${s.name}: no install`);
    t.ok(await waitFor(() => allActive(s), 10 * 60_000), `${s.name}: all active after reboot: ${await activeStates(s)}`);
    t.ok((await waitHealthy(s, 5 * 60_000)) !== undefined, `${s.name}: healthy after reboot (mreg status exit 0)`);
    // podman keeps logins in $XDG_RUNTIME_DIR (a tmpfs), so a reboot logs the client out.
    const l = await login(s, c);
    t.equal(l.exitCode, 0, `${s.name}: login after reboot`, { output: describe(l) });
    await assertSameDigest(t, s, c, 'after the reboot');
  }));
});

sideBySide(t, 'down keeps data, up again, down --purge (both scopes at once)', scopes, (t, s) => {
  t.test(`${s.name}: down keeps data; up again reuses CA and data`, async t => {
    const c = installs.get(s.name);
    if (!c) return t.fail('no install');
    const ca = await caHash(s, c);
    const keysCmd = `grep -E '^(SECRET_KEY|DATABASE_SECRET_KEY):' ${quayRoot(s)}/quay-config/config.yaml | sha256sum`;
    const keys = (await s.run(keysCmd)).stdout;
    // The CA for clients, installed the documented way (not the test's own copy).
    const trustFile = `${s.certsDir}/${host(s)}/ca.crt`;
    await s.run(`rm -rf ${s.certsDir}/${host(s)}`);
    const tr = await s.run('mreg cert trust');
    t.equal(tr.exitCode, 0, 'mreg cert trust', { output: describe(tr) });
    const secrets = await secretsHash(s);
    t.match(secrets, /^[0-9a-f]{64}$/);
    const d = await s.run('mreg down --verbose');
    t.equal(d.exitCode, 0, 'exits 0', { output: describe(d) });
    t.match(d.stdout, /data kept/);
    // The units' own stop commands removed the containers and the pod (their ExecStopPost exited 0), so
    // down runs no podman process of its own for them (issue 19); the next subtest has one a crash left.
    t.notMatch(d.stderr, /\$ podman (pod )?rm /, 'no podman rm after a clean stop', { output: describe(d) });
    const gone = await s.run(`podman ps -a --format '{{.Names}}' | grep quay; podman pod ls --format '{{.Name}}'; true`);
    t.equal(gone.stdout.trim(), '', 'no container or pod left', { output: describe(gone) });
    t.equal((await s.run(`test -f ${trustFile} && echo kept`)).stdout.trim(), 'kept', 'down keeps the CA that cert trust installed');
    t.equal(await secretsHash(s), secrets, 'down keeps every podman secret');
    const left = await s.run(`${s.systemctl} list-units --all --no-legend 'quay-*' | grep -v not-found || true; ls ${s.quadletDir} 2>/dev/null | grep -c quay || true`);
    t.match(left.stdout.trim(), /^0$/, `no units or Quadlet files left`, { output: describe(left) });
    // Rootful keeps its blobs in the admin's folder, rootless in the quay-storage volume; both keep pg-storage.
    const kept = s.name === 'rootful' ? `test -d ${ROOTFUL_BLOBS} && podman volume exists pg-storage && echo yes` : 'podman volume exists quay-storage && podman volume exists pg-storage && echo yes';
    t.equal((await s.run(kept)).stdout.trim(), 'yes', 'storage kept (blob folder or volume, and the database volume)');
    const dry = await s.run(upBase(s, '--dry-run --json'));
    const again = await up(s);
    t.equal(again.r.exitCode, 0, 'mreg up again exits 0', { output: describe(again.r) });
    assertRanDryRun(t, dry, again.json);
    t.equal(again.json?.password, c.password, 'same credentials');
    t.equal(await caHash(s, c), ca, 'same CA');
    t.equal((await s.run(keysCmd)).stdout, keys, 'same SECRET_KEY and DATABASE_SECRET_KEY (Quay encrypts data with them)');
    t.equal(await secretsHash(s), secrets, 'every podman secret byte-identical after down and up');
    await s.run(`podman logout ${host(s)} >/dev/null 2>&1; true`);
    const l = await s.run(`podman login -u ${c.username} --password-stdin ${host(s)}`, { input: c.password });
    t.equal(l.exitCode, 0, `login with the same credentials, without running cert trust again`, { output: describe(l) });
    await assertSameDigest(t, s, c, 'after down and up');
  });

  t.test(`${s.name}: down --purge --yes leaves nothing behind`, async t => {
    // A container left under one of mreg's names (a crash, or started by hand) while the units are down:
    // down's leftover removal, one podman process for every name, must take it with the missing ones.
    const d0 = await s.run(`mreg down && podman create --name quay-redis ${IMAGES.match(/--redisImage (\S+)/)![1]} true >/dev/null`);
    t.equal(d0.exitCode, 0, 'down, then a leftover container named quay-redis', { output: describe(d0) });
    // The admin keeps a file of their own in the blob folder: --purge deletes only what Quay wrote (issue 12).
    if (s.name === 'rootful') await s.run(`echo mine > ${ROOTFUL_BLOBS}/admin-notes.txt`);
    const d = await s.run('mreg down --purge --yes');
    t.equal(d.exitCode, 0, 'exits 0', { output: describe(d) });
    if (s.name === 'rootful') t.match(d.stderr, `kept ${ROOTFUL_BLOBS}: it holds 1 entry mreg did not write (admin-notes.txt)`, 'says what it left');
    const left = await s.run(`podman ps -a --format '{{.Names}}'; podman pod ls --format '{{.Name}}'; podman secret ls --format '{{.Name}}' | grep mreg- ; podman volume ls --format '{{.Name}}' | grep -E 'quay-storage|pg-storage'; ls ${s.quadletDir} 2>/dev/null | grep -E 'quay|storage'; ${s.systemctl} list-units --all --no-legend 'quay-*' | grep -v not-found; true`);
    t.equal(left.stdout.trim(), '', `nothing left`, { output: describe(left) });
    const qr = await s.run(`ls -d ${quayRoot(s)} 2>&1`);
    t.match(qr.stdout, /No such file/, 'quayRoot deleted');
    t.equal((await s.run(`test -e ${s.certsDir}/${host(s)}/ca.crt && echo left; true`)).stdout.trim(), '', 'the trusted CA file is removed with --purge');
    if (s.name === 'rootful') {
      const blobs = await s.run(`stat -c '%a %U' ${ROOTFUL_BLOBS} && ls -A ${ROOTFUL_BLOBS} && cat ${ROOTFUL_BLOBS}/admin-notes.txt`);
      t.equal(blobs.stdout.trim(), '711 root\nadmin-notes.txt\nmine', 'the blob folder that existed before is kept with its old mode and owner, holding only the admin\'s file', { output: describe(blobs) });
      await s.run(`rm -r ${ROOTFUL_BLOBS}`);
    }
  });
});
