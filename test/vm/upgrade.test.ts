// mreg upgrade for real, rootful and rootless side by side: v1 → v2 restarts quay-app alone (postgres/redis keep their PIDs) with
// the downtime measured from inside the guest; v3 migrates the database and never gets healthy, and is
// rolled back with the database put back (the case of any broken new image); --dry-run and a
// no-op upgrade change nothing. Starts from the shared base install (base.ts: v1, tiny:one pushed).
// Three checks run in one scope each (ONE_SCOPE below), the other scope doing another at the same time:
// on two emulated cores, a restart-heavy test in both scopes costs nearly twice one.
import t from 'tap';
import { requireVm, describe, sideBySide, waitFor, FQDN, asRoot as root, type GuestResult } from './guest.js';
import { useBase, BASE_SCOPES as scopes, type BaseInstall } from './base.js';
import { UPGRADE_STEP } from '../../src/plan/upgrade-steps.js';
import { UNITS } from '../../src/model/views.js';
import { DUMP_BOUND_SQL } from '../../src/apply/db-snapshot.js';

requireVm();
t.setTimeout(60 * 60_000);

const IMG = 'localhost/mreg-test';

// Parallel uploads in the burst: with the ~25 connections Quay's workers keep, more than the 97 a
// max_connections=100 server gives ordinary users.
const BURST = 80;
interface UpResult { username: string; password: string }
interface UpgradeResult { changed: string[]; restarted: string[]; rolledBack: boolean; durationMs: number; downtimeMs?: number; steps?: string[] }

const json = <T>(r: GuestResult): T | undefined => { try { return JSON.parse(r.stdout) as T; } catch { return undefined; } };
let base = new Map<string, BaseInstall>();
t.before(async () => { base = await useBase(); });

// Before the side-by-side block, with nothing else running: 80 uploads at once with the other scope's
// tests beside them starved the stand-in's connects on two emulated cores (10 s wait each: 500s in both
// scopes in turn), which says nothing about max_connections. One scope: the limit is PostgreSQL's
// setting in quay-postgres.container, the same file in both.
t.test(`a burst of ${BURST} parallel blob uploads all succeed (rootful)`, async t => {
  for (const s of scopes.filter(x => x.name === 'rootful')) await t.test(s.name, async t => {
    const c = base.get(s.name)?.json;
    if (!c) return t.fail('no base install');
    const HOST = `${FQDN}:${s.port}`;
    const CA = `${s.quayRoot}/quay-rootCA/rootCA.pem`;
    // One curl runs all uploads at once (--parallel-immediate; spawning one curl each staggers them by
    // seconds under TCG), each PUT slowed to ~16 s, so every upload is in flight together. Quay (and the
    // stand-in) holds one database connection per request, on top of the ones its workers keep.
    // As podman and skopeo do, the PUT says octet-stream: curl's default form type makes distribution
    // parse the body as a form (Go's FormValue) and answer DIGEST_INVALID for every upload.
    // `read` returns 1 at end of input without a newline (the password has none) but still sets pw.
    const r = await s.run(`set -e; d=$(mktemp -d); IFS= read -r pw || [ -n "$pw" ]
      printf 'machine ${FQDN} login ${c.username} password %s\\n' "$pw" > "$d/netrc"; chmod 600 "$d/netrc"
      opts='netrc-file = "'$d'/netrc"\ncacert = "${CA}"\nsilent\noutput = "/dev/null"'
      for i in $(seq ${BURST}); do head -c 262144 /dev/urandom > "$d/b$i"; done
      for i in $(seq ${BURST}); do [ $i = 1 ] || echo next
        printf '%b\\nurl = "%s"\\nrequest = "POST"\\ndump-header = "%s"\\n' "$opts" "https://${HOST}/v2/${c.username}/burst/blobs/uploads/" "$d/h$i"
      done > "$d/post.cfg"
      curl --no-progress-meter --parallel --parallel-immediate --parallel-max 200 -K "$d/post.cfg" || true
      for i in $(seq ${BURST}); do [ $i = 1 ] || echo next
        loc=$(tr -d '\\r' < "$d/h$i" | sed -n 's/^[Ll]ocation: //p'); sum=$(sha256sum "$d/b$i" | cut -c1-64)
        printf '%b\\nurl = "%s"\\nrequest = "PUT"\\nheader = "Content-Type: application/octet-stream"\\ndata-binary = "@%s"\\nlimit-rate = 16k\\nwrite-out = "%%{http_code}\\\\n"\\n' \\
          "$opts" "https://${HOST}$loc&digest=sha256:$sum" "$d/b$i"
      done > "$d/put.cfg"
      curl --no-progress-meter --parallel --parallel-immediate --parallel-max 200 -K "$d/put.cfg" | sort | uniq -c; rm -rf "$d"`,
      { input: c.password, timeoutMs: 20 * 60_000 });
    t.equal(r.stdout.trim(), `${BURST} 201`, `all ${BURST} uploads answered 201 Created`, { output: describe(r) });
    if (r.stdout.trim() !== `${BURST} 201`) {
      t.comment((await s.run(`podman logs --since 10m quay-app 2>&1 | grep -E 'Error|timeout| 500 ' | tail -8`)).stdout);
    }
    const log = await s.run(`podman logs quay-app 2>&1 | grep -c 'too many clients' || true`);
    t.equal(log.stdout.trim(), '0', 'no "too many clients" from PostgreSQL', { output: describe(log) });
  });
});

// Where each check that does not depend on the scope runs. The cert crash loop and the archive import are
// rootless (its files belong to sub-uids; the archive is root's, read by the user); the crash loop seen by
// `mreg upgrade` itself is rootful (adopt.test.ts sees one in rootless). mreg's code for each is the same
// in both scopes; what differs (systemd manager, file owners) is exercised in both by the other tests.
const ONE_SCOPE = { certLoop: 'rootless', imageArchive: 'rootless', downgradeLoop: 'rootful' } as const;

// mirror-registry's image-archive.tar: each image's root filesystem as a plain tar. The stand-ins share one
// rootfs (test/vm/vm.sh), the real images do not, so each tar leaves out what its image never runs (Node,
// ICU and the Go registry in redis.tar; PostgreSQL's server and Redis in quay.tar): 482 MB of tars became
// about 300, and the import (two `podman import`s and mreg's sha256 of each member, twice) is most of this
// test's time under emulation. `tar` of the mounted image, as mirror-registry's Dockerfile tars a copied
// root (`tar -cf x.tar -C /x .`), is 1 s where `podman export` took 12 s.
// Root builds it in a folder the user can read (as an admin would hand it over).
const LEAVE_OUT: Record<'quay' | 'redis', string[]> = {
  quay: ['./usr/lib/postgresql', './usr/bin/redis-*'],
  redis: ['./usr/lib/x86_64-linux-gnu/libnode.so*', './usr/lib/x86_64-linux-gnu/libicu*', './usr/bin/docker-registry', './usr/lib/postgresql', './usr/share/nodejs'],
};
const rootfsTar = (name: keyof typeof LEAVE_OUT, image: string) => `r=$(podman image mount ${image})
  tar -C "$r" -cf ${name}.tar ${LEAVE_OUT[name].map(e => `--exclude='${e}'`).join(' ')} .; podman image unmount ${image} >/dev/null`;
const buildArchive = () => root(`set -e; d=$(mktemp -d /var/tmp/mreg-ia.XXXXXX); chmod 0755 "$d"; cd "$d"
  ${rootfsTar('quay', `${IMG}/quay:v1`)}; ${rootfsTar('redis', `${IMG}/redis:7`)}
  tar -cf pause.tar --files-from /dev/null
  tar -cf image-archive.tar quay.tar redis.tar pause.tar; rm quay.tar redis.tar pause.tar; chmod 0644 image-archive.tar; echo "$d"`, { timeoutMs: 10 * 60_000 });

sideBySide(t, 'upgrade, roll back, crash loops (both scopes at once)', scopes, (t, s) => {
  const HOST = `${FQDN}:${s.port}`;
  const CA = `${s.quayRoot}/quay-rootCA/rootCA.pem`;
  const PROBE_LOG = `/tmp/mreg-upgrade-probe-${s.name}.log`;
  const PROBE_STOP = `/tmp/mreg-upgrade-probe-${s.name}.stop`;
  let creds: UpResult | undefined;
  let archive: Promise<GuestResult> | undefined;

  const mainPid = async (unit: string) => (await s.run(`${s.systemctl} show -p MainPID --value ${unit}`)).stdout.trim();
  const standinVersion = async () =>
    (await s.run(`curl -s --cacert ${CA} https://${HOST}/api/v1/discovery | jq -r .version`)).stdout.trim();
  const healthCode = async () =>
    (await s.run(`curl -s -o /dev/null -w '%{http_code}' --cacert ${CA} https://${HOST}/health/instance`)).stdout.trim();
  const recordedQuay = async () => (await s.run(`jq -r .spec.images.quay ${s.quayRoot}/mreg-install.json`)).stdout.trim();

  const pullTiny = (): Promise<GuestResult> => {
    const ref = `${HOST}/${creds!.username}/tiny:one`;
    return s.run(`set -e; podman rmi -i ${ref} >/dev/null 2>&1 || true; podman pull -q ${ref} >/dev/null && podman rmi ${ref} >/dev/null`);
  };

  /** Background loop in the guest: "ms-since-epoch http-code" per probe, one every 100 ms (5 s cap each: TCG is slow). */
  const startProbe = async (): Promise<void> => {
    await s.run(`rm -f ${PROBE_LOG} ${PROBE_STOP}; setsid nohup bash -c 'while [ ! -e ${PROBE_STOP} ]; do
      echo "$(date +%s%3N) $(curl -s -o /dev/null -w %{http_code} --max-time 5 --cacert ${CA} https://${HOST}/health/instance)"
      sleep 0.1; done' >${PROBE_LOG} 2>/dev/null </dev/null &`);
    await s.run('sleep 3'); // a few healthy samples before the upgrade starts
  };

  /** Stops the loop; downtime = longest run of non-200 probes between two 200s (first failure → next 200). */
  const stopProbe = async () => {
    await s.run(`sleep 3; touch ${PROBE_STOP}; sleep 2`);
    const lines = (await s.run(`cat ${PROBE_LOG}`)).stdout.trim().split('\n').map(l => l.split(' ')).filter(p => p.length === 2);
    let worst = 0;
    let downSince: number | undefined;
    const codes: Record<string, number> = {};
    for (const [ts, code] of lines) {
      codes[code!] = (codes[code!] ?? 0) + 1;
      const at = Number(ts);
      if (code !== '200') { downSince ??= at; continue; }
      if (downSince !== undefined) worst = Math.max(worst, at - downSince);
      downSince = undefined;
    }
    return { downtimeMs: worst, samples: lines.length, codes: JSON.stringify(codes) };
  };

  t.test(`${s.name}: the base install runs v1`, async t => {
    // Root exports the archive while this scope's first checks run (mostly waiting on restarts).
    if (s.name === ONE_SCOPE.imageArchive) archive = buildArchive();
    creds = base.get(s.name)?.json;
    if (!creds) return t.fail('no base install');
    t.equal(await standinVersion(), 'v1', 'stand-in reports v1');
  });

  t.test(`${s.name}: the install works the way real Quay and sclorg PostgreSQL do`, async t => {
    if (!creds) return t.fail('no install');
    const services = await s.run(`curl -s --cacert ${CA} https://${HOST}/health/instance | jq -c '.data.services | keys'`);
    t.equal(services.stdout.trim(), '["auth","database","disk_space","registry_gunicorn","service_key","web_gunicorn"]',
      '/health/instance checks what Quay\'s does (no Redis)', { output: describe(services) });
    const plain = await s.run('podman exec quay-app curl -s -o /dev/null --max-time 5 http://127.0.0.1:8080/; echo "rc=$?"');
    t.match(plain.stdout, /^rc=7$/m, 'with TLS configured nothing listens on plain 8080', { output: describe(plain) });
    const max = await s.run(`podman exec quay-postgres psql -d quay -tAc 'SHOW max_connections'`);
    t.equal(max.stdout.trim(), '2000', 'quay-postgres runs with max_connections 2000 (the image default is 100)', { output: describe(max) });
    // upgrade's room check for its dump asks PostgreSQL this: a query it refused would leave the check out.
    const sizes = await s.run(`podman exec -i quay-postgres psql -d quay -tA; podman exec quay-postgres psql -d quay -tAc "SELECT pg_database_size('quay')"`, { input: `${DUMP_BOUND_SQL};\n` });
    const [tables, database] = sizes.stdout.trim().split('\n').map(Number);
    t.ok(tables! > 0 && tables! < database!, 'the dump\'s bound (the tables\' rows, no index, no catalog) is answered, below pg_database_size', { output: describe(sizes) });
    // oc mirror pushes into namespaces that do not exist yet (openshift/release…): CREATE_NAMESPACE_ON_PUSH
    const ns = await s.run(`set -e; podman tag ${IMG}/tiny:1 ${HOST}/openshift/tiny:ns; podman push -q ${HOST}/openshift/tiny:ns
      podman rmi ${HOST}/openshift/tiny:ns >/dev/null; podman pull -q ${HOST}/openshift/tiny:ns >/dev/null; podman rmi ${HOST}/openshift/tiny:ns >/dev/null`);
    t.equal(ns.exitCode, 0, 'push to a new namespace creates it (the init user has an e-mail address)', { output: describe(ns) });
  });

  if (s.name === ONE_SCOPE.certLoop) t.test(`${s.name}: a certificate that does not name the host: quay-app exits at start, systemd restarts it`, async t => {
    if (!creds) return t.fail('no install');
    const conf = `${s.quayRoot}/quay-config`;
    const asOwner = s.name === 'rootless' ? 'podman unshare ' : '';
    const before = Number((await s.run(`${s.systemctl} show -p NRestarts --value quay-app`)).stdout.trim());
    const bad = await s.run(`set -e; d=$(mktemp -d); cd "$d"
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem -days 2 \
        -subj /CN=${FQDN} -addext subjectAltName=DNS:other.example.test 2>/dev/null
      ${asOwner}sh -c 'cp ${conf}/ssl.cert ${conf}/ssl.cert.keep; cp ${conf}/ssl.key ${conf}/ssl.key.keep
        cat '"$d"'/c.pem > ${conf}/ssl.cert; cat '"$d"'/k.pem > ${conf}/ssl.key'
      rm -rf "$d"; ${s.systemctl} restart quay-app || true  # the container may already have exited`, { timeoutMs: 10 * 60_000 });
    t.equal(bad.exitCode, 0, 'a pair for other.example.test (CN names the host: SAN only counts) in place', { output: describe(bad) });
    const looping = await waitFor(async () =>
      Number((await s.run(`${s.systemctl} show -p NRestarts --value quay-app`)).stdout.trim()) >= before + 2, 10 * 60_000, 3000);
    t.ok(looping, 'quay-app exits and systemd restarts it, again and again');
    const j = await s.run(`mreg logs quay-app -n 200`);
    t.match(j.stdout + j.stderr, /x509: certificate is valid for other\.example\.test, not mreg-vm\.example\.test/,
      'the journal has Quay\'s validation error', { output: describe(j) });
    const st = await s.run('mreg status --json', { timeoutMs: 300_000 });
    t.equal(st.exitCode, 3, 'mreg status exits 3', { output: describe(st) });
    // The units list always holds quay-app: the problems must name it (not active) or the registry it serves.
    const problems = json<{ healthy: boolean; problems: string[] }>(st)?.problems;
    t.ok(problems?.some(p => /^quay-app\.service is (?!active\b)/.test(p) || p.startsWith(`registry not reachable on port ${s.port}:`) || p.startsWith('/health/instance answered HTTP')),
      'mreg status names quay-app or the unreachable registry among its problems', { problems, output: describe(st) });
    t.notOk(problems?.some(p => /^quay-(pod|postgres|redis)\.service /.test(p)), 'and no other unit', { problems });
    // written in place, so owner and mode stay what mreg set
    const fix = await s.run(`${asOwner}sh -c 'cat ${conf}/ssl.cert.keep > ${conf}/ssl.cert; cat ${conf}/ssl.key.keep > ${conf}/ssl.key; rm ${conf}/ssl.cert.keep ${conf}/ssl.key.keep'
      ${s.systemctl} reset-failed quay-app 2>/dev/null; ${s.systemctl} restart quay-app`, { timeoutMs: 10 * 60_000 });
    t.equal(fix.exitCode, 0, 'the right pair back', { output: describe(fix) });
    t.ok(await waitFor(async () => (await healthCode()) === '200', 10 * 60_000, 3000), 'healthy again');
  });

  t.test(`${s.name}: upgrade with nothing to change, and --dry-run, change nothing`, async t => {
    const pid = await mainPid('quay-app');
    const same = await s.run('mreg upgrade');
    t.equal(same.exitCode, 0, 'no-op upgrade exits 0', { output: describe(same) });
    t.match(same.stderr + same.stdout, /nothing to change/);
    const dry = await s.run(`mreg upgrade --quayImage ${IMG}/quay:v2 --dry-run`);
    t.equal(dry.exitCode, 0, 'dry run exits 0', { output: describe(dry) });
    t.match(dry.stdout, /^-Image=localhost\/mreg-test\/quay:v1$/m);
    t.match(dry.stdout, /^\+Image=localhost\/mreg-test\/quay:v2$/m);
    t.match(dry.stdout, /would restart: quay-app\.service$/m);
    t.equal(await mainPid('quay-app'), pid, 'quay-app not restarted');
    t.equal(await recordedQuay(), `${IMG}/quay:v1`, 'record unchanged');
  });

  if (s.name === ONE_SCOPE.imageArchive) t.test(`${s.name}: mirror-registry's image-archive.tar (2.x layout: root filesystem tars) is imported and runs`, async t => {
    if (!creds) return t.fail('no install');
    // Built the way mirror-registry's Dockerfile builds it: each image's root filesystem as a plain tar
    // (`COPY --from=x / /x; tar -cf x.tar -C /x .`, here a tar of the mounted image), then a tar of those tars.
    const build = await (archive ?? buildArchive());
    t.equal(build.exitCode, 0, 'archive built', { output: describe(build) });
    const dir = build.stdout.trim().split('\n').pop()!;
    const pg = await mainPid('quay-postgres');
    const since = (await s.run('date +%s')).stdout.trim();
    const t0 = Date.now();
    const r = await s.run(`mreg upgrade -i ${dir}/image-archive.tar --json`, { timeoutMs: 20 * 60_000 });
    t.comment(`upgrade -i image-archive.tar (${(await s.run(`du -m ${dir}/image-archive.tar | cut -f1`)).stdout.trim()} MB): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    t.equal(r.exitCode, 0, 'exits 0', { output: describe(r) });
    const res = json<UpgradeResult>(r);
    t.same([...(res?.restarted ?? [])].sort(), ['quay-app.service', 'quay-redis.service'], 'quay-app and quay-redis restarted on the imported images', { output: describe(r) });
    // quay-app Requires= quay-redis: the redis restart restarts it; a restart asked for beside it re-ran its job mid-start.
    const starts = await s.run(`${s.journalctl} -u quay-app.service --since @${since} -o cat --no-pager | grep -c '^Started quay-app' || true`);
    t.equal(starts.stdout.trim(), '1', 'the new Quay started once (a start killed mid-migration can leave the schema half done)', { output: describe(starts) });
    const quay = await recordedQuay();
    t.match(quay, /^localhost\/mirror-registry\/quay:[0-9a-f]{12}$/, 'recorded under a name that says where it came from and what it holds');
    t.equal((await s.run(`podman inspect quay-app --format '{{.ImageName}}'`)).stdout.trim(), quay, 'quay-app runs the imported image');
    const cfg = await s.run(`podman image inspect ${quay} --format '{{json .Config.Entrypoint}} {{.Config.User}}'`);
    t.equal(cfg.stdout.trim(), '["dumb-init","--","/quay-registry/quay-entrypoint.sh"] 1001', 'the config mirror-registry gives quay.tar', { output: describe(cfg) });
    t.equal(await mainPid('quay-postgres'), pg, 'postgres kept running (a 2.x archive has no postgres.tar)');
    t.equal(await healthCode(), '200', 'registry healthy');
    const q = await pullTiny();
    t.equal(q.exitCode, 0, 'image pushed before still pulls', { output: describe(q) });
    const t1 = Date.now();
    const again = await s.run(`mreg upgrade -i ${dir}/image-archive.tar`, { timeoutMs: 20 * 60_000 });
    t.comment(`the same archive again: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    await root(`rm -rf ${dir}`);
    t.equal(again.exitCode, 0, 'the same archive again exits 0', { output: describe(again) });
    t.match(again.stderr + again.stdout, /quay\.tar: localhost\/mirror-registry\/quay:[0-9a-f]{12} \(already imported\)/, 'nothing imported twice');
    t.match(again.stderr + again.stdout, /nothing to change/, 'and nothing restarted');
  });

  t.test(`${s.name}: v1 → v2 restarts quay-app alone`, async t => {
    const pg = await mainPid('quay-postgres');
    const redis = await mainPid('quay-redis');
    const app = await mainPid('quay-app');
    // Issue 14: the run takes exactly the steps its dry run lists, by id and in order.
    const dry = await s.run(`mreg upgrade --quayImage ${IMG}/quay:v2 --dry-run --json`);
    const planned = json<{ plan: { id: string }[] }>(dry)?.plan.map(p => p.id);
    t.ok(planned?.includes(UPGRADE_STEP.restart(UNITS.app)), 'the dry run plans quay-app\'s restart', { output: describe(dry) });
    await startProbe();
    const r = await s.run(`mreg upgrade --quayImage ${IMG}/quay:v2 --json`, { timeoutMs: 20 * 60_000 });
    const probe = await stopProbe();
    t.equal(r.exitCode, 0, 'exits 0', { output: describe(r) });
    const res = json<UpgradeResult>(r);
    t.same(res?.restarted, ['quay-app.service'], 'only quay-app restarted');
    t.same(res?.steps, planned, 'the steps it took are the dry run\'s plan');
    t.equal(res?.rolledBack, false);
    t.ok(res?.changed.some(f => f.endsWith('/quay-app.container')), 'quay-app.container changed');
    t.equal(await mainPid('quay-postgres'), pg, 'postgres kept its PID');
    t.equal(await mainPid('quay-redis'), redis, 'redis kept its PID');
    t.not(await mainPid('quay-app'), app, 'quay-app has a new PID');
    t.equal(await standinVersion(), 'v2', 'stand-in reports v2');
    t.equal(await recordedQuay(), `${IMG}/quay:v2`, 'record names v2');
    const q = await pullTiny();
    t.equal(q.exitCode, 0, 'image pushed on v1 pulls on v2', { output: describe(q) });
    t.ok(probe.samples > 10, `probe ran (${probe.samples} samples)`);
    t.comment(`${s.name} v1→v2: downtime seen by the in-guest probe: ${probe.downtimeMs} ms (codes ${probe.codes}); mreg measured ${res?.downtimeMs} ms restart-to-healthy; whole upgrade ${res?.durationMs} ms`);
  });

  t.test(`${s.name}: v3 migrates the database and never gets healthy: rolled back with the database restored`, async t => {
    if (!creds) return t.fail('no install');
    // Pushed on v2, so the restored database must still know it.
    const ref = `${HOST}/${creds.username}/tiny:two`;
    const push = await s.run(`set -e; f=$(mktemp); podman tag ${IMG}/tiny:1 ${ref}; podman push -q --digestfile "$f" ${ref}; podman rmi ${ref} >/dev/null; cat "$f"; rm -f "$f"`);
    t.match(push.stdout.trim(), /^sha256:[0-9a-f]{64}$/, 'tiny:two pushed on v2', { output: describe(push) });
    const pg = await mainPid('quay-postgres');
    const t0 = Date.now();
    // v3 serves 503 for good: 30 s is enough to call it unhealthy (the rollback still gets its 5 minutes).
    const r = await s.run(`mreg upgrade --quayImage ${IMG}/quay:v3 --timeout 30 --json`, { timeoutMs: 20 * 60_000 });
    t.comment(`${s.name}: v2 → v3 → rollback with the database took ${Date.now() - t0} ms; stderr tail:\n${r.stderr.trim().split('\n').slice(-10).join('\n')}`);
    t.not(r.exitCode, 0, 'exits non-zero', { output: describe(r) });
    const res = json<UpgradeResult & { rollbackHealthy?: boolean; dbSnapshot?: string }>(r);
    t.equal(res?.rollbackHealthy, true, 'the rollback is healthy (without the dump, v2 cannot start on schema 3)', { output: describe(r) });
    t.equal(res?.dbSnapshot, `${s.quayRoot}/db-snapshot/quay.dump`, 'names the dump');
    t.match(r.stderr, /quay-app\.service/, 'names the failing unit');
    t.match(r.stderr, /rolled back to the previous version and its database/, 'says it rolled back, database included');
    t.match(r.stderr, /last journal lines of quay-app\.service/, 'shows the journal', { output: describe(r) });
    // Not a tail: mreg's health probes, 10 a second while it waited, follow the migration in the journal.
    const j = await s.run(`${s.journalctl} -u quay-app --no-pager -o cat --since '-15min' | grep -c 'Running upgrade standin0002 -> standin0003' || true`);
    t.ok(Number(j.stdout.trim()) >= 1, 'v3 did migrate the database', { output: describe(j) });
    t.equal(await standinVersion(), 'v2', 'quay-app runs v2 again');
    t.equal(await healthCode(), '200', 'registry healthy');
    t.equal(await recordedQuay(), `${IMG}/quay:v2`, 'record still names v2');
    t.equal(await mainPid('quay-postgres'), pg, 'postgres kept running (the database is put back through it, not by a restart)');
    t.match((await s.run(`cat ${s.quadletDir}/quay-app.container`)).stdout, /Image=localhost\/mreg-test\/quay:v2/, 'v2 unit file back');
    const mode = await s.run(`stat -c %a ${s.quayRoot}/db-snapshot/quay.dump`);
    t.equal(mode.stdout.trim(), '600', 'the dump is 0600', { output: describe(mode) });
    for (const [tag, digest] of [['one', base.get(s.name)?.digest], ['two', push.stdout.trim()]] as const) {
      const p = await s.run(`set -e; r=${HOST}/${creds.username}/tiny:${tag}; podman rmi -i $r >/dev/null 2>&1 || true
        podman pull -q $r >/dev/null; podman image inspect --format '{{.Digest}}' $r; podman rmi $r >/dev/null`);
      t.equal(p.stdout.trim(), digest, `tiny:${tag} pulls with the digest it was pushed with`, { output: describe(p) });
    }
  });

  if (s.name === ONE_SCOPE.downgradeLoop) t.test(`${s.name}: v1 finds the v2 schema, exits at start (no downgrade), and is rolled back`, async t => {
    // The default --timeout (600 s): mreg must see the crash loop and roll back without waiting it out.
    const t0 = Date.now();
    const r = await s.run(`mreg upgrade --quayImage ${IMG}/quay:v1`, { timeoutMs: 20 * 60_000 });
    t.comment(`${s.name}: v2 → v1 crash loop seen and rolled back in ${Date.now() - t0} ms`);
    t.not(r.exitCode, 0, 'exits non-zero', { output: describe(r) });
    t.match(r.stderr, /quay-app\.service: it exited 3 times since it was started(, last exit status 1)?; it will not get healthy/,
      'stops waiting at the third exit, not at the timeout', { output: describe(r) });
    t.notMatch(r.stderr, /did not answer 200 within/, 'the health wait did not run out');
    t.match(r.stderr, /rolled back/, 'says it rolled back', { output: describe(r) });
    const j = await s.run(`mreg logs quay-app -n 400`);
    t.match(j.stdout + j.stderr, /Can't locate revision identified by 'standin0002'/, 'v1 refused the newer schema', { output: describe(j) });
    t.equal(await standinVersion(), 'v2', 'quay-app runs v2 again');
    t.equal(await healthCode(), '200', 'registry healthy');
    const q = await pullTiny();
    t.equal(q.exitCode, 0, 'image still pulls', { output: describe(q) });
  });
});

// The next file restores its own snapshot; only the probe loop must not outlive this one.
t.teardown(async () => {
  for (const s of scopes) await s.run(`touch /tmp/mreg-upgrade-probe-${s.name}.stop`);
});
