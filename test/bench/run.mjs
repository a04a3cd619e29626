#!/usr/bin/env node
// npm run bench: mreg against hand-made equivalents, side by side in one run of one VM, printed as ratios.
// Never part of npm test / CI, and never a timed assertion: a MISS is reported, not failed.
// Env: PORT (default 2290, not the test suite's 2222), RUN, MEM, SMP (passed to vm.sh), BENCH_N (rounds for up
// and upgrade, default 3), BENCH_REPS (repeats for status and start-up, default 10), BENCH_ONLY (comma list of
// up,status,upgrade,cli,backup,migrate,health; default all but health; migrate leaves the install on S3, so it goes last), BENCH_BACKUP_MIB (blob data for backup, default 1024), BENCH_MIGRATE_MIB (for migrate, default 512), BENCH_REUSE_VM=1 (use a running VM and leave it up),
// BENCH_SKIP_INSTALL=1 (with a reused VM: keep its mreg install instead of purging and reinstalling; it is left installed).
import { readFileSync, writeFileSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { stageProject } from '../vm/stage.mjs';
import { ROOT, VM, GUEST_DIR, sh, guest, gsh, guestMedian, guestTime, hostMedian, median, secs, msf, verdict } from './lib.mjs';

process.env.PORT ??= '2290';
process.env.RUN ??= `/tmp/mreg-vm-run-${process.env.PORT}`;
// A user's host randomises address spaces; the test VM does not (vm.sh ASLR), which favours short processes.
process.env.ASLR ??= 'on';
const N = Number(process.env.BENCH_N ?? 3);
const REPS = Number(process.env.BENCH_REPS ?? 10);
const ONLY = (process.env.BENCH_ONLY ?? 'up,status,down,upgrade,cli,backup,migrate').split(',');
const REUSE = process.env.BENCH_REUSE_VM === '1';

const IMG = 'localhost/mreg-test';
const FLOOR_UNITS = '/var/lib/mreg-bench/units'; // mreg's Quadlet files from the warm-up install, for floor-up.sh
const UP = `mreg up --quayHostname mreg-vm.example.test:8443 --quayImage ${IMG}/quay:v1 --pgImage ${IMG}/postgres:15 --redisImage ${IMG}/redis:7 --json`;
const lines = [];
const details = [];
const say = l => { console.log(l); lines.push(l); };
const note = l => { console.log(`  ${l}`); details.push(l); };
const log = m => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const load = () => loadavg().map(x => x.toFixed(2)).join(' ');

/** vm.sh push, retried: its ssh gives up after 5 s, which a busy TCG guest can miss. */
async function push(from, to) {
  let r;
  for (let i = 0; i < 4; i++) {
    r = await sh('bash', [VM, 'push', from, to]);
    if (r.code === 0) return;
    await new Promise(res => setTimeout(res, 5000));
  }
  throw new Error(`vm.sh push ${from} ${to} failed: ${r.err}`);
}

async function prepare() {
  if (!REUSE) {
    const s = await sh('bash', [VM, 'start'], { echo: true });
    if (s.code !== 0) throw new Error('the bench VM did not start');
  }
  const stage = stageProject(mkdtempSync(join(tmpdir(), 'mreg-bench-stage-')));
  await push(stage, '/opt/mreg');
  rmSync(stage, { recursive: true, force: true });
  await push(join(ROOT, 'test/bench'), GUEST_DIR);
  // What users run: the release executable (npm run bundle), not `node dist/main.js` from the stage.
  const rel = mkdtempSync(join(tmpdir(), 'mreg-bench-rel-'));
  copyFileSync(join(ROOT, 'dist/release/mreg'), join(rel, 'mreg'));
  await push(rel, '/opt/mreg-release');
  rmSync(rel, { recursive: true, force: true });
  await guest('install -m 755 /opt/mreg-release/mreg /usr/local/bin/mreg');
  if (process.env.BENCH_SKIP_INSTALL === '1') return; // keep the install a previous (reused-VM) run left
  // a clean start: nothing from an earlier run, then one untimed install (initdb, TLS, first user)
  await guest(`mreg down --purge --yes >/dev/null 2>&1; podman pod rm -f quay-pod >/dev/null 2>&1; true`);
  log('warm-up install (untimed)');
  await guest(UP);
}

/** The passwords mreg generated, for the baseline script's environment (sent on stdin, never in argv). */
async function secrets() {
  const one = async n => (await guest(`podman secret inspect --showsecret --format '{{.SecretData}}' ${n}`)).out.trim();
  return { PG_PASSWORD: await one('mreg-pg-password'), PG_ADMIN_PASSWORD: await one('mreg-pg-admin-password'), REDIS_PASSWORD: await one('mreg-redis-password') };
}

async function benchUp() {
  const env = await secrets();
  const input = `${env.PG_PASSWORD}\n${env.PG_ADMIN_PASSWORD}\n${env.REDIS_PASSWORD}\n`;
  const script = `read -r PG_PASSWORD; read -r PG_ADMIN_PASSWORD; read -r REDIS_PASSWORD; export PG_PASSWORD PG_ADMIN_PASSWORD REDIS_PASSWORD
    bash ${GUEST_DIR}/guest.sh up-timed 'bash ${GUEST_DIR}/baseline-up.sh'`;
  const m = [];
  const s = [];
  const f = [];
  const lag = [];
  const steps = {};
  // The floor (issue 19): mreg's own Quadlet files, saved from the warm-up install, started by hand.
  await guest(`set -e; mkdir -p ${FLOOR_UNITS}; rm -f ${FLOOR_UNITS}/*
    jq -r '.files[]' /etc/quay-install/mreg-install.json | grep '^/etc/containers/systemd/' | xargs -r cp -t ${FLOOR_UNITS}`);
  for (let i = 0; i < N; i++) {
    // all three start from the same state: no units, no containers, data and config kept, images present
    await guest('mreg down >/dev/null');
    // All three run beside the same 100 ms /health/instance probe (guest.sh up-timed): under TCG its curl
    // processes take CPU from the start chain, so a floor timed without it was the faster by that much.
    f.push(await guestTime(`bash ${GUEST_DIR}/floor-up.sh ${FLOOR_UNITS}`, 'up-timed'));
    await guest(`systemctl stop quay-app quay-postgres quay-redis quay-pod; for u in ${FLOOR_UNITS}/*; do rm -f /etc/containers/systemd/$(basename "$u"); done; systemctl daemon-reload`);
    const r = await guest(script, { input });
    const sm = /ms (\d+) rc (\d+)/.exec(r.out);
    if (!sm || sm[2] !== '0') throw new Error(`baseline-up.sh failed: ${r.out}\n${(await guest('tail -20 /tmp/bench-last.err', { allowFail: true })).out}`);
    s.push(Number(sm[1]));
    await guest('podman pod rm -f -t 10 quay-pod >/dev/null');
    // Without --json, so its progress lines ("    ok STEP (1.2s)") say where the time went.
    const u = await gsh(`up-timed ${JSON.stringify(UP.replace(/ --json$/, ''))}`);
    const um = /ms (\d+) rc (\d+) first200 (-?\d+)/.exec(u.out);
    if (!um || um[2] !== '0') throw new Error(`mreg up failed: ${u.out}\n${(await guest('tail -20 /tmp/bench-last.err', { allowFail: true })).out}`);
    m.push(Number(um[1]));
    const stepLines = (await guest('grep -E "^    ok " /tmp/bench-last.err', { allowFail: true })).out;
    for (const [, name, sec] of stepLines.matchAll(/^ {4}ok (.+) \(([\d.]+)s\)$/gm)) (steps[name] ??= []).push(Number(sec) * 1000);
    if (um[3] !== '-1') lag.push(Number(um[1]) - Number(um[3])); // -1: the probe never saw a 200
    log(`up round ${i + 1}/${N}: floor ${secs(f.at(-1))}, script ${secs(s.at(-1))}, mreg ${secs(m.at(-1))} (registry answered 200 ${um[3] === '-1' ? 'n/a' : secs(Number(um[1]) - Number(um[3]))} before mreg finished); load ${load()}`);
  }
  const floor = median(m) / median(f);
  say(`up: mreg ${secs(median(m))} vs floor ${secs(median(f))} (mreg's Quadlet files, daemon-reload, systemctl start quay-app, 100 ms health poll) → ratio ${floor.toFixed(2)} (target ≤ 1.10) ${verdict(floor <= 1.1)}`);
  say(`up: mreg ${secs(median(m))} vs podman script ${secs(median(s))} → ratio ${(median(m) / median(s)).toFixed(2)} (reported)`);
  const byStep = Object.entries(steps).map(([k, v]) => [k, median(v)]).sort((a, b) => b[1] - a[1]);
  const inSteps = byStep.reduce((a, [, v]) => a + v, 0);
  note(`up steps (median): ${byStep.filter(([, v]) => v >= 100).map(([k, v]) => `${k} ${secs(v)}`).join(', ')}; outside steps (Node start-up, facts, lock, record, output) ${secs(median(m) - inSteps)}`);
  note(`up runs (ms): mreg ${m.join(',')}; floor ${f.join(',')}; script ${s.join(',')}; mreg finished after the first 200 by ${lag.length ? `${lag.join(',')} (median ${secs(median(lag))})` : 'n/a (the probe saw no 200)'}`);
}

async function benchStatus() {
  // The floor as issue 19 states it: the four units' states and one answer of /health/instance (status is for that answer too).
  const show = 'systemctl show -p ActiveState,SubState,MainPID,NRestarts,Result quay-pod quay-postgres quay-redis quay-app >/dev/null; ' +
    'curl -s -o /dev/null --max-time 10 --cacert /etc/quay-install/quay-rootCA/rootCA.pem https://mreg-vm.example.test:8443/health/instance';
  const mreg = await guestMedian(REPS, 'mreg status --json');
  const sys = await guestMedian(REPS, show);
  const node = await guestMedian(REPS, 'node -e 0');
  const ratio = (mreg.ms - node.ms) / sys.ms;
  const budget = 1.5 * sys.ms + node.ms;
  say(`status: mreg ${msf(mreg.ms)} vs systemctl show + curl /health/instance ${msf(sys.ms)} (+ node -e 0 ${msf(node.ms)}) → ratio ${ratio.toFixed(1)} beyond Node's start-up (target ≤ 1.5, i.e. ≤ ${msf(budget)}) ${verdict(mreg.ms <= budget)}`);
  note(`status runs (ms): mreg ${mreg.runs}; systemctl show + curl ${sys.runs}; node -e 0 ${node.runs}`);
  // up on a healthy install (issue 19): nothing to change, so it should cost about what status costs.
  const noop = await guestMedian(Math.max(3, Math.round(REPS / 2)), 'mreg up');
  say(`up (nothing to change): mreg ${msf(noop.ms)} vs status ${msf(mreg.ms)} → +${msf(noop.ms - mreg.ms)} (target ≤ +500 ms) ${verdict(noop.ms <= mreg.ms + 500)}`);
  note(`up (nothing to change) runs (ms): ${noop.runs}`);
}

/**
 * mreg down (units stopped and their files removed, data kept) against a bare `systemctl stop` of the four
 * units (the issue's target), and against the same job by hand: stop, remove the Quadlet files, daemon-reload
 * (the reload that makes the units go is most of what the bare stop leaves out).
 */
async function benchDown() {
  const m = [];
  const s = [];
  const h = [];
  const files = '/var/lib/mreg-bench/down-files';
  for (let i = 0; i < N; i++) {
    await guest(`${UP} >/dev/null`);
    m.push(await guestTime('mreg down'));
    await guest(`${UP} >/dev/null`);
    s.push(await guestTime('systemctl stop quay-app quay-postgres quay-redis quay-pod'));
    await guest(`${UP} >/dev/null; mkdir -p /var/lib/mreg-bench; jq -r '.files[]' /etc/quay-install/mreg-install.json | grep '^/etc/containers/systemd/' > ${files}`);
    h.push(await guestTime(`systemctl stop quay-app quay-postgres quay-redis quay-pod quay-storage-volume pg-storage-volume; xargs rm -f < ${files}; systemctl daemon-reload`));
    log(`down round ${i + 1}/${N}: mreg down ${secs(m.at(-1))}, systemctl stop ${secs(s.at(-1))}, by hand with reload ${secs(h.at(-1))}; load ${load()}`);
  }
  await guest(`${UP} >/dev/null`);
  const ratio = median(m) / median(s);
  say(`down: mreg ${secs(median(m))} vs systemctl stop of the four units ${secs(median(s))} → ratio ${ratio.toFixed(2)} (target ≤ 1.10) ${verdict(ratio <= 1.1)}; by hand (stop, rm the Quadlet files, daemon-reload) ${secs(median(h))} → ${(median(m) / median(h)).toFixed(2)}`);
  note(`down runs (ms): mreg ${m.join(',')}; systemctl stop ${s.join(',')}; by hand ${h.join(',')}`);
}

/**
 * Until /health/instance answers 200 (5 min at most), so a probe is never stopped mid-outage. Polls once a
 * second: the 50 ms probe measures the outage, and a second fast curl loop would slow the restart it measures.
 */
const WAIT_200 = `timeout 300 bash -c 'until [ "$(curl -s -o /dev/null -w %{http_code} --max-time 5 --cacert /etc/quay-install/quay-rootCA/rootCA.pem https://mreg-vm.example.test:8443/health/instance)" = 200 ]; do sleep 1; done'`;

async function benchUpgrade() {
  const pids = async () => (await guest('systemctl show -p MainPID --value quay-postgres quay-redis')).out.trim().split(/\s+/).join('/');
  // The stand-ins refuse a schema they cannot read, as Quay does: v2 migrates the database and v1 can never
  // run on it again. So: once to v2 (untimed), then rounds between v2 and v2b, the same image under a second
  // tag (a new image reference to mreg, the same schema to the database).
  await guest(`podman tag ${IMG}/quay:v2 ${IMG}/quay:v2b; mreg upgrade --quayImage ${IMG}/quay:v2 >/dev/null`);
  const before = await pids();
  const up = [];
  const rs = [];
  const hs = [];
  for (let i = 0; i < N; i++) {
    const to = i % 2 === 0 ? 'v2b' : 'v2';
    await gsh('probe-start upg 50');
    await guest('sleep 1');
    const ms = await guestTime(`mreg upgrade --quayImage ${IMG}/quay:${to} --json`);
    const u = /downtime (\d+) samples (\d+) codes (\S*)/.exec((await gsh('probe-stop upg')).out);
    await gsh('probe-start rst 50');
    await guest('sleep 1');
    const rms = await guestTime('systemctl restart quay-app');
    await guest(WAIT_200); // the restart job ends when the container runs, before Quay answers
    const r = /downtime (\d+) samples (\d+) codes (\S*)/.exec((await gsh('probe-stop rst')).out);
    // The same image switch by hand (edit Image=, daemon-reload, restart), there and back so the files match
    // mreg's record again: separates what switching images costs from what mreg adds.
    for (const img of [to === 'v2' ? 'v2b' : 'v2', to]) {
      await gsh('probe-start hand 50');
      await guest('sleep 1');
      await guest(`sed -i 's#^Image=${IMG}/quay:.*#Image=${IMG}/quay:${img}#' /etc/containers/systemd/quay-app.container && systemctl daemon-reload && systemctl restart quay-app`);
      await guest(WAIT_200);
      const h = /downtime (\d+)/.exec((await gsh('probe-stop hand')).out);
      hs.push(Number(h?.[1] ?? NaN));
    }
    up.push(Number(u?.[1] ?? NaN));
    rs.push(Number(r?.[1] ?? NaN));
    log(`upgrade round ${i + 1}/${N} (→ ${to}): upgrade ${secs(ms)}, downtime ${secs(up.at(-1))} (${u?.[3]}); restart ${secs(rms)}, downtime ${secs(rs.at(-1))} (${r?.[3]})`);
  }
  const after = await pids();
  const d = median(up) - median(rs);
  say(`upgrade: downtime ${secs(median(up))} vs quay-app restart ${secs(median(rs))} → ${d >= 0 ? '+' : '−'}${(Math.abs(d) / 1000).toFixed(1)}s (target ≤ +1.0s) ${verdict(d <= 1000)}; postgres/redis MainPID ${before} → ${after} ${before === after ? 'unchanged OK' : 'CHANGED MISS'}`);
  note(`upgrade downtimes (ms, probe every 50 ms): upgrade ${up.join(',')}; systemctl restart quay-app ${rs.join(',')}; by hand (edit Image=, daemon-reload, restart) ${hs.join(',')} (median ${secs(median(hs))})`);
  // leave v2 installed whatever N was (v1 cannot run on the migrated database)
  await guest(`mreg upgrade --quayImage ${IMG}/quay:v2 >/dev/null 2>&1; true`);
}

async function benchCli() {
  const gm = await guestMedian(REPS, 'mreg --version');
  const gd = await guestMedian(REPS, 'node /opt/mreg/dist/main.js --version');
  const gn = await guestMedian(REPS, 'node -e 0');
  const hm = await hostMedian(REPS, 'node', [join(ROOT, 'dist/main.js'), '--version']);
  const hn = await hostMedian(REPS, 'node', ['-e', '0']);
  say(`cli (guest): mreg --version ${msf(gm.ms)} vs node -e 0 ${msf(gn.ms)} → ratio ${(gm.ms / gn.ms).toFixed(2)} (release executable; node dist/main.js --version ${msf(gd.ms)})`);
  say(`cli (host): mreg --version ${msf(hm.ms)} vs node -e 0 ${msf(hn.ms)} → ratio ${(hm.ms / hn.ms).toFixed(2)}`);
  note(`cli runs (ms): guest mreg ${gm.runs}; guest dist/main.js ${gd.runs}; guest node ${gn.runs}; host mreg ${hm.runs}; host node ${hn.runs}`);
}

/**
 * Backup throughput against plain tar of the same storage (the floor: one read of every byte), with
 * BENCH_BACKUP_MIB of blobs (Quay's sha256/ab/<hex> layout) in the storage volume; and pulls during a backup.
 */
async function benchBackup() {
  const mib = Number(process.env.BENCH_BACKUP_MIB ?? 1024);
  const mount = (await guest("podman volume inspect --format '{{.Mountpoint}}' quay-storage")).out.trim();
  // Blobs of 64 MiB (random, so nothing compresses), named by their digest.
  await guest(`set -e; for i in $(seq ${Math.ceil(mib / 64)}); do f=$(mktemp -p ${mount}); head -c 64M /dev/urandom > "$f"; h=$(sha256sum < "$f" | cut -c1-64)
    mkdir -p ${mount}/bench/sha256/$(echo $h | cut -c1-2); mv "$f" ${mount}/bench/sha256/$(echo $h | cut -c1-2)/$h; done; chown -R 1001:0 ${mount}/bench; sync`);
  const m = [];
  const tr = [];
  for (let i = 0; i < N; i++) {
    await guest('rm -rf /var/tmp/bench-backup; mkdir -p /var/tmp/bench-backup; sync; echo 3 > /proc/sys/vm/drop_caches');
    tr.push(await guestTime(`tar --create --format=posix --numeric-owner --file=/var/tmp/bench-backup/tar.tar -C ${mount} .`));
    await guest('rm -f /var/tmp/bench-backup/tar.tar; sync; echo 3 > /proc/sys/vm/drop_caches');
    m.push(await guestTime('mreg backup /var/tmp/bench-backup/mreg.tar'));
    log(`backup round ${i + 1}/${N}: tar ${secs(tr.at(-1))}, mreg backup ${secs(m.at(-1))}`);
  }
  const bytes = Number((await guest('stat -c %s /var/tmp/bench-backup/mreg.tar')).out.trim());
  const ratio = median(tr) / median(m);
  say(`backup: mreg ${secs(median(m))} vs tar of the storage ${secs(median(tr))} (${(bytes / 2 ** 20).toFixed(0)} MiB) → throughput ratio ${ratio.toFixed(2)} (target ≥ 0.80) ${verdict(ratio >= 0.8)}`);
  // Pulls while a backup runs: every pull must succeed.
  const text = (await guest('cat /etc/quay-install/credentials')).out;
  const field = k => new RegExp(`^${k}\\s*=\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const creds = { username: field('username'), password: field('password') };
  const host = 'mreg-vm.example.test:8443';
  await guest(`set -e; mkdir -p /etc/containers/certs.d/${host}; cp /etc/quay-install/quay-rootCA/rootCA.pem /etc/containers/certs.d/${host}/ca.crt
    podman login -u ${creds.username} --password-stdin ${host} >/dev/null; podman tag ${IMG}/tiny:1 ${host}/${creds.username}/tiny:bench; podman push -q ${host}/${creds.username}/tiny:bench`, { input: creds.password });
  await guest(`rm -f /var/tmp/bench-backup/*; setsid bash -c 'ok=0; bad=0; while [ ! -e /var/tmp/bench-backup/stop ]; do if podman pull -q ${host}/${creds.username}/tiny:bench >/dev/null 2>&1; then ok=$((ok+1)); else bad=$((bad+1)); fi; done; echo "$ok $bad" > /var/tmp/bench-backup/pulls' </dev/null >/dev/null 2>&1 &`);
  await guestTime('mreg backup /var/tmp/bench-backup/during.tar');
  await guest('touch /var/tmp/bench-backup/stop; for i in $(seq 120); do [ -e /var/tmp/bench-backup/pulls ] && break; sleep 1; done');
  const [ok, bad] = (await guest('cat /var/tmp/bench-backup/pulls')).out.trim().split(' ').map(Number);
  say(`backup: failed pulls during a backup ${bad} of ${ok + bad} (target 0) ${verdict(bad === 0 && ok > 0)}`);
  note(`backup runs (ms): mreg backup ${m.join(',')}; tar ${tr.join(',')}; ${mib} MiB of 64 MiB blobs plus the stand-in's images, page cache dropped before each`);
  await guest(`rm -rf /var/tmp/bench-backup ${mount}/bench; podman rmi ${host}/${creds.username}/tiny:bench >/dev/null 2>&1; true`);
}

/**
 * storage migrate (issue 18): its "copy the blobs" step against a plain S3 client copying the same files
 * (curl's SigV4, one PUT per file, one after another) into a second bucket of the same RGW (test/vm/guest/
 * ceph-up.sh: memstore, so the engine holds both copies in RAM). One round: migrate switches the install.
 */
async function benchMigrate() {
  const mib = Number(process.env.BENCH_MIGRATE_MIB ?? 512);
  const mount = (await guest("podman volume inspect --format '{{.Mountpoint}}' quay-storage")).out.trim();
  await guest(`set -e; for i in $(seq ${Math.ceil(mib / 64)}); do f=$(mktemp -p ${mount}); head -c 64M /dev/urandom > "$f"; h=$(sha256sum < "$f" | cut -c1-64)
    mkdir -p ${mount}/bench/sha256/$(echo $h | cut -c1-2); mv "$f" ${mount}/bench/sha256/$(echo $h | cut -c1-2)/$h; done; chown -R 1001:0 ${mount}/bench; sync`);
  log('starting Ceph RGW (ceph-up.sh)');
  await guest(`MEM_BYTES=${(2 * mib + 512) * 2 ** 20} bash /opt/mreg/test/vm/guest/ceph-up.sh >/tmp/bench-ceph.log 2>&1`);
  const ep = 'http://192.0.2.80:7480';
  // The key pair as mreg reads it, and as curl's config (never on a command line).
  await guest(`set -e; umask 077; printf '[default]\\naws_access_key_id = %s\\naws_secret_access_key = %s\\n' QUAYACCESSKEY0000000 quaysecretkey0000000000000000000000000000 > /root/bench-s3-credentials
    printf 'user = "%s:%s"\\naws-sigv4 = "aws:amz:us-east-1:s3"\\n' QUAYACCESSKEY0000000 quaysecretkey0000000000000000000000000000 > /root/bench-s3.curl
    for b in bench-plain bench-mreg; do curl -sSf -K /root/bench-s3.curl -X PUT ${ep}/$b -o /dev/null; done`);
  const list = (await guest(`cd ${mount} && find . -type f -printf '%P\\n' | tee /tmp/bench-migrate.list | wc -l; du -sm --apparent-size . | cut -f1`)).out.trim().split(/\s+/);
  await guest('sync; echo 3 > /proc/sys/vm/drop_caches');
  const plain = await guestTime(`cd ${mount} && while IFS= read -r p; do curl -sSf -K /root/bench-s3.curl -T "$p" "${ep}/bench-plain/$p" -o /dev/null || exit 1; done < /tmp/bench-migrate.list`);
  await guest('sync; echo 3 > /proc/sys/vm/drop_caches');
  const whole = await guestTime(`mreg storage migrate --to s3://bench-mreg --s3Endpoint ${ep} --s3CredentialsFile /root/bench-s3-credentials`);
  const err = (await guest('cat /tmp/bench-last.err')).out;
  const step = name => Number(new RegExp(`^ {4}ok ${name}[^\\n]* \\(([\\d.]+)s\\)$`, 'm').exec(err)?.[1] ?? NaN) * 1000;
  const copy = step('copy the blobs');
  const last = step('copy what changed meanwhile');
  const ratio = plain / copy;
  say(`migrate: mreg's copy ${secs(copy)} vs curl PUT of each file ${secs(plain)} (${list[0]} files, ${list[1]} MiB) → throughput ratio ${ratio.toFixed(2)} (target ≥ 0.80) ${verdict(ratio >= 0.8)}`);
  note(`migrate: whole command ${secs(whole)} (object-store check, compare, copy, stop quay-app, last pass ${secs(last)}, switch, restart and health wait); one round, the install is on S3 after it`);
  await guest(`rm -f /root/bench-s3-credentials /root/bench-s3.curl /tmp/bench-migrate.list`);
}

async function benchHealth() {
  // start-job time vs the first 200 for unit-file variants (edits the rendered files in the guest only)
  const r = await guest(`bash ${GUEST_DIR}/health-variants.sh ${process.env.BENCH_VARIANTS ?? 'base startup'} ${N}`);
  for (const l of r.out.trim().split('\n').filter(x => x.startsWith('health'))) say(l);
  await guest(`mreg down >/dev/null; ${UP} >/dev/null`); // mreg rewrites its own units again
}

function writeResults(startedAt, loadBefore, vmInfo) {
  const file = join(ROOT, 'test/bench/RESULTS.md');
  let text;
  try { text = readFileSync(file, 'utf8'); } catch { text = '# mreg benchmarks\n\n<!-- bench:start -->\n<!-- bench:end -->\n'; }
  const env = ['PORT', 'MEM', 'SMP', 'BENCH_N', 'BENCH_REPS', 'BENCH_ONLY', 'BENCH_VARIANTS', 'BENCH_REUSE_VM', 'BENCH_SKIP_INSTALL'].filter(k => process.env[k]).map(k => `${k}=${process.env[k]}`).join(' ');
  const block = [
    '<!-- bench:start -->',
    `## Latest run: ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Command: \`${env} npm run bench\``,
    '',
    `Machine: host ${cpus().length} cores, load ${loadBefore} before / ${load()} after; ${vmInfo}.`,
    '',
    '```',
    ...lines,
    '',
    ...details,
    '```',
    '<!-- bench:end -->',
  ].join('\n');
  text = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/.test(text) ? text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, block) : `${text}\n${block}\n`;
  writeFileSync(file, text);
}

const startedAt = new Date();
const loadBefore = load();
let failed = false;
let vmInfo = 'VM not started';
try {
  await prepare();
  const qemus = (await sh('bash', ['-c', 'pgrep -c qemu-system || true'])).out.trim();
  vmInfo = `QEMU/TCG guest (MEM=${process.env.MEM ?? 4096} MiB, SMP=${process.env.SMP ?? 2}), ${qemus} QEMU VMs running on the host, rootful install`;
  log(`${vmInfo}; N=${N}, repeats ${REPS}`);
  const benches = { up: benchUp, status: benchStatus, down: benchDown, upgrade: benchUpgrade, cli: benchCli, backup: benchBackup, migrate: benchMigrate, health: benchHealth };
  for (const name of ONLY) {
    if (!benches[name]) throw new Error(`unknown bench ${name} (BENCH_ONLY)`);
    log(`${name} …`);
    await benches[name]();
  }
} catch (err) {
  failed = true;
  console.error(`[bench] FAILED: ${err instanceof Error ? err.message : err}`);
} finally {
  if (process.env.BENCH_SKIP_INSTALL !== '1') await guest('mreg down --purge --yes >/dev/null 2>&1; podman pod rm -f quay-pod >/dev/null 2>&1; true', { allowFail: true });
  if (!REUSE) await sh('bash', [VM, 'stop'], { echo: true });
}
if (lines.length) writeResults(startedAt, loadBefore, vmInfo);
process.exitCode = failed ? 1 : 0;
