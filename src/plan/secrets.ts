// The install's podman secrets as actions: one create-secret each, run at once by the executor.
import { action, type Action } from '../actions/action.js';
import type { InstallSecrets } from '../install-spec/spec.js';
import { SECRET_NAMES } from '../model/components.js';

type StoredKey = keyof typeof SECRET_NAMES;

export function secretValueByName(secrets: InstallSecrets, name: string): string {
  const key = (Object.keys(SECRET_NAMES) as StoredKey[]).find(k => SECRET_NAMES[k] === name);
  if (!key) throw new Error(`unknown mreg secret ${name}`);
  return secrets[key];
}

/** `names`: the secrets to create (up: those podman lacks; adopt: every one, over mirror-registry's). */
export function planSecrets(secrets: InstallSecrets, names: readonly string[], opts: { replace?: boolean } = {}): Action[] {
  return names.map(name => action({ kind: 'create-secret', name, value: secretValueByName(secrets, name), ...(opts.replace ? { replace: true } : {}) }));
}
