// What up prints once the registry is healthy (or, with --json, the same as one document).
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from '../apply/credentials.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { certsDDir } from '../model/scope.js';
import type { Output } from '../ui/output.js';

export function reportUp(out: Output, spec: InstallSpec, creds: Credentials | undefined, caPath: string | undefined,
  how: { unchanged: boolean; userCreated: boolean; steps: readonly string[] }, ms: number): void {
  const host = `${spec.hostname}:${spec.port}`;
  const url = `https://${host}`;
  const certsD = certsDDir({ scope: spec.scope, home: homedir() }, spec.hostname, spec.port);
  const credsFile = join(spec.quayRoot, 'credentials');
  const login = creds ? `podman login -u ${creds.username} -p '${creds.password}' ${host}` : `podman login ${host}`;
  if (out.json) {
    // Asked for by a script: the password is part of the result every time.
    out.resultJson({ url, username: creds?.username ?? null, password: creds?.password ?? null, caPath: caPath ?? null,
      loginCommand: login, unchanged: how.unchanged, scope: spec.scope, quayRoot: spec.quayRoot, durationMs: ms, steps: how.steps });
    return;
  }
  out.info(how.unchanged ? 'mreg: the registry is installed and healthy; nothing changed' : `mreg: registry ready in ${(ms / 1000).toFixed(1)} s`);
  // The password is printed once, when the user is made; afterwards it is only in the 0600 credentials file.
  const shown = creds !== undefined && how.userCreated;
  out.result([
    `URL:         ${url}`,
    ...(creds ? [`Username:    ${creds.username}`, shown ? `Password:    ${creds.password}` : `Password:    in ${credsFile} (printed when the user was created)`]
      : ['Users:       kept from the adopted install; mreg did not create them and holds no password']),
    ...(caPath ? [`CA:          ${caPath}`, `Trust it:    mreg cert trust   (writes ${certsD}/ca.crt for podman and skopeo here)`] : []),
    `Login:       ${shown || !creds ? login : `podman login -u ${creds.username} ${host}   (password: see ${credsFile})`}`,
    ...(creds ? [`Credentials: ${credsFile} (mode 0600)`] : []),
  ].join('\n'));
}
