// mreg adopt for real, both scopes side by side, each on a mirror-registry install rendered from its own role
// (test/fixtures/mirror-registry, laid into the guest by mr-install.ts): rootless 1.3.11 with --quayRoot,
// --quayStorage and --pgStorage paths on port 9443; rootful 1.2.9 upgraded by 1.3.11 with
// --quayRoot /etc/quay-install/ (named volumes, the literal password "password" in podman secrets), whose
// admin replaced the certificate with one from their own CA as Red Hat documents. With a user and a pushed
// image each is taken over in place: the image pulls with the same digest (anonymously too: mirror-registry's
// anonymous access and a public repository), the old password logs in, the same certificate is served, the
// old units are backed up and gone, the passwords live in podman secrets only. Ends with
// `mreg down --purge --yes`.
import t, { type Test } from 'tap';
import { requireVm, describe, sideBySide } from './guest.js';
import { IMG, SCOPES, assertKilled, caPath, killWhen, login, parseJson, pullDigest, pushTiny, status, stepLine, type Scope } from './scopes.js';
import { fromClean } from './snapshot.js';
import { bootstrapUser, installRendered, renderForGuest, type RenderedInstall } from './mr-install.js';
import { RELEASES } from '../support/mirror-registry/releases.js';
import { createCa, issueServerCert } from '../../src/tls/index.js';
import { ADOPT_STEP } from '../../src/adopt/switch.js';
import { adoptMarkerPath } from '../../src/model/scope.js';

requireVm();
t.before(fromClean);
t.setTimeout(60 * 60_000);

const FIXTURE: Record<Scope['name'], string> = { rootless: '1.3.11-rootless-bind', rootful: '1.2.9-upgraded-1.3.11-rootful' };
const OLD = { username: 'init', password: 'mirror-registry-13-pw' };
const STORAGE: Record<Scope['name'], string> = { rootless: '/data/quay/storage /data/quay/pg', rootful: 'quay-storage pg-storage' };
// 1.3's role creates both volumes even when --quayStorage/--pgStorage are folders: nothing mounts them.
const SPARE_VOLUMES: Record<Scope['name'], string[]> = { rootless: ['pg-storage', 'quay-storage'], rootful: [] };
// The keys of mirror-registry's config.yaml mreg does not set, kept as they were (1.3's template has 19).
const KEPT_19 = ['ENTERPRISE_LOGO_URL', 'FEATURE_ACI_CONVERSION', 'FEATURE_APP_REGISTRY', 'FEATURE_CHANGE_TAG_EXPIRATION', 'FEATURE_PARTIAL_USER_AUTOCOMPLETE',
  'FEATURE_REQUIRE_TEAM_INVITE', 'FEATURE_RESTRICTED_V1_PUSH', 'FEATURE_SECURITY_NOTIFICATIONS', 'FEATURE_USERNAME_CONFIRMATION', 'FEATURE_USER_LOG_ACCESS',
  'GITHUB_LOGIN_CONFIG', 'GITHUB_TRIGGER_CONFIG', 'GITLAB_TRIGGER_KIND', 'LOGS_MODEL_CONFIG', 'LOG_ARCHIVE_LOCATION', 'REPO_MIRROR_SERVER_HOSTNAME',
  'REPO_MIRROR_TLS_VERIFY', 'SECURITY_SCANNER_ISSUER_NAME', 'TEAM_RESYNC_STALE_TIME'];
const KEPT_KEYS: Record<Scope['name'], string[]> = { rootless: KEPT_19, rootful: [...KEPT_19, 'CREATE_ORGANIZATION_ON_PUSH'] };
// After down --purge: rootless quayRoot is in /data/quay, which root made; rootful's /etc/quay-install is root's.
const FOLDERS_AFTER_PURGE: Record<Scope['name'], string[]> = { rootless: ['/data/quay/root 0', '/data/quay/pg 0', '/data/quay/storage 0'], rootful: ['/etc/quay-install gone'] };
// Each rollback in one scope: adopt's put-back is the same code in both, and each costs about three
// minutes on two emulated cores. The admin's own certificate (rootful) is the case a put-back got wrong.
const ROLLBACK = { exitsAtStart: 'rootful', migrates: 'rootless' } as const;
// The access-rule flag is up's config.yaml write and a quay-app restart, the same code in both scopes:
// one scope (CI's budget; a restart per scope on two emulated cores costs nearly twice one).
const ACCESS_FLAG_SCOPE = 'rootless';
// An adopt killed once mreg's units have started (old units moved, role renamed, no record yet): one scope,
// the one whose mirror-registry reads podman secrets adopt must not remove before its record is written.
const KILLED_SCOPE = 'rootful';
const USER_PKI = '/root/user-pki'; // the rootful admin's own CA and pair

interface AdoptJson { adopted: boolean; durationMs: number; downtimeMs: number; downtimeSteps?: Array<{ step: string; ms: number }>; backup: string; leftovers?: Array<{ what: string; path: string; removed: boolean }>; configKept?: { settings: string[]; keys: string[] }; configChanges?: Array<{ key: string; before?: string; after?: string; why?: string }> }

/** SHA-256 fingerprint of the certificate the registry serves. */
async function served(s: Scope): Promise<string> {
  const host = s.host.split(':')[0];
  const r = await s.run(`openssl s_client -connect 127.0.0.1:${s.port} -servername ${host} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | sed 's/^.*=//'`);
  return r.stdout.trim();
}

const rendered = SCOPES.map(s => renderForGuest(FIXTURE[s.name], s));

sideBySide(t, 'adopt a rendered mirror-registry install', rendered.map(r => ({ ...r, name: r.scope.name })), (t, r) => adoptFlow(t, r));

function adoptFlow(t: Test, install: RenderedInstall): void {
  const s: Scope = install.scope.name === 'rootful' ? { ...install.scope, caFile: `${USER_PKI}/ca.crt` } : install.scope;
  const UNIT_DIR = install.unitDir;
  const BACKUP = `${s.quayRoot}/mirror-registry-units.bak`;
  const fixture = FIXTURE[s.name];
  let digest = '';
  let servedBefore = '';

  t.test(`mirror-registry ${fixture} with a user and an image`, async t => {
    const pre = await s.run(`test ! -e ${s.quayRoot} && test ! -e ${UNIT_DIR}/quay-app.service && ! podman volume exists pg-storage`);
    t.equal(pre.exitCode, 0, 'starts from a clean host', { output: describe(pre) });
    const fx = await installRendered(install);
    if (!t.equal(fx.exitCode, 0, 'the rendered install is healthy', { output: describe(fx) })) return;
    if (s.name === 'rootful') {
      // The admin's own pair replaces the role's (Red Hat: copy ssl.cert and ssl.key into quay-config/, restart quay-app).
      const own = await s.run(`set -e; mkdir -p ${USER_PKI}; cd ${USER_PKI}; h=${s.host.split(':')[0]}
        printf '[req]\\ndistinguished_name=dn\\nprompt=no\\n[dn]\\nCN=site CA\\n[v3]\\nbasicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\nsubjectKeyIdentifier=hash\\n' > ca.cnf
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 365 -config ca.cnf -extensions v3 2>/dev/null
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=$h 2>/dev/null
        printf "subjectAltName=DNS:$h\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\nkeyUsage=critical,digitalSignature\\n" > leaf.ext
        openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 300 -out leaf.crt -extfile leaf.ext 2>/dev/null
        cat leaf.crt ca.crt > ${s.quayRoot}/quay-config/ssl.cert; cp leaf.key ${s.quayRoot}/quay-config/ssl.key
        systemctl restart quay-app
        for _ in $(seq 1 150); do curl -fs -o /dev/null --cacert ca.crt https://${s.host}/health/instance && exit 0; sleep 2; done; exit 1`, { timeoutMs: 10 * 60_000 });
      if (!t.equal(own.exitCode, 0, 'the admin\'s own certificate is served', { output: describe(own) })) return;
    }
    servedBefore = await served(s);
    t.match(servedBefore, /^[0-9A-F:]{95}$/, 'the served certificate\'s fingerprint');
    // mirror-registry's installer key, made and authorised exactly as it does (cmd/utils.go setupLocalSSH).
    const key = await s.run(`ssh-keygen -q -b 2048 -t rsa -N '' -f ~/.ssh/quay_installer && umask 066 && /bin/echo "$(cat ~/.ssh/quay_installer.pub)" >> ~/.ssh/authorized_keys`);
    t.equal(key.exitCode, 0, 'the installer\'s ssh key, authorised', { output: describe(key) });
    // What its role leaves in the quayRoot when it installed from another host (autodetect-image-archive.yaml),
    // small stand-ins of the real tars; and a tar of the user's own that must stay.
    const tars = await s.run(`set -e; cd ${s.quayRoot}; for f in image-archive.tar quay.tar redis.tar pause.tar mine.tar; do head -c 1M /dev/zero > $f; done`);
    t.equal(tars.exitCode, 0, 'mirror-registry\'s image tars in the quayRoot', { output: describe(tars) });
    const init = await bootstrapUser(s, OLD);
    t.equal(init.code, '200', 'first user created through mirror-registry\'s bootstrap API', { output: describe(init.r) });
    t.equal((await login(s, OLD)).exitCode, 0, 'podman login');
    const p = await pushTiny(s, OLD);
    t.equal(p.r.exitCode, 0, 'push', { output: describe(p.r) });
    digest = p.digest;
    t.match(digest, /^sha256:[0-9a-f]{64}$/);
    // mirror-registry turns anonymous access on; a pushed repository is private until its admin makes it public.
    t.equal((await pullDigest(s, OLD, { anonymous: true })).digest, '', 'an anonymous pull of the new (private) repository is refused');
    const pub = await s.run(`curl -s -o /dev/null -w '%{http_code}' --cacert ${caPath(s)} -H "Authorization: Bearer $(cat)" -H content-type:application/json \\
      --data '{"visibility":"public"}' https://${s.host}/api/v1/repository/${OLD.username}/tiny/changevisibility`, { input: init.token });
    t.equal(pub.stdout.trim(), '200', 'the repository made public with the token the bootstrap API gave', { output: describe(pub) });
    t.equal((await pullDigest(s, OLD, { anonymous: true })).digest, digest, 'anonymous pull of the public repository works');
  });

  t.test('--dry-run changes nothing', async t => {
    const r = await s.run('mreg adopt --dry-run --json');
    t.equal(r.exitCode, 0, 'exit 0', { output: describe(r) });
    const plan = parseJson<{ actions: string[] }>(r);
    t.ok(plan?.actions.some(a => a.startsWith(`move ${UNIT_DIR}/quay-app.service`)), 'plans to move the old units');
    t.ok(plan?.actions.includes(`offer to remove (asking on a terminal) mirror-registry's ssh key ${s.home}/.ssh/quay_installer (and .pub), let in by a line of ${s.home}/.ssh/authorized_keys`), 'lists the leftover key');
    t.ok(plan?.actions.includes(`offer to remove (asking on a terminal) mirror-registry's image tar ${s.quayRoot}/quay.tar (1.0 MiB)`), 'lists the image tars', { output: plan?.actions.join('\n') });
    t.notOk(plan?.actions.some(a => a.includes('mine.tar')), 'not the user\'s own tar');
    const offerVolume = 'offer to remove (asking on a terminal) mirror-registry\'s volume';
    t.same(plan?.actions.filter(a => a.startsWith(offerVolume)), SPARE_VOLUMES[s.name].map(v => `${offerVolume} ${v} (empty)`),
      'lists the empty volumes the role made for nothing (an install on folders)');
    t.notMatch(r.stdout, /mirror-registry-13-pw/, 'no secret in the plan');
    const still = await s.run(`test -f ${UNIT_DIR}/quay-app.service && test ! -e ${BACKUP} && ${s.systemctl} is-active quay-app.service`);
    t.equal(still.exitCode, 0, 'old install untouched and running', { output: describe(still) });
  });

  t.test('an expired CA is refused before anything stops (mirror-registry never renews its CA)', async t => {
    // A CA made 1100 days ago for 1024 days, as mirror-registry makes it, and ssl.cert issued from it.
    const made = new Date(Date.now() - 1100 * 86_400_000);
    const ca = createCa({ commonName: 'Quay', now: made, days: 1024 });
    const cert = issueServerCert({ ca, hostname: s.host.split(':')[0]!, now: made, days: 356 });
    const R = s.quayRoot;
    const pid = (await s.run(`${s.systemctl} show -p MainPID --value quay-app`)).stdout.trim();
    const swap = await s.run(`set -e; cp ${R}/quay-rootCA/rootCA.pem ${R}/rootCA.pem.keep; cp ${R}/quay-config/ssl.cert ${R}/ssl.cert.keep
      IFS= read -r -d '' both || true; printf '%s' "\${both%%@@@*}" > ${R}/quay-rootCA/rootCA.pem; printf '%s' "\${both#*@@@}" > ${R}/quay-config/ssl.cert`,
      { input: `${ca.certPem}@@@${cert.certPem}` });
    t.equal(swap.exitCode, 0, 'expired CA and its certificate in place', { output: describe(swap) });
    const r = await s.run('mreg adopt');
    t.equal(r.exitCode, 2, 'exit 2', { output: describe(r) });
    t.match(r.stderr, /mreg: error: \S+\/quay-rootCA\/rootCA\.pem: the install's CA expired on \d{4}-\d\d-\d\d/, 'names the CA and the date');
    t.match(r.stderr, /--sslCert FILE --sslKey FILE, or --new-ca .*nothing was stopped/s, 'offers the choices');
    const still = await s.run(`test -f ${UNIT_DIR}/quay-app.service && test ! -e ${BACKUP} && ${s.systemctl} show -p MainPID --value quay-app`);
    t.equal(still.stdout.trim(), pid, 'the old registry kept running (same quay-app PID), nothing moved', { output: describe(still) });
    const back = await s.run(`set -e; mv ${R}/rootCA.pem.keep ${R}/quay-rootCA/rootCA.pem; mv ${R}/ssl.cert.keep ${R}/quay-config/ssl.cert`);
    t.equal(back.exitCode, 0, 'the real CA and certificate back', { output: describe(back) });
  });

  if (s.name === ROLLBACK.exitsAtStart) t.test('a new Quay image that exits at start: adopt puts mirror-registry back by itself', async t => {
    // The PostgreSQL stand-in as quay-app exits at once without its environment, as a Quay whose config
    // validation fails does; mreg sees the third exit and puts mirror-registry back.
    const r = await s.run(`mreg adopt --quayImage ${IMG}/postgres:15`, { timeoutMs: 30 * 60_000 });
    t.equal(r.exitCode, 1, 'exit 1', { output: describe(r) });
    t.match(r.stderr, /adopt failed: quay-app\.service: it exited 3 times.*; mirror-registry was put back as it was and is healthy again/s, 'says why and that it was put back', { output: describe(r) });
    const back = await s.run(`set -e; test -f ${UNIT_DIR}/quay-app.service; test ! -e ${BACKUP}
      test -z "$(ls ${s.quadletDir}/ 2>/dev/null | grep quay || true)"; test -z "$(podman secret ls --format '{{.Name}}' | grep '^mreg-' || true)"
      grep -q '^DB_URI: postgresql://user:' ${s.quayRoot}/quay-config/config.yaml  # mirror-registry's config.yaml, not mreg's
      ${s.systemctl} is-active quay-app.service; ${s.systemctl} show -p FragmentPath --value quay-app.service`);
    t.equal(back.exitCode, 0, 'old units back and active, no backup folder, no Quadlet files or mreg secrets left', { output: describe(back) });
    t.match(back.stdout, new RegExp(`^${UNIT_DIR}/quay-app\\.service$`, 'm'), 'quay-app is mirror-registry\'s unit again');
    t.equal((await login(s, OLD)).exitCode, 0, 'the old password logs in');
    t.equal((await pullDigest(s, OLD)).digest, digest, 'the pushed image pulls with the same digest');
  });

  if (s.name === ROLLBACK.migrates) t.test('a new Quay image that migrates the database and never gets healthy: put back with the database', async t => {
    // :broken migrates schema 1 to 2 at its first start and then serves 503; the old v1 cannot start on
    // schema 2, so without the dump taken before the stop the old registry would not come back.
    const r = await s.run(`mreg adopt --quayImage ${IMG}/quay:broken --timeout 30`, { timeoutMs: 30 * 60_000 });
    t.equal(r.exitCode, 1, 'exit 1', { output: describe(r) });
    t.match(r.stderr, /adopt failed: .*did not answer 200 within 30 s.*; mirror-registry was put back as it was and is healthy again/s, 'says why and that it was put back', { output: describe(r) });
    const j = await s.run(`${s.journalctl} -u quay-app --no-pager -o cat --since '-15min' | grep -c 'Running upgrade standin0001 -> standin0002' || true`);
    t.ok(Number(j.stdout.trim()) >= 1, 'the new image did migrate the database', { output: describe(j) });
    const back = await s.run(`set -e; test -f ${UNIT_DIR}/quay-app.service; test ! -e ${BACKUP}; test ! -e ${s.quayRoot}/db-snapshot
      test -z "$(podman secret ls --format '{{.Name}}' | grep '^mreg-' || true)"
      ${s.systemctl} is-active quay-app.service; curl -s --cacert ${caPath(s)} https://${s.host}/api/v1/discovery | jq -r .version`);
    t.equal(back.exitCode, 0, 'old units back and active; no backup folder, dump or mreg secret left', { output: describe(back) });
    t.match(back.stdout, /^v1$/m, 'the old Quay (v1) serves again, on the database as it was');
    t.equal((await pullDigest(s, OLD)).digest, digest, 'the pushed image pulls with the same digest');
  });

  if (s.name === KILLED_SCOPE) t.test('adopt killed once mreg\'s units start: the other commands name adopt, which puts mirror-registry back first', async t => {
    const k = await killWhen(s, 'mreg adopt --verbose', stepLine(ADOPT_STEP.start), 0, 1800);
    if (!assertKilled(t, k, 'killed after mreg\'s units started, before their health', [stepLine(ADOPT_STEP.health)])) return;
    const marker = adoptMarkerPath('rootful', s.home);
    const midway = await s.run(`test ! -e ${UNIT_DIR}/quay-app.service && test -f ${BACKUP}/quay-app.service && test -f ${s.quadletDir}/quay-app.container &&
      test ! -e ${s.quayRoot}/mreg-install.json && stat -c %a ${marker} && podman secret exists pgdb_pass`);
    t.equal(midway.exitCode, 0, 'old units in the backup folder, mreg\'s written, no record; the marker (0600) and mirror-registry\'s secrets there', { output: describe(midway) });
    t.equal(midway.stdout.trim(), '600');
    const st = await s.run('mreg status');
    t.not(st.exitCode, 0, 'status fails', { output: describe(st) });
    t.match(st.stderr, /an mreg adopt stopped midway.*\n.*was interrupted \(started [^)]+\): run mreg adopt again; it puts mirror-registry back first, then adopts/s, 'status names adopt as the way out');
    const up = await s.run('mreg up');
    t.equal(up.exitCode, 1, 'up refuses (the host\'s state, not a flag: exit 1)', { output: describe(up) });
    t.match(up.stderr, new RegExp(`${marker.replace(/\./g, '\\.')} exists: an mreg adopt stopped midway`), 'up names the marker');
    const dry = await s.run('mreg adopt --dry-run');
    t.equal(dry.exitCode, 0, 'adopt --dry-run', { output: describe(dry) });
    t.match(dry.stdout, /1\. an interrupted mreg adopt of \S+ \(started [^)]+\): put mirror-registry back first/, 'says the re-run puts mirror-registry back first');
    const still = await s.run(`test ! -e ${UNIT_DIR}/quay-app.service && test -f ${marker}`);
    t.equal(still.exitCode, 0, 'none of them changed anything', { output: describe(still) });
  });

  t.test('mreg adopt', async t => {
    const r = await s.run('mreg adopt --json --remove-leftovers', { timeoutMs: 30 * 60_000 });
    if (!t.equal(r.exitCode, 0, 'exit 0', { output: describe(r) })) return;
    if (s.name === KILLED_SCOPE) {
      t.match(r.stderr, /an mreg adopt of \S+ was interrupted .*; putting mirror-registry back first/, 'the killed adopt is put back first', { output: describe(r) });
      t.equal(r.stderr.split('putting mirror-registry back first').length, 2, 'once');
      t.equal((await s.run(`test ! -e ${adoptMarkerPath('rootful', s.home)}`)).exitCode, 0, 'the marker is gone');
    }
    const res = parseJson<AdoptJson>(r);
    t.ok(res?.adopted, 'adopted');
    t.same(res?.leftovers, [{ what: 'ssh-key', path: `${s.home}/.ssh/quay_installer`, removed: true },
      ...['image-archive.tar', 'quay.tar', 'redis.tar', 'pause.tar'].map(f => ({ what: 'image-tar', path: `${s.quayRoot}/${f}`, removed: true })),
      ...SPARE_VOLUMES[s.name].map(v => ({ what: 'volume', path: v, removed: true }))],
    'the installer key, the image tars and the volumes the role made but nothing mounts are reported removed');
    const infra = await s.run(`podman container inspect --format '{{.ImageName}}' "$(podman pod inspect --format '{{.InfraContainerID}}' quay-pod)"`);
    t.equal(infra.stdout.trim(), 'registry.access.redhat.com/ubi8/pause:8.7-6', 'the pod kept the infra image mirror-registry\'s pod ran', { output: describe(infra) });
    const left = await s.run(`cd ${s.quayRoot} && ls *.tar`);
    t.equal(left.stdout.trim(), 'mine.tar', 'the image tars are gone, the user\'s own tar is not', { output: describe(left) });
    // The test harness logs in as mreg with its own key in the same authorized_keys: this very command proves it stayed.
    const keys = await s.run('test ! -e ~/.ssh/quay_installer && test ! -e ~/.ssh/quay_installer.pub && grep -c ssh- ~/.ssh/authorized_keys');
    t.equal(keys.stdout.trim(), '1', 'the pair is gone, and authorized_keys holds only the key it had before', { output: describe(keys) });
    const steps = res?.downtimeSteps ?? [];
    t.comment(`adopt wall time ${((res?.durationMs ?? 0) / 1000).toFixed(1)} s, downtime ${((res?.downtimeMs ?? 0) / 1000).toFixed(1)} s: ${steps.map(x => `${x.step} ${(x.ms / 1000).toFixed(1)} s`).join('; ')}`);
    t.same(steps.map(x => x.step)[0], 'stop mirror-registry', 'the downtime is reported step by step, from the stop');
    t.notOk(steps.some(x => x.step === 'podman secrets'), 'mreg\'s secrets were made before mirror-registry stopped');

    const files = await s.run(`set -e; cd ${BACKUP}; ls quay-pod.service quay-postgres.service quay-redis.service quay-app.service config.yaml ssl.cert ssl.key links.txt >/dev/null
      stat -c %a config.yaml; ! ls ${UNIT_DIR}/quay-*.service ${UNIT_DIR}/*.wants/quay-*.service 2>/dev/null`);
    t.equal(files.exitCode, 0, 'old units, config.yaml and the served pair backed up; units gone from the unit dir (and their enable links)', { output: describe(files) });
    t.equal(files.stdout.trim(), '600', 'backup config.yaml is 0600');

    const units = await s.run(`for u in quay-pod quay-postgres quay-redis quay-app; do echo "$u $(${s.systemctl} is-active $u) $(${s.systemctl} show -p SourcePath --value $u)"; done`);
    for (const [u, src] of [['quay-pod', 'quay.pod'], ['quay-postgres', 'quay-postgres.container'], ['quay-redis', 'quay-redis.container'], ['quay-app', 'quay-app.container']]) {
      t.match(units.stdout, new RegExp(`^${u} active ${s.quadletDir}/${src}$`, 'm'), `${u} active from the Quadlet file`);
    }

    const pulled = await pullDigest(s, OLD);
    t.equal(pulled.digest, digest, 'the image pushed before pulls with the same digest', { output: describe(pulled.r) });
    const anon = await pullDigest(s, OLD, { anonymous: true });
    t.equal(anon.digest, digest, 'anonymous pull of the public repository still works (same access rules)', { output: describe(anon.r) });
    const relog = await s.run(`podman logout ${s.host} >/dev/null; podman login -u ${OLD.username} --password-stdin ${s.host}`, { input: OLD.password });
    t.equal(relog.exitCode, 0, 'the old user logs in with the old password', { output: describe(relog) });

    const sec = await s.run(`set -e; names=$(podman secret ls --format '{{.Name}}' | sort | tr '\\n' ' '); echo "$names"
      pw=$(awk '/^  password:/{print $2; exit}' ${BACKUP}/config.yaml); db=$(sed -n 's/^DB_URI: postgresql:\\/\\/user:\\(.*\\)@.*/\\1/p' ${BACKUP}/config.yaml)
      test -n "$pw" && test -n "$db"; ! grep -rqE -e "[=:]($pw|$db)([@[:space:]]|$)" ${s.quadletDir}`);
    t.equal(sec.exitCode, 0, 'passwords are not in the unit files', { output: describe(sec) });
    const rotated = await s.run(`set -e; pw=$(awk '/^  password:/{print $2; exit}' ${BACKUP}/config.yaml); db=$(sed -n 's/^DB_URI: postgresql:\\/\\/user:\\(.*\\)@.*/\\1/p' ${BACKUP}/config.yaml)
      new=$(podman secret inspect --showsecret --format '{{.SecretData}}' mreg-pg-password mreg-redis-password)
      test -n "$new"; if printf '%s\\n' "$new" | grep -qxF -e "$pw" -e "$db"; then echo kept; else echo ok; fi`);
    t.equal(rotated.stdout.trim(), 'ok', 'the PostgreSQL and Redis passwords were rotated (mirror-registry 1.3.0-1.3.10 used "password")', { output: describe(rotated) });
    t.match(sec.stdout, /mreg-pg-password .*mreg-redis-password/, 'mreg\'s podman secrets exist');
    t.notMatch(sec.stdout, /pgdb_pass|redis_pass/, 'mirror-registry\'s secrets are gone');

    // mirror-registry left anonymous pulls and self-registration on, with admin as superuser: the registry's
    // users see the same rules after adopt, and the keys mreg does not set are still there.
    t.same(res?.configKept?.keys, KEPT_KEYS[s.name], 'says which keys of config.yaml it kept (the 19 the issue counts, and 1.2\'s CREATE_ORGANIZATION_ON_PUSH)', { output: describe(r) });
    t.same(res?.configChanges?.find(c => c.key === 'DB_URI'), { key: 'DB_URI', before: '<secret>', after: '<secret>', why: 'mreg\'s PostgreSQL role and password' }, 'and what it changed, without the value');
    const cfg = await s.run(`grep -E '^(FEATURE_ANONYMOUS_ACCESS|FEATURE_USER_CREATION|ENTERPRISE_LOGO_URL|FEATURE_USER_LOG_ACCESS|GITHUB_LOGIN_CONFIG|TEAM_RESYNC_STALE_TIME|SUPER_USERS):' ${s.quayRoot}/quay-config/config.yaml`);
    t.same(cfg.stdout.trim().split('\n').sort(), ['ENTERPRISE_LOGO_URL: "/static/img/quay-horizontal-color.svg"', 'FEATURE_ANONYMOUS_ACCESS: true', 'FEATURE_USER_CREATION: true',
      'FEATURE_USER_LOG_ACCESS: true', 'GITHUB_LOGIN_CONFIG: {}', 'SUPER_USERS: ["admin"]', 'TEAM_RESYNC_STALE_TIME: "60m"'], 'config.yaml keeps the access rules and the other keys', { output: describe(cfg) });

    const rec = await s.run(`jq -r '[(.spec.quayStorage, .spec.pgStorage | .name // .path), .spec.images.quay] | join(" ")' ${s.quayRoot}/mreg-install.json`);
    t.equal(rec.stdout.trim(), `${STORAGE[s.name]} ${RELEASES['1.3.11'].images.quay}`, 'install record: same storage, the old image (by its Red Hat name) kept');
    t.equal(await served(s), servedBefore, 'the certificate served before adopt is still the one served');
    const st = await status(s);
    t.equal(st.r.exitCode, 0, 'mreg status: healthy', { output: describe(st.r) });
    t.equal(st.json?.healthy, true);
  });

  if (s.name === ACCESS_FLAG_SCOPE) t.test('an access rule changes only when a flag says so', async t => {
    const r = await s.run('mreg up --anonymousAccess false', { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, 'exit 0', { output: describe(r) });
    t.match(r.stderr + r.stdout, /mreg: changing FEATURE_ANONYMOUS_ACCESS: true → false \(config\.yaml; quay-app restarts\)/, 'says the change');
    t.equal((await pullDigest(s, OLD, { anonymous: true })).digest, '', 'anonymous pull of the public repository is refused now');
    t.equal((await pullDigest(s, OLD)).digest, digest, 'the user still pulls');
    // Without --json: its "mreg: changing …" lines are info, which --json leaves out.
    const again = await s.run('mreg up');
    t.equal(again.exitCode, 0, 'a run without the flag', { output: describe(again) });
    t.notMatch(again.stderr + again.stdout, /changing FEATURE_ANONYMOUS_ACCESS/, 'changes no access rule');
    const cfg = await s.run(`grep -E '^(FEATURE_ANONYMOUS_ACCESS|FEATURE_USER_CREATION):' ${s.quayRoot}/quay-config/config.yaml`);
    t.same(cfg.stdout.trim().split('\n').sort(), ['FEATURE_ANONYMOUS_ACCESS: false', 'FEATURE_USER_CREATION: true'], 'config.yaml keeps the flag\'s value and the other rule as found');
  });

  t.test('mreg down --purge --yes leaves nothing behind', async t => {
    const r = await s.run('mreg down --purge --yes', { timeoutMs: 15 * 60_000 });
    t.equal(r.exitCode, 0, 'exit 0', { output: describe(r) });
    const left = await s.run(`ls -d ${UNIT_DIR}/quay-* ${s.quadletDir}/quay* 2>/dev/null; podman volume ls -q; podman secret ls --format '{{.Name}}'; podman ps -aq`);
    t.equal(left.stdout.trim(), '', 'no units, volumes, secrets or containers');
    // mirror-registry's folders mreg did not make: emptied where their parent is not the user's (root made
    // /data/quay), else quayRoot goes whole; the storage folders stay, without what the containers wrote.
    const folders = [s.quayRoot, ...[...install.state.directories.keys()].filter(d => !d.startsWith(`${s.quayRoot}/`))];
    const gone = await s.run(folders.map(d => `if [ -e ${d} ]; then echo "${d} $(${s.name === 'rootless' ? 'podman unshare ' : ''}ls -A ${d} | wc -l)"; else echo "${d} gone"; fi`).join('; '));
    t.same(gone.stdout.trim().split('\n'), FOLDERS_AFTER_PURGE[s.name], 'quayRoot and the storage folders as the user had them before mirror-registry wrote there', { output: describe(gone) });
  });

  t.teardown(async () => {
    // A failed run must not leave the next suite a registry on its port.
    await s.run(`mreg down --purge --yes >/dev/null 2>&1; for u in quay-app quay-redis quay-postgres quay-pod; do ${s.systemctl} stop $u 2>/dev/null; done
      rm -f ${UNIT_DIR}/quay-*.service ${UNIT_DIR}/*.wants/quay-*.service; ${s.systemctl} daemon-reload
      podman pod rm -f quay-pod >/dev/null 2>&1; podman volume rm -f pg-storage quay-storage >/dev/null 2>&1
      podman secret rm pgdb_pass redis_pass >/dev/null 2>&1; ${s.name === 'rootless' ? 'podman unshare ' : ''}rm -rf ${s.quayRoot} ${[...install.state.directories.keys()].join(' ')}
      rm -rf ${s.certsDir}/${s.host}; true`, { timeoutMs: 15 * 60_000 });
  });
}
