// Up's TLS files and podman secrets: independent, so made at once, once every check has passed.
import type { StoredSecrets } from '../actions/ports.js';
import { readCredentials, type Credentials } from '../apply/credentials.js';
import { generateSecrets, resolveSecrets } from '../apply/secrets-step.js';
import { executeActions } from '../actions/execute.js';
import { planSecrets } from '../plan/secrets.js';
import { ensureTls, type TlsResult } from '../apply/tls-step.js';
import { allInOrder } from '../concurrent.js';
import type { InstallSecrets } from '../install-spec/spec.js';
import { ALL_SECRET_NAMES } from '../model/views.js';
import { UP_STEP } from '../plan/up-steps.js';
import type { UpRun } from './run.js';

export interface TlsAndSecrets {
  tls: TlsResult;
  secrets: InstallSecrets;
  /** The secrets this run created. */
  missing: string[];
  /** Where podman keeps the secrets' values, when it confirmed one. */
  secretStore?: string;
  /** The first user's login from quayRoot/credentials, when an earlier run made it. */
  previousCreds?: Credentials;
}

/**
 * `stored`: the secrets podman holds, asked for beside the checks. The first user's password is
 * settled here too (recorded, given, pending from an interrupted run, or new), since it is one of the secrets.
 */
export async function makeTlsAndSecrets(run: UpRun, stored: Promise<StoredSecrets>, configYaml: string | undefined): Promise<TlsAndSecrets> {
  const { out, did, spec, layout, probe } = run;
  const previousCreds = await readCredentials(layout.credentials);
  if (previousCreds) await run.host.files.ensureMode(layout.credentials, 0o600);
  const pendingCreds = await readCredentials(layout.credentialsPending);
  const initPassword = previousCreds?.password ?? spec.initPassword ?? pendingCreds?.password;
  const [tls, { secrets, missing, secretStore }] = await allInOrder([
    out.step('TLS certificates', () => ensureTls(spec, layout, probe.now, shortName(spec.hostname), { files: run.host.files, out })),
    out.step('secrets', async () => {
      const read = await stored;
      const r = resolveSecrets(read.values, initPassword ?? generateSecrets().initPassword, configYaml);
      // podman alone, no systemd: D-Bus is connected only if a later step asks (issue 19).
      await executeActions(planSecrets(r.secrets, r.missing), { files: run.host.files, podman: run.podman, connect: run.connect }, { out });
      return { ...r, secretStore: read.store }; // a folder podman no longer confirms is forgotten, never trusted
    }),
  ]);
  if (missing.length > 0) out.debug(`created podman secrets: ${missing.join(', ')}`);
  did(UP_STEP.tls, ...ALL_SECRET_NAMES.map(UP_STEP.secret));
  return { tls, secrets, missing, secretStore, previousCreds };
}

function shortName(hostname: string): string | undefined {
  const s = hostname.split('.')[0];
  return s && s !== hostname ? s : undefined;
}
