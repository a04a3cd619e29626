// A mirror-registry install in the guest, laid down from a rendered fixture (test/fixtures/mirror-registry):
// the scenario is rendered again by the role renderer for the guest's user, host name and port, then its
// files, directories and ACLs, volumes, secrets, enable links and openssl files are made as the role makes
// them, with the contract images tagged under the release's image names, and the units started.
import { posix } from 'node:path';
import { loadFixtureInput, renderFixture } from '../support/mirror-registry/fixtures.js';
import { RELEASES } from '../support/mirror-registry/releases.js';
import type { HostState } from '../support/mirror-registry/role.js';
import { asRoot, FQDN, IMG, type GuestResult, type Scope } from './guest.js';
import { caPath, shellQuote } from './scopes.js';

export interface RenderedInstall {
  /** The scope with the fixture's quayRoot (tests compare paths with it). */
  scope: Scope;
  state: HostState;
  /** Where the role put the units (plain .service files). */
  unitDir: string;
  /** The images of the last release the scenario ran, as its units name them. */
  images: { quay: string; postgres: string; redis: string; pause: string };
}

/** Renders fixture `name` for the guest user of `s`, with `s.host` as its --quayHostname. */
export function renderForGuest(name: string, s: Scope): RenderedInstall {
  const input = loadFixtureInput(name);
  if ((input.host.uid === 0) !== (s.name === 'rootful')) throw new Error(`${name} is not a ${s.name} fixture`);
  const host = { user: s.name === 'rootful' ? 'root' : 'mreg', uid: s.uid, home: s.home, fqdn: FQDN };
  const state = renderFixture({
    ...input, host,
    install: { ...input.install, flags: { ...input.install.flags, quayHostname: s.host } },
    ...(input.upgrade ? { upgrade: { ...input.upgrade, flags: { ...input.upgrade.flags, quayHostname: s.host } } } : {}),
  });
  const images = RELEASES[(input.upgrade ?? input.install).release].images;
  return { scope: { ...s, quayRoot: state.quayRoot }, state, unitDir: state.unitDir, images };
}

/**
 * Makes the install and starts it; resolves when /health/instance answers 200 (the result of the last
 * step says why when it does not).
 */
export async function installRendered(r: RenderedInstall): Promise<GuestResult> {
  const { scope: s, state, images } = r;
  // Folders outside the user's home: root makes them and gives them to the user, as an admin would
  // before running mirror-registry as that user.
  const outside = [state.quayRoot, ...state.directories.keys()].filter(p => !p.startsWith(`${s.home}/`));
  if (s.name === 'rootless' && outside.length > 0) {
    const made = await asRoot(outside.map(p => `install -d -o mreg -g mreg ${shellQuote(p)}`).join('\n'));
    if (made.exitCode !== 0) return made;
  }
  return s.run(installScript(s, state, images), { timeoutMs: 20 * 60_000 });
}

/**
 * The first user, made as mirror-registry makes it: POST /api/v1/user/initialize, the password on stdin (never in
 * argv). Quay answers 200 with an OAuth token only while the database has no user.
 */
export async function bootstrapUser(s: Scope, user: { username: string; password: string }): Promise<{ code: string; token: string; r: GuestResult }> {
  const r = await s.run(`jq -nc --arg p "$(cat)" '{username:"${user.username}",password:$p,email:"init@example.test",access_token:true}' |
    curl -s -w '\\n%{http_code}' --cacert ${caPath(s)} -H content-type:application/json --data @- https://${s.host}/api/v1/user/initialize`, { input: user.password });
  const lines = r.stdout.trim().split('\n');
  const code = lines.pop() ?? '';
  const answer = lines.join('\n');
  let token = '';
  try { token = (JSON.parse(answer || '{}') as { access_token?: string }).access_token ?? ''; } catch { /* not JSON: code says why */ }
  return { code, token, r };
}

function installScript(s: Scope, st: HostState, images: { quay: string; postgres: string; redis: string; pause: string }): string {
  const sc = s.systemctl;
  const lines = ['set -euo pipefail'];
  for (const [dir, d] of st.directories) {
    lines.push(`mkdir -p ${shellQuote(dir)}`);
    if (d.mode) lines.push(`chmod ${d.mode} ${shellQuote(dir)}`);
    if (d.acl) lines.push(`setfacl -m ${d.acl} ${shellQuote(dir)}`);
    // The role's ACL names the host's uid 26 / 1001; a rootless container's uid 26 is a sub-uid, so
    // mirror-registry's own rootless install with --pgStorage/--quayStorage paths cannot write there
    // until the user fixes the owner by hand (naps-product-sa/ocp4-disconnected-workshop#3). As that user:
    if (d.acl && s.name === 'rootless') lines.push(`podman unshare chown ${d.acl.split(':')[1]} ${shellQuote(dir)}`);
  }
  for (const [path, f] of st.files) {
    lines.push(`mkdir -p ${shellQuote(posix.dirname(path))}`,
      `echo ${Buffer.from(f.content).toString('base64')} | base64 -d > ${shellQuote(path)}`, `chmod ${f.mode ?? '0644'} ${shellQuote(path)}`);
  }
  for (const link of st.enableLinks) {
    lines.push(`mkdir -p ${shellQuote(posix.dirname(link))}`, `ln -sf ${shellQuote(posix.join(st.unitDir, posix.basename(link)))} ${shellQuote(link)}`);
  }
  for (const v of st.volumes) lines.push(`podman volume create ${v} >/dev/null`);
  for (const [n, sec] of st.secrets) lines.push(`printf %s ${shellQuote(sec.data)} | podman secret create ${n} - >/dev/null`);
  // The contract images under the names the release's units run; the pod's pause image is podman's own.
  lines.push(`podman tag ${IMG}/quay:v1 ${images.quay}`, `podman tag ${IMG}/postgres:15 ${images.postgres}`, `podman tag ${IMG}/redis:7 ${images.redis}`,
    `if ! podman image exists ${images.pause}; then podman pod create --name mr-pause >/dev/null && podman pod rm mr-pause >/dev/null
      podman tag "$(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/podman-pause:' | head -1)" ${images.pause}; fi`);
  lines.push(...opensslSteps(st.quayRoot, s.host.split(':')[0]!));
  lines.push(`${sc} daemon-reload`, `${sc} start quay-pod.service quay-postgres.service quay-redis.service`,
    // install-postgres-service.yaml: pg_trgm through podman exec once PostgreSQL answers (Quay refuses to start without it).
    `for _ in $(seq 1 120); do podman exec quay-postgres pg_isready -q -h 127.0.0.1 2>/dev/null && break; sleep 2; done`,
    `podman exec quay-postgres psql -d quay -U postgres -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm' >/dev/null`,
    `${sc} start quay-app.service`,
    `for _ in $(seq 1 300); do [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert ${st.quayRoot}/quay-rootCA/rootCA.pem https://${s.host}/health/instance)" = 200 ] && exit 0; sleep 2; done`,
    `echo "the mirror-registry install did not become healthy" >&2; exit 1`);
  return lines.join('\n');
}

/** install-quay-service.yaml "Create SSL Certs": a CA for 1024 days, a certificate from it for 356, the CA appended. */
function opensslSteps(root: string, hostname: string): string[] {
  const c = `${root}/quay-config`;
  const ca = `${root}/quay-rootCA`;
  const cnf = `[req]\ndefault_md = sha256\nprompt = no\ndistinguished_name = dn\nx509_extensions = v3_req\n[dn]\nC = US\nO = Quay\nCN = ${hostname}\n` +
    `[v3_req]\nkeyUsage = nonRepudiation, digitalSignature, keyEncipherment, keyCertSign\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:${hostname}\n`;
  return [
    `echo ${Buffer.from(cnf).toString('base64')} | base64 -d > ${c}/openssl.cnf`,
    `openssl genrsa -out ${ca}/rootCA.key 2048 2>/dev/null`,
    `openssl req -x509 -new -config ${c}/openssl.cnf -nodes -key ${ca}/rootCA.key -sha256 -days 1024 -out ${ca}/rootCA.pem -addext basicConstraints=critical,CA:TRUE,pathlen:1 2>/dev/null`,
    `openssl genrsa -out ${c}/ssl.key 2048 2>/dev/null`,
    `openssl req -new -key ${c}/ssl.key -out ${c}/ssl.csr -subj /CN=quay-enterprise -config ${c}/openssl.cnf`,
    `openssl x509 -req -in ${c}/ssl.csr -CA ${ca}/rootCA.pem -CAkey ${ca}/rootCA.key -CAcreateserial -out ${c}/ssl.cert -days 356 -extensions v3_req -extfile ${c}/openssl.cnf 2>/dev/null`,
    `cat ${ca}/rootCA.pem >> ${c}/ssl.cert`,
    `chmod 0644 ${c}/ssl.key ${c}/ssl.cert`,
  ];
}
