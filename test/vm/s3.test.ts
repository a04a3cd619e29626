// Issue 18, part 1: a fresh install whose blobs live in a real S3 engine (Ceph RGW in the guest,
// test/vm/s3.ts), both scopes at once: rootful over http, rootless over https with --s3CaBundle.
// Before the install, a refused key pair, a closed port and a missing bucket each exit 1 with
// nothing changed; then push and pull by digest, the blobs listed through the S3 API, status,
// a re-run with no flags, and a backup that leaves the blobs out.
import t, { type Test } from 'tap';
import { requireVm, describe, sideBySide, type Scope } from './guest.js';
import { SCOPES, login, parseJson, pullDigest, pushTiny, upCmd, type Creds } from './scopes.js';
import { fromClean } from './snapshot.js';
import { createHash } from 'node:crypto';
import { createBucket, s3Put, s3List, s3PutSigned, startS3, S3 } from './s3.js';

requireVm();
t.setTimeout(60 * 60_000);

const bucket = (s: Scope) => `quay-${s.name}`;
const PREFIX = 'mirror';
const RESTORE_SCOPE: Scope['name'] = 'rootless';

t.before(async () => {
  await fromClean();
  await startS3({ fresh: true });
  for (const s of SCOPES) await createBucket(bucket(s));
});

sideBySide(t, 'install on S3 (both scopes at once)', SCOPES, (t, s) => {
  const run = s.run;
  const creds = `${s.home}/s3-credentials`;
  const caFile = `${s.home}/rgw-ca.pem`;
  const endpoint = s.name === 'rootful' ? S3.endpoint : S3.httpsEndpoint;
  const tls = s.name === 'rootful' ? '' : `--s3CaBundle ${caFile}`;
  const s3Flags = (b: string, file = creds, ep = endpoint) => `--quayStorage s3://${b}/${PREFIX} --s3Endpoint ${ep} --s3CredentialsFile ${file} ${tls}`;
  let c: Creds | undefined;
  let pushedDigest = '';

  /** Nothing of an install exists in this scope: no quayRoot, no Quadlet file, no unit. */
  async function nothingChanged(t: Test, what: string) {
    const r = await run(`test ! -e ${s.quayRoot} && test ! -e ${s.quadletDir}/quay-app.container && ! podman secret ls --format '{{.Name}}' | grep -q quay`);
    t.equal(r.exitCode, 0, `${what}: nothing changed`, { output: describe(r) });
  }

  t.test(`${s.name}: a refused key pair, a closed port and a missing bucket exit 1, nothing changed`, async t => {
    const w = await run(`umask 077; printf '[default]\\naws_access_key_id = %s\\naws_secret_access_key = %s\\n' ${S3.accessKey} ${S3.secretKey} > ${creds}
      printf '[default]\\naws_access_key_id = %s\\naws_secret_access_key = wrong\\n' ${S3.accessKey} > ${creds}.bad
      sudo cat /etc/ceph/rgw.crt > ${caFile}`);
    t.equal(w.exitCode, 0, 'key files written', { output: describe(w) });
    const bad = await run(upCmd(s, s3Flags(bucket(s), `${creds}.bad`)), { timeoutMs: 600_000 });
    t.equal(bad.exitCode, 1, 'wrong secret key: exit 1', { output: describe(bad) });
    t.match(bad.stderr, /could not sign in: HTTP 403/);
    await nothingChanged(t, 'wrong secret key');
    const closed = await run(upCmd(s, s3Flags(bucket(s), creds, endpoint.replace(/:\d+$/, ':7999'))), { timeoutMs: 600_000 });
    t.equal(closed.exitCode, 1, 'nothing listening: exit 1', { output: describe(closed) });
    t.match(closed.stderr, /could not reach the endpoint: ECONNREFUSED/);
    const missing = await run(upCmd(s, s3Flags(`${bucket(s)}-none`)), { timeoutMs: 600_000 });
    t.equal(missing.exitCode, 1, 'no such bucket: exit 1', { output: describe(missing) });
    t.match(missing.stderr, /could not find the bucket: bucket quay-\w+-none does not exist\n\s+hint: create it, or pass --s3CreateBucket/);
    await nothingChanged(t, 'unreachable endpoint, missing bucket');
    // Another registry's blobs under the prefix (its Quay would delete ours, ours its): refused, from a real ListObjectsV2.
    await s3Put(bucket(s), 'foreign/sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', 'hello');
    const taken = await run(upCmd(s, s3Flags(bucket(s)).replace(`/${PREFIX} `, '/foreign ')), { timeoutMs: 600_000 });
    t.equal(taken.exitCode, 2, 'a prefix holding another registry\'s blobs: exit 2', { output: describe(taken) });
    t.match(taken.stderr, /already holds a registry's blobs \(foreign\/sha256\/…\) and is not this install's/);
    await nothingChanged(t, 'a prefix of another registry');
    t.same((await s3List(bucket(s))).filter(k => !k.startsWith('foreign/')), [], 'the write check left nothing in the bucket');
  });

  t.test(`${s.name}: mreg up on S3; push, pull by digest, the blobs are in the bucket`, async t => {
    const t0 = Date.now();
    const r = await run(`${upCmd(s, s3Flags(bucket(s)))} --json`, { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, 'mreg up exits 0', { output: describe(r) });
    t.comment(`${s.name}: mreg up on S3 took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    c = parseJson<Creds>(r);
    if (!c) return t.fail('no credentials in the JSON');
    const volumes = await run(`grep -c '^Volume=' ${s.quadletDir}/quay-app.container`);
    t.equal(volumes.stdout.trim(), '1', 'quay-app mounts its config only');
    const cfg = await run(`stat -c %a ${s.quayRoot}/quay-config/config.yaml; grep -c RadosGWStorage ${s.quayRoot}/quay-config/config.yaml`);
    t.equal(cfg.stdout.trim(), '640\n1', 'config.yaml (0640) names RadosGWStorage');
    t.equal((await login(s, c)).exitCode, 0, 'podman login');
    const pushed = await pushTiny(s, c);
    t.equal(pushed.r.exitCode, 0, 'push', { output: describe(pushed.r) });
    pushedDigest = pushed.digest;
    // Rootless reaches RGW over https with a certificate podman does not trust: a blob redirected to the
    // bucket would fail here, so this pull also proves FEATURE_PROXY_STORAGE keeps clients on the registry.
    const pulled = await pullDigest(s, c);
    t.equal(pulled.digest, pushed.digest, 'pull by digest gives what was pushed', { output: describe(pulled.r) });
    const keys = await s3List(bucket(s), `${PREFIX}/`);
    const hex = pushed.digest.replace(/^sha256:/, '');
    t.ok(keys.some(k => k.includes(hex)), `the manifest ${pushed.digest} is in s3://${bucket(s)}/${PREFIX}/`, { keys: keys.slice(0, 20) });
    t.ok(keys.filter(k => /\/blobs\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\/data$/.test(k)).length >= 3, 'config, layer and manifest blobs are objects');
    t.ok(keys.every(k => k.startsWith(`${PREFIX}/`)), 'everything under the prefix');
  });

  t.test(`${s.name}: status shows the bucket; a re-run with no flags changes nothing; backup leaves the blobs out`, async t => {
    if (!c) return t.fail('no install');
    const st = await run('mreg status --json', { timeoutMs: 300_000 });
    t.equal(st.exitCode, 0, 'healthy', { output: describe(st) });
    const storage = parseJson<{ storage: Array<{ name: string; location: string; reachable?: boolean }> }>(st)?.storage ?? [];
    t.match(storage.find(x => x.name === 'quayStorage'), { location: `s3://${bucket(s)}/${PREFIX} at ${endpoint}`, reachable: true });
    const again = await run('mreg up --json', { timeoutMs: 20 * 60_000 });
    t.equal(again.exitCode, 0, 're-run exits 0', { output: describe(again) });
    t.equal(parseJson<{ unchanged: boolean }>(again)?.unchanged, true, 'nothing changed');
    const b = await run(`mreg backup ${s.home}/s3-install.tar`, { timeoutMs: 20 * 60_000 });
    t.equal(b.exitCode, 0, 'backup exits 0', { output: describe(b) });
    t.match(b.stdout + b.stderr, new RegExp(`blobs not included: they stay in s3://${bucket(s)}/${PREFIX}`));
    const members = await run(`tar -tf ${s.home}/s3-install.tar | grep -c '/blobs/sha256/' || true`);
    t.equal(members.stdout.trim(), '0', 'no blob in the archive');
  });

  t.test(`${s.name}: export openshift writes the bundle, the QuayRegistry and a dump`, async t => {
    const dir = `${s.home}/to-openshift`;
    const e = await run(`mreg export openshift ${dir} --namespace mirror --json`, { timeoutMs: 10 * 60_000 });
    t.equal(e.exitCode, 0, 'export exits 0', { output: describe(e) });
    t.same(parseJson<{ files: string[] }>(e)?.files, ['config-bundle-secret.yaml', 'quayregistry.yaml', 'README.md', 'quay-database.dump']);
    const f = await run(`cd ${dir} && stat -c '%n %a' . config-bundle-secret.yaml quay-database.dump && head -c 5 quay-database.dump && echo
      grep -c 'kind: QuayRegistry' quayregistry.yaml; grep -o 'namespace: mirror' config-bundle-secret.yaml | head -1`);
    t.equal(f.stdout.trim(), '. 700\nconfig-bundle-secret.yaml 600\nquay-database.dump 600\nPGDMP\n1\nnamespace: mirror', 'modes, a pg_dump archive, the resources', { output: describe(f) });
    const again = await run(`mreg export openshift ${dir}`);
    t.equal(again.exitCode, 2, 'a folder that is not empty is refused');
    // The README's step 3 on real PostgreSQL: the dump goes into a database another role owns, with
    // pg_trgm made first. A dump with the superuser's COMMENT ON EXTENSION made pg_restore exit 1 there.
    const db = 'exportcheck';
    const restored = await run(`podman cp ${dir}/quay-database.dump quay-postgres:/tmp/export.dump && podman exec quay-postgres bash -c '
      set -e; createuser ${db}; createdb -O ${db} ${db}; psql -q -d ${db} -c "CREATE EXTENSION IF NOT EXISTS pg_trgm"
      pg_restore --no-owner --role=${db} -d ${db} /tmp/export.dump; psql -tA -d ${db} -c "select count(*) from pg_tables where schemaname = current_schema() and tableowner <> current_user"
      dropdb ${db}; dropuser ${db}; rm /tmp/export.dump'`);
    t.equal(restored.exitCode, 0, 'the README\'s pg_restore into a database of another owner exits 0', { output: describe(restored) });
    t.ok(Number(restored.stdout.trim().split('\n').pop()) > 0, 'and its tables belong to that owner', { output: describe(restored) });
  });

  // One scope (CI's budget): what this checks (the key file, the bucket, the recorded path) is the same code in
  // both; a restore in each scope runs in backup.test.ts. Rootless: https with --s3CaBundle, the longer path.
  if (s.name === RESTORE_SCOPE) t.test(`${s.name}: restore of the S3 install checks its key pair and bucket first, and takes the key file from a new place`, async t => {
    if (!c) return t.fail('no install');
    const archive = `${s.home}/s3-install.tar`;
    // Refusals while the install runs: each is about the object storage, before the live install is even looked at.
    const noKeys = await run(`mreg restore ${archive} --s3CredentialsFile ${s.home}/no-such-keys`, { timeoutMs: 10 * 60_000 });
    t.equal(noKeys.exitCode, 2, 'a key file that is not there: exit 2', { output: describe(noKeys) });
    t.match(noKeys.stderr, `--s3CredentialsFile ${s.home}/no-such-keys: no such file`);
    const local = await run(`mreg restore ${archive} --quayStorage quay-storage`, { timeoutMs: 10 * 60_000 });
    t.equal(local.exitCode, 2, '--quayStorage for an object-storage backup: exit 2', { output: describe(local) });
    t.match(local.stderr, /--quayStorage: the backed-up install keeps its blobs in s3:\/\/.*the backup holds none of them/);
    const wrong = await run(`mreg restore ${archive} --s3CredentialsFile ${creds}.bad`, { timeoutMs: 10 * 60_000 });
    t.equal(wrong.exitCode, 1, 'a refused key pair: exit 1', { output: describe(wrong) });
    t.match(wrong.stderr, /could not sign in: HTTP 403/);
    // A new host keeps the key file elsewhere: after down --purge and a move, the recorded path is gone.
    const d = await run(`mreg down --purge --yes && mv ${creds} ${creds}.moved`, { timeoutMs: 10 * 60_000 });
    t.equal(d.exitCode, 0, 'down --purge, key file moved', { output: describe(d) });
    const missing = await run(`mreg restore ${archive}`, { timeoutMs: 10 * 60_000 });
    t.equal(missing.exitCode, 2, 'the recorded key file is gone: exit 2', { output: describe(missing) });
    t.match(missing.stderr, /give --s3CredentialsFile FILE/, 'the hint names the flag');
    t.equal((await run(`test -e ${s.quayRoot} && echo made; true`)).stdout.trim(), '', 'nothing was made');
    const r = await run(`mreg restore ${archive} --s3CredentialsFile ${creds}.moved`, { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, 'restore with the key file at its new place exits 0', { output: describe(r) });
    t.match(r.stderr, /warning: the restored registry keeps its blobs where the backed-up one wrote them \(s3:\/\/\S+ at \S+\): if the registry it was taken from \(\S+\) still runs on another host, stop it for good/,
      'says the registry it came from must not run on the same prefix');
    t.equal((await run(`jq -r .spec.quayStorage.credentialsFile ${s.quayRoot}/mreg-install.json`)).stdout.trim(), `${creds}.moved`, 'the record names the new place');
    t.equal((await login(s, c)).exitCode, 0, 'the old credentials log in');
    const pulled = await pullDigest(s, c);
    t.equal(pulled.digest, pushedDigest, 'what was pushed before the backup pulls from the same bucket', { output: describe(pulled.r) });
  });
});

// What storage migrate relies on (src/apply/blob-migrate.ts) and test/support/fake-s3.ts imitates: a blob
// PUT signed with its digest is refused when the body hashes otherwise, and nothing is stored.
t.test('the engine refuses a body that does not hash to its signed sha256, and stores nothing', async t => {
  const sha = (x: string) => createHash('sha256').update(x).digest('hex');
  const b = bucket(SCOPES[0]!);
  t.same(await s3PutSigned(b, 'signed/bad', 'evil', sha('good')), { code: 400, error: 'XAmzContentSHA256Mismatch' }, 'refused');
  t.same(await s3PutSigned(b, 'signed/good', 'good', sha('good')), { code: 200, error: '' }, 'the right body is taken');
  t.same(await s3List(b, 'signed/'), ['signed/good'], 'only the right body is stored');
});
