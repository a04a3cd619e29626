// mreg backup / restore for real, both scopes side by side, on the shared base install (tiny:one pushed):
// a backup while pulls, pushes and tag deletes run (no pull fails), --verify, status shows it, kill -9
// while the archive is written (nothing under the target name, the next run succeeds), a damaged copy
// (verify and restore exit 1, nothing changed), restore refused over a live install, then
// down --purge and restore: every tag the restored registry lists pulls, tiny:one with the digest it
// was pushed with, and the old password logs in.
import t from 'tap';
import { requireVm, describe, sideBySide, type Scope } from './guest.js';
import { useBase, BASE_SCOPES as scopes, type BaseInstall } from './base.js';
import { killWhen, parseJson } from './scopes.js';

requireVm();
t.setTimeout(60 * 60_000);

let base = new Map<string, BaseInstall>();
t.before(async () => { base = await useBase(); });

const dir = (s: Scope) => (s.name === 'rootful' ? '/var/tmp/mreg-backups' : '/home/mreg/backups');
const repo = (s: Scope, user: string) => `${s.host}/${user}`;

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
      podman tag localhost/bk/${s.name}:a ${repo(s, user)}/bk:a2; podman push -q ${repo(s, user)}/bk:a2`);
    t.equal(pre.exitCode, 0, 'pushed bk:a, bk:b, bk:a2', { output: describe(pre) });
    // While the backup runs: pull tiny:one in a loop (counting failures), push new tags, delete bk:b.
    const bg = `${dir(s)}/bg`;
    await s.run(`setsid bash -c 'fails=0; n=0; while [ ! -e ${bg}.stop ]; do n=$((n+1)); podman pull -q ${repo(s, user)}/tiny:one >/dev/null 2>&1 || fails=$((fails+1)); done; echo "$n $fails" > ${bg}.pulls' </dev/null >/dev/null 2>&1 &
      setsid bash -c 'i=0; while [ ! -e ${bg}.stop ]; do i=$((i+1)); d=$(mktemp -d); echo "during $i" > "$d/f"; tar -C "$d" -c f | podman import -q - localhost/bk/${s.name}:c$i >/dev/null; rm -rf "$d"
        podman tag localhost/bk/${s.name}:c$i ${repo(s, user)}/bk:during-$i; podman push -q ${repo(s, user)}/bk:during-$i >/dev/null 2>&1 && echo ok >> ${bg}.pushes; done' </dev/null >/dev/null 2>&1 &
      sleep 2`);
    const del = s.run(`IFS= read -r pw; sleep 3; ca=${s.quayRoot}/quay-rootCA/rootCA.pem
      dg=$(curl -sI --cacert $ca -u ${user}:"$pw" -H 'accept: application/vnd.oci.image.manifest.v1+json' -H 'accept: application/vnd.docker.distribution.manifest.v2+json' https://${s.host}/v2/${user}/bk/manifests/b | tr -d '\\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
      curl -s -o /dev/null -w '%{http_code}' -X DELETE --cacert $ca -u ${user}:"$pw" https://${s.host}/v2/${user}/bk/manifests/$dg`, { input: `${password}\n` });
    const r = await s.run(`mreg backup ${file()} --json`, { timeoutMs: 20 * 60_000 });
    const deleted = await del;
    await s.run(`touch ${bg}.stop; for i in $(seq 60); do [ -e ${bg}.pulls ] && break; sleep 1; done`);
    t.equal(r.exitCode, 0, 'mreg backup exits 0', { output: describe(r) });
    t.equal(deleted.stdout.trim(), '202', 'bk:b was deleted while the backup ran', { output: describe(deleted) });
    const pulls = (await s.run(`cat ${bg}.pulls; wc -l < ${bg}.pushes 2>/dev/null || echo 0`)).stdout.trim().split(/\s+/);
    t.ok(Number(pulls[0]) > 0, `pulls ran during the backup (${pulls[0]})`);
    t.equal(pulls[1], '0', 'no pull failed during the backup');
    t.comment(`${s.name}: ${pulls[0]} pulls, ${pulls[2]} pushes during the backup`);
    const json = parseJson<{ file: string; bytes: number; blobs: number; durationMs: number }>(r);
    t.equal(json?.file, file(), 'the JSON names the file');
    t.comment(`${s.name}: backup ${json?.bytes} bytes, ${json?.blobs} blobs in ${json?.durationMs} ms`);
    const mode = await s.run(`stat -c %a ${file()}; ls -A ${dir(s)} | grep -c mreg || true`);
    t.equal(mode.stdout.split('\n')[0], '600', 'the backup is 0600: it holds every secret');
    t.equal(mode.stdout.split('\n')[1], '0', 'no partial file or staging folder is left');
    const v = await s.run(`mreg backup --verify ${file()}`);
    t.equal(v.exitCode, 0, '--verify exits 0', { output: describe(v) });
    t.match(v.stdout, /complete, every checksum matches/);
    const st = await s.run('mreg status --json');
    t.equal(parseJson<{ lastBackup?: { file: string } }>(st)?.lastBackup?.file, file(), 'status shows the last backup');
  });

  t.test(`${s.name}: kill -9 while the archive is written, then again`, async t => {
    // A 256 MiB blob (named by its digest, as Quay stores one) keeps tar writing long enough to be killed in it.
    const root = s.name === 'rootful' ? '/srv/mreg-blobs' : '/home/mreg/.local/share/containers/storage/volumes/quay-storage/_data';
    const inNs = s.name === 'rootful' ? '' : 'podman unshare ';
    const big = await s.run(`set -e; f=$(mktemp -p ${dir(s)}); head -c 256M /dev/urandom > "$f"; h=$(sha256sum < "$f" | cut -c1-64)
      ${inNs}sh -c 'mkdir -p "$1/sha256/$(echo $2 | cut -c1-2)" && mv "$3" "$1/sha256/$(echo $2 | cut -c1-2)/$2"' sh ${root} "$h" "$f"; echo "${root}/sha256/$(echo $h | cut -c1-2)/$h"`);
    t.equal(big.exitCode, 0, 'a big blob in the storage', { output: describe(big) });
    const k = await killWhen(s, `mreg backup ${dir(s)}/killed.tar`, '==> write ', 0.3);
    t.ok(k.killed, 'killed while writing', { output: k.log });
    const after = await s.run(`ls -A ${dir(s)}`);
    t.notMatch(after.stdout, /^killed\.tar$/m, 'nothing under the target name', { output: after.stdout });
    const again = await s.run(`mreg backup ${dir(s)}/killed.tar`, { timeoutMs: 20 * 60_000 });
    t.equal(again.exitCode, 0, 'the next run succeeds', { output: describe(again) });
    const left = await s.run(`ls -A ${dir(s)} | grep -c partial || true`);
    t.equal(left.stdout.trim(), '0', 'and leaves no partial file');
    await s.run(`${inNs}rm -f ${big.stdout.trim()}; rm -f ${dir(s)}/killed.tar`);
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

  t.test(`${s.name}: down --purge, restore: every tag pulls, the old password logs in`, async t => {
    const ca = (await s.run(`sha256sum ${s.quayRoot}/quay-rootCA/rootCA.pem | cut -c1-64`)).stdout.trim();
    const before = await tagsOf(s, user, password, ['tiny', 'bk']);
    t.ok(before.includes(`${repo(s, user)}/bk:a2`), 'bk:a2 is listed before', { before });
    const down = await s.run('mreg down --purge --yes', { timeoutMs: 10 * 60_000 });
    t.equal(down.exitCode, 0, 'down --purge', { output: describe(down) });
    const r = await s.run(`mreg restore ${file()}`, { timeoutMs: 30 * 60_000 });
    t.equal(r.exitCode, 0, 'mreg restore exits 0', { output: describe(r) });
    t.match(r.stderr, /restored \d+ files from the backup/);
    t.equal((await s.run(`sha256sum ${s.quayRoot}/quay-rootCA/rootCA.pem | cut -c1-64`)).stdout.trim(), ca, 'same CA');
    const login = await s.run(`podman logout ${s.host} >/dev/null 2>&1 || true; podman login -u ${user} --password-stdin ${s.host}`, { input: password });
    t.equal(login.exitCode, 0, 'the old password logs in', { output: describe(login) });
    const one = await pull(s, `${repo(s, user)}/tiny:one`);
    t.equal(one.stdout.trim(), digest, 'tiny:one pulls with the digest it was pushed with', { output: describe(one) });
    const after = await tagsOf(s, user, password, ['tiny', 'bk']);
    for (const tag of ['tiny:one', 'bk:a', 'bk:a2']) t.ok(after.includes(`${repo(s, user)}/${tag}`), `${tag} is back`);
    for (const ref of after) {
      const p = await pull(s, ref);
      t.equal(p.exitCode, 0, `${ref} pulls`, { output: describe(p) });
    }
    const st = await s.run('mreg status --json');
    t.equal(parseJson<{ healthy: boolean }>(st)?.healthy, true, 'status is healthy', { output: describe(st) });
  });
});
