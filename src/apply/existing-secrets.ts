// An upgrade's secrets: the install's own, read back from podman (and the credentials file, config.yaml).
import { HostError } from '../errors.js';
import type { Podman } from '../actions/ports.js';
import type { InstallSecrets } from '../install-spec/spec.js';
import { readCredentials } from './credentials.js';
import { readStoredSecrets, resolveSecrets } from './secrets-step.js';

/** Existing secrets only: an upgrade must never mint new ones (Quay's data is encrypted with them). */
export async function existingSecrets(podman: Podman, credentialsPath: string, configYaml: string | undefined): Promise<InstallSecrets> {
  const creds = await readCredentials(credentialsPath);
  const { secrets, missing } = resolveSecrets(await readStoredSecrets(podman), creds?.password ?? '', configYaml);
  if (missing.length > 0) {
    throw new HostError(`podman secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing`, 'run `mreg up` to repair the install first; nothing was changed');
  }
  return secrets;
}
