// mreg cert trust / rotate for real, rootful and rootless side by side: trust the CA so podman login needs no manual copy,
// reissue from mreg's CA, install a user-made pair, refuse a mismatched key, and only quay-app restarts.
// Starts from the shared base install (base.ts). down --purge after cert trust is mreg.test.ts's.
// trust runs in both scopes; the reissue in rootless and the user-made pair in rootful, at the same time:
// each restarts quay-app through the same code, and on two emulated cores both scopes cost nearly twice.
import t from 'tap';
import { requireVm, describe, sideBySide, FQDN, type GuestResult, type Scope } from './guest.js';
import { useBase, BASE_SCOPES as SCOPES, type BaseInstall } from './base.js';

requireVm();
t.setTimeout(60 * 60_000);

// Scratch space for the user-made CA and leaf, in each scope's home.
const WORK_DIRS: Record<Scope['name'], string> = { rootful: '/root/mreg-cert-test', rootless: '/home/mreg/mreg-cert-test' };

interface UpResult { username: string; password: string; caPath: string }
let base = new Map<string, BaseInstall>();
t.before(async () => { base = await useBase(); });

const json = <T>(r: GuestResult): T | undefined => { try { return JSON.parse(r.stdout) as T; } catch { return undefined; } };

sideBySide(t, 'trust, rotate, user-made pair (both scopes at once)', SCOPES, (t, s) => {
  const run = s.run;
  const PORT = s.port;
  const HOST = s.host;
  const CERTS_D = `${s.certsDir}/${HOST}`;
  const WORK = WORK_DIRS[s.name];
  let creds: UpResult | undefined;

  /** SHA-256 fingerprint of what 127.0.0.1:PORT presents for the registry's name (openssl's AA:BB form). */
  async function served(): Promise<string> {
    const r = await run(`openssl s_client -connect 127.0.0.1:${PORT} -servername ${FQDN} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`);
    return r.stdout.trim().replace(/^.*=/, '');
  }

  async function backendPids(): Promise<string> {
    return (await run(`${s.systemctl} show -p MainPID --value quay-postgres quay-redis`)).stdout.trim().replace(/\n/g, ' ');
  }

  async function pushPull(tag: string): Promise<GuestResult> {
    const ref = `${HOST}/${creds!.username}/tiny:${tag}`;
    return run(`set -e; podman tag localhost/mreg-test/tiny:1 ${ref}; podman push -q ${ref}; podman rmi ${ref} >/dev/null
      podman pull -q ${ref} >/dev/null; podman rmi ${ref} >/dev/null`);
  }

  t.test(`${s.name}: on the base install, mreg cert trust makes podman login work`, async t => {
    creds = base.get(s.name)?.json;
    if (!creds) return t.fail('no base install');
    await run(`podman logout ${HOST}; rm -rf ${CERTS_D}`);
    const dry = await run('mreg cert trust --dry-run --json');
    const planned = json<{ plan: { id: string }[] }>(dry)?.plan.map(p => p.id);
    t.ok(planned?.includes('write-ca'), 'the dry run plans the CA\'s write', { output: describe(dry) });
    const tr = await run('mreg cert trust --json');
    t.equal(tr.exitCode, 0, 'cert trust exits 0', { output: describe(tr) });
    t.equal(json<{ path: string }>(tr)?.path, `${CERTS_D}/ca.crt`);
    t.same(json<{ steps: string[] }>(tr)?.steps, planned, 'the steps it took are the dry run\'s plan');
    t.equal((await run(`cmp ${creds.caPath} ${CERTS_D}/ca.crt && stat -c %a ${CERTS_D}/ca.crt`)).stdout.trim(), '644', 'the CA, mode 0644');
    const again = await run('mreg cert trust --json');
    t.equal(json<{ unchanged: boolean }>(again)?.unchanged, true, 'second trust changes nothing');
    const l = await run(`podman login -u ${creds.username} --password-stdin ${HOST}`, { input: creds.password });
    t.equal(l.exitCode, 0, 'podman login without copying the CA by hand', { output: describe(l) });
    const p = await pushPull('before');
    t.equal(p.exitCode, 0, 'push and pull', { output: describe(p) });
  });

  if (s.name === 'rootless') t.test(`${s.name}: cert rotate (reissue from mreg's CA) restarts quay-app only`, async t => {
    if (!creds) return t.fail('no install');
    const pids = await backendPids();
    const before = await served();
    t.match(before, /^[0-9A-F:]{95}$/, 'a certificate is served');
    const dry = await run('mreg cert rotate --dry-run');
    t.equal(dry.exitCode, 0, 'dry run', { output: describe(dry) });
    t.equal(await served(), before, 'dry run changed nothing');
    const t0 = Date.now();
    const r = await run('mreg cert rotate --json', { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, 'rotate exits 0', { output: describe(r) });
    t.comment(`cert rotate (reissue) took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const res = json<{ fingerprint256: string; previousFingerprint256: string; served: boolean; source: string }>(r);
    t.equal(res?.source, 'reissue');
    t.equal(res?.previousFingerprint256, before);
    const after = await served();
    t.not(after, before, 'served certificate changed');
    t.equal(after, res?.fingerprint256, 'served certificate is the new one');
    const v = await run(`openssl s_client -connect 127.0.0.1:${PORT} -servername ${FQDN} -CAfile ${CERTS_D}/ca.crt -verify_hostname ${FQDN} -verify_return_error </dev/null 2>&1 | grep 'Verify return code'`);
    t.match(v.stdout, /Verify return code: 0 \(ok\)/, 'still verifies with the trusted CA', { output: describe(v) });
    t.equal((await run(`stat -c %a ${s.quayRoot}/quay-config/ssl.cert ${s.quayRoot}/quay-config/ssl.key`)).stdout.trim(), '640\n640');
    const p = await pushPull('reissued');
    t.equal(p.exitCode, 0, 'push and pull after the rotation', { output: describe(p) });
    t.equal(await backendPids(), pids, 'postgres and redis were not restarted');
  });

  if (s.name === 'rootful') t.test(`${s.name}: cert rotate with a user-made pair; a mismatched key changes nothing; --new-ca back to mreg's`, async t => {
    if (!creds) return t.fail('no install');
    const mk = await run(`set -e; rm -rf ${WORK}; mkdir -p ${WORK}; cd ${WORK}
      printf '[req]\\ndistinguished_name=dn\\nprompt=no\\n[dn]\\nCN=mreg test CA 2\\n[v3]\\nbasicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\nsubjectKeyIdentifier=hash\\n' > ca.cnf
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 30 -config ca.cnf -extensions v3 2>/dev/null
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=${FQDN} 2>/dev/null
      printf 'subjectAltName=DNS:${FQDN}\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\nkeyUsage=critical,digitalSignature\\n' > leaf.ext
      openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -out leaf.crt -extfile leaf.ext 2>/dev/null
      cat leaf.crt ca.crt > chain.pem
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key
      openssl x509 -in leaf.crt -noout -fingerprint -sha256 | sed 's/^.*=//'`);
    t.equal(mk.exitCode, 0, 'made a CA and a leaf with openssl', { output: describe(mk) });
    const leafFp = mk.stdout.trim().split('\n').pop()!;
    const pids = await backendPids();

    const r = await run(`mreg cert rotate --sslCert ${WORK}/chain.pem --sslKey ${WORK}/leaf.key --json`, { timeoutMs: 20 * 60_000 });
    t.equal(r.exitCode, 0, 'rotate to the user pair', { output: describe(r) });
    t.equal(await served(), leafFp, 'the user certificate is served');
    const rec = await run(`jq -c .spec.tls ${s.quayRoot}/mreg-install.json`);
    t.same(JSON.parse(rec.stdout), { kind: 'provided', certPath: `${WORK}/chain.pem`, keyPath: `${WORK}/leaf.key`, skipCheck: false }, 'install record updated');
    const refuse = await run('mreg cert rotate');
    t.equal(refuse.exitCode, 2, 'reissue refused for a user-provided install', { output: describe(refuse) });

    const tr = await run('mreg cert trust --json');
    t.equal(tr.exitCode, 0, 'trust installs the chain\'s CA', { output: describe(tr) });
    t.equal((await run(`cmp ${WORK}/ca.crt ${CERTS_D}/ca.crt && echo same`)).stdout.trim(), 'same', 'certs.d holds the new CA');
    const p = await pushPull('user');
    t.equal(p.exitCode, 0, 'push and pull with the user certificate', { output: describe(p) });

    const bad = await run(`mreg cert rotate --sslCert ${WORK}/chain.pem --sslKey ${WORK}/other.key`);
    t.equal(bad.exitCode, 2, 'mismatched key: exit 2', { output: describe(bad) });
    t.match(bad.stderr, /key does not match/, 'names the problem');
    t.equal(await served(), leafFp, 'served certificate unchanged');

    // Back from the user's pair to a CA of mreg's (a new one: the install's old CA may be why they left it).
    const back = await run('mreg cert rotate --new-ca --json', { timeoutMs: 20 * 60_000 });
    t.equal(back.exitCode, 0, 'rotate --new-ca exits 0', { output: describe(back) });
    const res = json<{ source: string; fingerprint256: string }>(back);
    t.equal(res?.source, 'new-ca');
    t.equal(await served(), res?.fingerprint256, 'the certificate from the new CA is served');
    t.same(JSON.parse((await run(`jq -c .spec.tls ${s.quayRoot}/mreg-install.json`)).stdout), { kind: 'generate' }, 'the record is on mreg\'s CA again');
    const again = await run('mreg cert trust --json');
    t.equal(again.exitCode, 0, 'trust installs the new CA', { output: describe(again) });
    t.equal((await run(`cmp ${s.quayRoot}/quay-rootCA/rootCA.pem ${CERTS_D}/ca.crt && echo same`)).stdout.trim(), 'same', 'certs.d holds the new CA');
    const v = await run(`openssl s_client -connect 127.0.0.1:${PORT} -servername ${FQDN} -CAfile ${CERTS_D}/ca.crt -verify_hostname ${FQDN} -verify_return_error </dev/null 2>&1 | grep 'Verify return code'`);
    t.match(v.stdout, /Verify return code: 0 \(ok\)/, 'the served chain verifies with it', { output: describe(v) });
    const p2 = await pushPull('new-ca');
    t.equal(p2.exitCode, 0, 'push and pull on the new CA', { output: describe(p2) });
    t.equal(await backendPids(), pids, 'postgres and redis were not restarted');
  });
});
