// The first user: created once through Quay's API, its password kept in quayRoot/credentials (0600).
import type { HostPorts, RegistryEndpoint } from '../actions/ports.js';
import { HostError } from '../errors.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import { writeCredentials, type Credentials } from './credentials.js';

// TCG test VMs and loaded hosts have taken over 10 s for the first user (bcrypt, schema warm-up).
const INIT_USER_TIMEOUT_MS = 60_000;

/** What making the first user goes through: HTTPS to the registry, and the pending credentials file. */
type InitUserPorts = Pick<HostPorts, 'httpsRequest' | 'files'>;

/**
 * Creates the first user once. `recorded`: mreg has a record of this install; when it holds no
 * credentials (an adopted mirror-registry install), existing users are kept and none is created.
 */
export async function ensureInitUser(ports: InitUserPorts, ep: RegistryEndpoint, spec: InstallSpec, secrets: InstallSecrets, previous: Credentials | undefined,
  layout: QuayRootLayout, caPath: string | undefined, recorded: boolean): Promise<{ credentials?: Credentials; created: boolean }> {
  const url = `https://${spec.hostname}:${spec.port}`;
  const pending = layout.credentialsPending;
  if (previous && previous.username === spec.initUser) {
    // A run killed between writing the credentials and removing the pending copy left the password twice.
    if (await ports.files.exists(pending)) await ports.files.remove(pending);
    return { credentials: { ...previous, url, ca: caPath }, created: false };
  }
  const credentials: Credentials = { url, username: spec.initUser, password: secrets.initPassword, ca: caPath };
  await writeCredentials(pending, credentials);
  let answer: string;
  let ok: boolean;
  try {
    const r = await ports.httpsRequest(ep, 'POST', '/api/v1/user/initialize', {
      username: spec.initUser, password: secrets.initPassword, email: `${spec.initUser}@${spec.hostname}`, access_token: true,
    }, INIT_USER_TIMEOUT_MS);
    answer = `answered HTTP ${r.status}`;
    if (recorded && !previous && r.status >= 400 && r.status < 500 && !(await loginWorks(ports, ep, spec.initUser, secrets.initPassword))) {
      await ports.files.remove(pending);
      return { created: false };
    }
    // Not 2xx: an earlier, interrupted run may have created the user with this same password.
    ok = (r.status >= 200 && r.status < 300) || (await loginWorks(ports, ep, spec.initUser, secrets.initPassword));
  } catch (err) {
    // A timed-out request may still have created the user: the password decides.
    answer = err instanceof Error ? err.message : String(err);
    ok = await loginWorks(ports, ep, spec.initUser, secrets.initPassword).catch(() => false);
  }
  if (!ok) {
    throw new HostError(`could not create the first user ${spec.initUser}: /api/v1/user/initialize ${answer}`,
      previous ? `the registry already has users; the recorded credentials are in ${layout.credentials}`
        : `if a user already exists in this database, use its credentials; otherwise check \`mreg logs quay-app\` and run mreg up again (it reuses the password in ${pending})`);
  }
  await writeCredentials(layout.credentials, credentials);
  await ports.files.remove(pending);
  return { credentials, created: true };
}

/**
 * Whether the registry accepts this login. Quay's token endpoint answers 200; a plain distribution
 * registry has no /v2/auth and answers 404 once the credentials are accepted. 401 is a wrong password.
 */
async function loginWorks(ports: Pick<InitUserPorts, 'httpsRequest'>, ep: RegistryEndpoint, username: string, password: string): Promise<boolean> {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  const r = await ports.httpsRequest(ep, 'GET', `/v2/auth?service=${encodeURIComponent(ep.hostname)}&account=${encodeURIComponent(username)}`,
    undefined, INIT_USER_TIMEOUT_MS, { authorization: `Basic ${auth}` });
  return r.status === 200 || r.status === 404;
}
