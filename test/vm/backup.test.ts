// mreg backup / restore for real, both scopes side by side, on the shared base install (tiny:one pushed):
// a backup while pulls, pushes and tag deletes run (no pull fails), --verify, status shows it, kill -9
// while the archive is written (nothing under the target name, the next run succeeds), a damaged copy
// (verify and restore exit 1, nothing changed), restore refused over a live install, then
// down --purge and restore (refused while an image is missing, then with -i loading it): every tag the
// restored registry lists pulls, tiny:one with the digest it was pushed with, and the old password logs in.
// The kill -9 while writing runs in rootless only (its blobs belong to sub-uids), the own restore in
// rootful only: rootless is restored by the chain at the end (another name, storage in a volume, over a
// live registry with --force). Each is a restart-heavy test; both scopes doing it cost nearly twice.
import t, { type Test } from 'tap';
import { requireVm, describe, IMG, sideBySide, type Scope } from './guest.js';
import { useBase, BASE_SCOPES as scopes, ROOTFUL_BLOBS, type BaseInstall } from './base.js';
import { assertKilled, killWhen, parseJson, stepLine } from './scopes.js';
import { BACKUP_STEP } from '../../src/plan/backup-steps.js';
import { RESTORE_STEP } from '../../src/plan/restore-steps.js';

requireVm();
t.setTimeout(60 * 60_000);

let base = new Map<string, BaseInstall>();
t.before(async () => { base = await useBase(); });

const dir = (s: Scope) => (s.name === 'rootful' ? '/var/tmp/mreg-backups' : '/home/mreg/backups');
const repo = (s: Scope, user: string) => `${s.host}/${user}`;
/** The base install's blob storage on the host, and the prefix that runs a command where its uids exist. */
const blobRoot = (s: Scope) => (s.name === 'rootful' ? ROOTFUL_BLOBS : '/home/mreg/.local/share/containers/storage/volumes/quay-storage/_data');
const inNs = (s: Scope) => (s.name === 'rootful' ? '' : 'podman unshare ');

/** Pulls `ref` afresh; stdout is its manifest digest. */
const pull = (s: Scope, ref: string) => s.run(`set -e; podman rmi -i ${ref} >/dev/null 2>&1 || true; podman pull -q ${ref} >/dev/null
  podman image inspect --format '{{.Digest}}' ${ref}; podman rmi ${ref} >/dev/null`);

/** Every tag of user/REPO the registry lists, for each repository given. */
async function tagsOf(s: Scope, user: string, password: string, repos: string[]): Promise<string[]> {
  const refs: string[] = [];
  for (const r of repos) {
    const res = await s.run(`IFS= read -r pw; curl -sf --cacert ${s.quayRoot}/quay-rootCA/rootCA.pem -u ${user}:"$pw" https://${s.host}/v2/${user}/${r}/tags/list | jq -r '.tags[]?'`, { input: `${password}\n` });
    for (const tag of res.stdout.split('\n').filter(Boolean)) refs.push(`${repo(s, user)}/${r}:${tag}`);
  }
  return refs;
}

sideBySide(t, 'backup and restore (both scopes at once)', scopes, (t, s) => {
  let user = '';
  let password = '';
  let digest = '';
  let listDigest = '';
  const file = () => `${dir(s)}/full.tar`;

  t.test(`${s.name}: backup while pulls, pushes and tag deletes run`, async t => {
    const b = base.get(s.name);
    if (!b?.json) return t.fail('no base install');
    ({ username: user, password } = b.json);
    digest = b.digest;
    await s.run(`rm -rf ${dir(s)}; mkdir -p ${dir(s)}`);
    // Before: two more images (one pushed twice under two tags) and a tag that is deleted during the backup.
    const pre = await s.run(`set -e; for i in a b; do d=$(mktemp -d); echo "$i" > "$d/f"; tar -C "$d" -c f | podman import -q - localhost/bk/${s.name}:$i >/dev/null; rm -rf "$d"
      podman tag localhost/bk/${s.name}:$i ${repo(s, user)}/bk:$i; podman push -q ${repo(s, user)}/bk:$i; done
      podman tag localhost/bk/${s.name}:a ${repo(s, user)}/bk:a2; podman push -q ${repo(s, user)}/bk:a2
      for a in amd64 arm64; do d=$(mktemp -d); echo "$a" > "$d/f"; tar -C "$d" -c f | podman import -q --arch $a - localhost/bk/${s.name}:m-$a >/dev/null; rm -rf "$d"; done
      podman manifest rm localhost/bk/multi-${s.name} >/dev/null 2>&1 || true; podman manifest create localhost/bk/multi-${s.name} >/dev/null
      for a in amd64 arm64; do podman manifest add --arch $a --os linux localhost/bk/multi-${s.name} containers-storage:localhost/bk/${s.name}:m-$a >/dev/null; done
      f=$(mktemp); podman manifest push -q --all --digestfile "$f" localhost/bk/multi-${s.name} docker://${repo(s, user)}/multi:1; echo "LIST $(cat "$f")"; rm -f "$f"`);
    t.equal(pre.exitCode, 0, 'pushed bk:a, bk:b, bk:a2 and a two-architecture multi:1', { output: describe(pre) });
    listDigest = /LIST (sha256:[0-9a-f]{64})/.exec(pre.stdout)?.[1] ?? '';
    t.ok(listDigest, 'the manifest list\'s digest');
    // While the backup runs: pull tiny:one in a loop (counting failures), push new tags, delete bk:b.
    const bg = `${dir(s)}/bg`;
    await s.run(`setsid bash -c 'fails=0; n=0; while [ ! -e ${bg}.stop ]; do n=$((n+1)); podman pull -q ${repo(s, user)}/tiny:one >/dev/null 2>&1 || fails=$((fails+1)); done; echo "$n $fails" > ${bg}.pulls' </dev/null >/dev/null 2>&1 &
      setsid bash -c 'i=0; while [ ! -e ${bg}.stop ]; do i=$((i+1)); d=$(mktemp -d); echo "during $i" > "$d/f"; tar -C "$d" -c f | podman import -q - localhost/bk/${s.name}:c$i >/dev/null; rm -rf "$d"
        podman tag localhost/bk/${s.name}:c$i ${repo(s, user)}/bk:during-$i; podman push -q ${repo(s, user)}/bk:during-$i >/dev/null 2>&1 && echo ok >> ${bg}.pushes; done' </dev/null >/dev/null 2>&1 &
      sleep 2`);
    const del = s.run(`IFS= read -r pw; sleep 3; ca=${s.quayRoot}/quay-rootCA/rootCA.pem
      dg=$(curl -sI --cacert $ca -u ${user}:"$pw" -H 'accept: application/vnd.oci.image.manifest.v1+json' -H 'accept: application/vnd.docker.distribution.manifest.v2+json' https://${s.host}/v2/${user}/bk/manifests/b | tr -d '\\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
      curl -s -o /dev/null -w '%{http_code}' -X DELETE --cacert $ca -u ${user}:"$pw" https://${s.host}/v2/${user}/bk/manifests/$dg`, { input: `${password}\n` });
    // And a blob caught half written (as PutContent leaves one for a moment), deterministically: named for
    // content it does not hold yet. The backup leaves it out; without that, --verify calls the backup damaged.
    const half = await s.run(`set -e; h=$(echo whole | sha256sum | cut -c1-64); p=${blobRoot(s)}/sha256/$(echo $h | cut -c1-2)/$h
      ${inNs(s)}sh -c 'mkdir -p "$(dirname "$1")" && printf wh > "$1"' sh "$p"; echo "$p"`);
    t.equal(half.exitCode, 0, 'a half-written blob in the storage', { output: describe(half) });
    const r = await s.run(`mreg backup ${file()} --json`, { timeoutMs: 20 * 60_000 });
    await s.run(`${inNs(s)}rm -f ${half.stdout.trim()}`);
    const deleted = await del;
    await s.run(`touch ${bg}.stop; for i in $(seq 60); do [ -e ${bg}.pulls ] && break; sleep 1; done`);
    t.equal(r.exitCode, 0, 'mreg backup exits 0', { output: describe(r) });
    t.equal(deleted.stdout.trim(), '202', 'bk:b was deleted while the backup ran', { output: describe(deleted) });
    const pulls = (await s.run(`cat ${bg}.pulls; wc -l < ${bg}.pushes 2>/dev/null || echo 0`)).stdout.trim().split(/\s+/);
    t.ok(Number(pulls[0]) > 0, `pulls ran during the backup (${pulls[0]})`);
    t.equal(pulls[1], '0', 'no pull failed during the backup');
    t.comment(`${s.name}: ${pulls[0]} pulls, ${pulls[2]} pushes during the backup`);
    const json = parseJson<{ file: string; bytes: number; blobs: number; durationMs: number; blobsLeftOut: number }>(r);
    t.equal(json?.file, file(), 'the JSON names the file');
    t.ok((json?.blobsLeftOut ?? 0) >= 1, `the half-written blob was left out (${json?.blobsLeftOut})`);
    t.comment(`${s.name}: backup ${json?.bytes} bytes, ${json?.blobs} blobs in ${json?.durationMs} ms`);
    const mode = await s.run(`stat -c %a ${file()}; ls -A ${dir(s)} | grep -cE '\\.partial$|\\.mreg-staging$' || true`);
    t.equal(mode.stdout.split('\n')[0], '600', 'the backup is 0600: it holds every secret');
    t.equal(mode.stdout.split('\n')[1], '0', 'no partial file or staging folder is left');
    const v = await s.run(`mreg backup --verify ${file()}`);
    t.equal(v.exitCode, 0, '--verify exits 0', { output: describe(v) });
    t.match(v.stdout, /complete, every checksum matches/);
    const st = await s.run('mreg status --json');
    t.equal(parseJson<{ lastBackup?: { file: string } }>(st)?.lastBackup?.file, file(), 'status shows the last backup');
  });

  if (s.name === 'rootless') t.test(`${s.name}: kill -9 while the archive is written, then again`, async t => {
    // A 256 MiB blob (named by its digest, as Quay stores one) keeps tar writing long enough to be killed in it.
    const root = blobRoot(s);
    const big = await s.run(`set -e; f=$(mktemp -p ${dir(s)}); head -c 256M /dev/urandom > "$f"; h=$(sha256sum < "$f" | cut -c1-64)
      ${inNs(s)}sh -c 'mkdir -p "$1/sha256/$(echo $2 | cut -c1-2)" && mv "$3" "$1/sha256/$(echo $2 | cut -c1-2)/$2"' sh ${root} "$h" "$f"; echo "${root}/sha256/$(echo $h | cut -c1-2)/$h"`);
    t.equal(big.exitCode, 0, 'a big blob in the storage', { output: describe(big) });
    // Killed on the manifest's step line, the last before the archive write begins (plan/backup-steps.ts).
    const k = await killWhen(s, `mreg backup ${dir(s)}/killed.tar --verbose`, stepLine(BACKUP_STEP.manifest), 0.3);
    assertKilled(t, k, 'killed while writing', [`^step ${BACKUP_STEP.write('')}`]);
    const after = await s.run(`ls -A ${dir(s)}`);
    t.notMatch(after.stdout, /^killed\.tar$/m, 'nothing under the target name', { output: after.stdout });
    const again = await s.run(`mreg backup ${dir(s)}/killed.tar`, { timeoutMs: 20 * 60_000 });
    t.equal(again.exitCode, 0, 'the next run succeeds', { output: describe(again) });
    const left = await s.run(`ls -A ${dir(s)} | grep -cE '\\.partial$|\\.mreg-staging$' || true`);
    t.equal(left.stdout.trim(), '0', 'and leaves no partial file or staging folder');
    await s.run(`${inNs(s)}rm -f ${big.stdout.trim()}; rm -f ${dir(s)}/killed.tar`);
  });

  t.test(`${s.name}: a damaged copy and a live install are refused, nothing changed`, async t => {
    const pid = (await s.run(`${s.systemctl} show -P MainPID quay-app`)).stdout.trim();
    // Change one byte inside the database dump (found by pg_dump's magic PGDMP).
    const bad = `${dir(s)}/bad.tar`;
    const flip = await s.run(`set -e; cp ${file()} ${bad}; off=$(grep -abo PGDMP ${bad} | head -1 | cut -d: -f1); test -n "$off"
      printf 'X' | dd of=${bad} bs=1 seek=$((off + 64)) conv=notrunc status=none`);
    t.equal(flip.exitCode, 0, 'made a damaged copy', { output: describe(flip) });
    const v = await s.run(`mreg backup --verify ${bad}`);
    t.equal(v.exitCode, 1, '--verify exits 1', { output: describe(v) });
    t.match(v.stderr, /is damaged/);
    const r = await s.run(`mreg restore ${bad}`);
    t.equal(r.exitCode, 1, 'restore of the damaged copy exits 1', { output: describe(r) });
    const live = await s.run(`mreg restore ${file()}`, { timeoutMs: 10 * 60_000 });
    t.equal(live.exitCode, 2, 'restore over a live install exits 2', { output: describe(live) });
    t.match(live.stderr, /never replaces one/);
    t.equal((await s.run(`${s.systemctl} show -P MainPID quay-app`)).stdout.trim(), pid, 'quay-app was not touched');
  });

  if (s.name === 'rootful') t.test(`${s.name}: down --purge, restore: every tag pulls, the old password logs in`, async t => {
    const ca = (await s.run(`sha256sum ${s.quayRoot}/quay-rootCA/rootCA.pem | cut -c1-64`)).stdout.trim();
    const before = await tagsOf(s, user, password, ['tiny', 'bk', 'multi']);
    t.ok(before.includes(`${repo(s, user)}/bk:a2`), 'bk:a2 is listed before', { before });
    const down = await s.run('mreg down --purge --yes', { timeoutMs: 10 * 60_000 });
    t.equal(down.exitCode, 0, 'down --purge', { output: describe(down) });
    // As on a new host, an image the backup ran is missing (Redis's, the smallest to save and load):
    // restore refuses, naming it and -i, with nothing changed; then -i loads it from an archive.
    const images = `${dir(s)}/redis.tar`;
    const gone = await s.run(`set -e; podman save -q -o ${images} ${IMG}/redis:7; podman rmi ${IMG}/redis:7 >/dev/null`, { timeoutMs: 10 * 60_000 });
    t.equal(gone.exitCode, 0, 'the Redis image saved to an archive and removed', { output: describe(gone) });
    const refused = await s.run(`mreg restore ${file()}`, { timeoutMs: 10 * 60_000 });
    t.equal(refused.exitCode, 2, 'restore without the image exits 2', { output: describe(refused) });
    t.match(refused.stderr, new RegExp(`image not present on this host: ${IMG}/redis:7;.*mreg restore -i ARCHIVE`, 's'));
    t.equal((await s.run(`ls -d ${s.quayRoot} 2>&1`)).exitCode, 2, 'nothing was made: no quayRoot');
    // Killed while it puts the data back (after up made the install), then run again: it resumes.
    // Killed as pg_restore runs: Quay's database must be whole then, for the rerun or an `mreg up`
    // (apply/db-snapshot.ts; stop 40's CI: "database quay does not exist").
    const since = (await s.run('date +%s')).stdout.trim();
    const k = await killWhen(s, `mreg restore -i ${images} ${file()} --verbose`, { running: '[p]g_restore' }, 0, 1800);
    assertKilled(t, k, 'restore killed while it puts the database back', [stepLine(RESTORE_STEP.database)]);
    t.match(k.log, new RegExp(stepLine(RESTORE_STEP.blobs), 'm'), 'after the blobs went back');
    t.match(k.log, new RegExp(stepLine(RESTORE_STEP.loadImages), 'm'), 'it loaded the archive first');
    const r = await s.run(`mreg restore ${file()}`, { timeoutMs: 30 * 60_000 });
    t.equal(r.exitCode, 0, 'the same mreg restore again exits 0', { output: describe(r) });
    t.match(r.stderr, /resuming the interrupted restore/);
    t.match(r.stderr, /restored \d+ files from the backup/);
    const marker = await s.run(`test -e ${s.quayRoot}/restore-in-progress.json && echo left || echo gone`);
    t.equal(marker.stdout.trim(), 'gone', 'the restore marker is removed at the end');
    t.equal(await migrationsSince(t, s, since), '0', 'Quay first started on the restored database: it never migrated an empty one');
    const dbs = await s.run(`podman exec quay-postgres psql -Atc "SELECT datname || ' ' || pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'quay%' ORDER BY 1"`);
    t.same(dbs.stdout.trim().split('\n'), ['quay quay'], 'one database for Quay, owned by its role: no quay_restoring or quay_replaced left', { output: describe(dbs) });
    const trgm = await s.run(`podman exec quay-postgres psql -d quay -Atc "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'"`);
    t.equal(trgm.stdout.trim(), 'pg_trgm', 'with the pg_trgm extension the dump holds');
    t.equal((await s.run(`sha256sum ${s.quayRoot}/quay-rootCA/rootCA.pem | cut -c1-64`)).stdout.trim(), ca, 'same CA');
    const login = await s.run(`podman logout ${s.host} >/dev/null 2>&1 || true; podman login -u ${user} --password-stdin ${s.host}`, { input: password });
    t.equal(login.exitCode, 0, 'the old password logs in', { output: describe(login) });
    const one = await pull(s, `${repo(s, user)}/tiny:one`);
    t.equal(one.stdout.trim(), digest, 'tiny:one pulls with the digest it was pushed with', { output: describe(one) });
    const after = await tagsOf(s, user, password, ['tiny', 'bk', 'multi']);
    for (const tag of ['tiny:one', 'bk:a', 'bk:a2', 'multi:1']) t.ok(after.includes(`${repo(s, user)}/${tag}`), `${tag} is back`);
    const list = await s.run(`IFS= read -r pw; curl -sI --cacert ${s.quayRoot}/quay-rootCA/rootCA.pem -u ${user}:"$pw" -H 'accept: application/vnd.oci.image.index.v1+json' -H 'accept: application/vnd.docker.distribution.manifest.list.v2+json' https://${s.host}/v2/${user}/multi/manifests/1 | tr -d '\\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'`, { input: `${password}\n` });
    t.equal(list.stdout.trim(), listDigest, 'multi:1 is the same manifest list');
    const arm = await s.run(`set -e; podman pull -q --arch arm64 ${repo(s, user)}/multi:1 >/dev/null; podman image inspect --format '{{.Architecture}}' ${repo(s, user)}/multi:1; podman rmi ${repo(s, user)}/multi:1 >/dev/null`);
    t.equal(arm.stdout.trim(), 'arm64', 'its arm64 image pulls', { output: describe(arm) });
    for (const ref of after) {
      const p = await pull(s, ref);
      t.equal(p.exitCode, 0, `${ref} pulls`, { output: describe(p) });
    }
    const st = await s.run('mreg status --json');
    t.equal(parseJson<{ healthy: boolean }>(st)?.healthy, true, 'status is healthy', { output: describe(st) });
  });
});

// One after the other: rootful's full backup plus an encrypted incremental one, restored into the
// rootless scope under another name, with its storage in a volume instead of rootful's folder, over the
// rootless registry there (--force).
t.test('a chain (full + encrypted incremental) restored into the other scope under a new name', async t => {
  const [rootful, rootless] = [scopes.find(s => s.name === 'rootful')!, scopes.find(s => s.name === 'rootless')!];
  const creds = base.get('rootful')?.json;
  if (!creds) return t.fail('no base install');
  const full = `${dir(rootful)}/full.tar`;
  const incr = `${dir(rootful)}/incr.tar.gpg`;
  const pass = `${dir(rootful)}/pass`;
  const prep = await rootful.run(`set -e; umask 077; echo 'a passphrase long enough' > ${pass}; echo 'not this one at all' > ${pass}.wrong
    d=$(mktemp -d); echo c > "$d/f"; tar -C "$d" -c f | podman import -q - localhost/bk/chain:c >/dev/null; rm -rf "$d"
    podman tag localhost/bk/chain:c ${repo(rootful, creds.username)}/bk:c; podman push -q ${repo(rootful, creds.username)}/bk:c`);
  t.equal(prep.exitCode, 0, 'pushed bk:c after the full backup', { output: describe(prep) });
  const r = await rootful.run(`mreg backup --since ${full} --passphrase-file ${pass} ${incr} --json`, { timeoutMs: 20 * 60_000 });
  t.equal(r.exitCode, 0, 'incremental, encrypted backup exits 0', { output: describe(r) });
  const j = parseJson<{ blobs: number; inheritedBlobs: number; bytes: number }>(r);
  t.ok((j?.inheritedBlobs ?? 0) > 0, `blobs of the full backup are not stored again (${j?.inheritedBlobs} inherited, ${j?.blobs} stored)`);
  t.comment(`incremental: ${j?.blobs} blobs stored, ${j?.inheritedBlobs} inherited, ${j?.bytes} bytes`);
  const plain = await rootful.run(`grep -c SERVER_HOSTNAME ${incr} || true; grep -c SERVER_HOSTNAME ${full} || true`);
  t.same(plain.stdout.trim().split('\n'), ['0', '1'], 'config.yaml is readable in the plain backup only');
  const noPass = await rootful.run(`mreg backup --verify ${incr}`);
  t.equal(noPass.exitCode, 2, 'verify without the passphrase is a usage error', { output: describe(noPass) });
  const wrong = await rootful.run(`mreg backup --verify --passphrase-file ${pass}.wrong ${incr}`);
  t.equal(wrong.exitCode, 1, 'a wrong passphrase exits 1', { output: describe(wrong) });
  t.match(wrong.stderr, /wrong passphrase/);
  const ok = await rootful.run(`mreg backup --verify --passphrase-file ${pass} ${incr}`);
  t.equal(ok.exitCode, 0, 'verify with the passphrase', { output: describe(ok) });

  const newName = 'mirror2.example.test';
  const host = `${newName}:${rootless.port}`;
  const chain = '/home/mreg/chain';
  const move = await rootful.run(`set -e; grep -q ' ${newName}$' /etc/hosts || echo '127.0.1.1 ${newName}' >> /etc/hosts
    rm -rf ${chain}; mkdir -p ${chain}; cp ${full} ${incr} ${pass} ${pass}.wrong ${chain}/; chown -R mreg: ${chain}`);
  t.equal(move.exitCode, 0, 'the chain and passphrase handed to the rootless user', { output: describe(move) });
  // The rootless registry is still there: the refusals below must leave it running, --force then replaces it.
  const pid = (await rootless.run(`${rootless.systemctl} show -P MainPID quay-app`)).stdout.trim();
  const flags = `--quayHostname ${host} --quayStorage quay-storage`;
  const bad = await rootless.run(`mreg restore --force --passphrase-file ${chain}/pass.wrong ${flags} ${chain}/full.tar ${chain}/incr.tar.gpg`);
  t.equal(bad.exitCode, 1, 'a wrong passphrase: exit 1', { output: describe(bad) });
  const alone = await rootless.run(`mreg restore --force --passphrase-file ${chain}/pass ${flags} ${chain}/incr.tar.gpg`);
  t.equal(alone.exitCode, 2, 'the incremental backup alone: exit 2', { output: describe(alone) });
  t.match(alone.stderr, /builds on an earlier backup/);
  t.equal((await rootless.run(`${rootless.systemctl} show -P MainPID quay-app`)).stdout.trim(), pid, 'the rootless registry was not touched by either');
  const since = (await rootless.run('date +%s')).stdout.trim();
  const res = await rootless.run(`mreg restore --force --passphrase-file ${chain}/pass ${flags} ${chain}/full.tar ${chain}/incr.tar.gpg`, { timeoutMs: 30 * 60_000 });
  t.equal(res.exitCode, 0, 'the chain restores as rootless under the new name, replacing the rootless registry (--force)', { output: describe(res) });
  t.equal(await migrationsSince(t, rootless, since), '0', 'Quay first started on the restored database');
  t.match(res.stderr, /--force: replacing the rootless registry at \/home\/mreg\/quay-install/, 'says what it replaces');
  t.match(res.stderr, /blobs from 1 earlier backup/);
  const san = await rootless.run(`openssl x509 -in ${rootless.quayRoot}/quay-config/ssl.cert -noout -ext subjectAltName`);
  t.match(san.stdout, new RegExp(`DNS:${newName.replace(/\./g, '\\.')}`), 'a certificate for the new name');
  const login = await rootless.run(`set -e; d=${rootless.certsDir}/${host}; mkdir -p "$d"; cp ${rootless.quayRoot}/quay-rootCA/rootCA.pem "$d/ca.crt"
    podman login -u ${creds.username} --password-stdin ${host}`, { input: creds.password });
  t.equal(login.exitCode, 0, 'rootful\'s first user logs in with its old password', { output: describe(login) });
  const one = await pull(rootless, `${host}/${creds.username}/tiny:one`);
  t.equal(one.stdout.trim(), base.get('rootful')?.digest, 'tiny:one pulls with the digest pushed to rootful', { output: describe(one) });
  const c = await pull(rootless, `${host}/${creds.username}/bk:c`);
  t.equal(c.exitCode, 0, 'bk:c (only in the incremental backup) pulls', { output: describe(c) });
  const a = await pull(rootless, `${host}/${creds.username}/bk:a`);
  t.equal(a.exitCode, 0, 'bk:a (inherited from the full backup) pulls', { output: describe(a) });
});

/**
 * How many schema migrations quay-app logged since `since` (epoch seconds): Quay migrates at every start
 * (alembic's "Running upgrade"), so an empty database started on before its data came back shows one.
 * First asserts that the same read returned quay-app's lines at all: an empty journal shows no migration either.
 */
async function migrationsSince(t: Test, s: Scope, since: string): Promise<string> {
  const r = await s.run(`${s.journalctl} -u quay-app --no-pager -o cat --since @${since} | awk '{ n++ } /Running upgrade/ { m++ } END { print n + 0, m + 0 }'`);
  const [lines = '', migrations = ''] = r.stdout.trim().split(' ');
  t.ok(Number(lines) > 0, `${s.name}: quay-app logged since the restore began (${lines} lines)`, { output: describe(r) });
  return migrations;
}
