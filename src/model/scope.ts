// Where each scope keeps things: rootful in the system's folders, rootless in the user's home.
import { posix } from 'node:path';
import type { Scope } from '../install-spec/spec.js';

/** Where Quadlet files go; rootless honours XDG_CONFIG_HOME as podman's generator does. */
export function quadletDir(scope: Scope, home: string, configHome?: string): string {
  return scope === 'rootful' ? '/etc/containers/systemd' : posix.join(configHome || posix.join(home, '.config'), 'containers', 'systemd');
}

/**
 * The admin's unit folder, read at every reload: podman 4.x's plain pod unit goes here, and
 * mirror-registry's units, which shadow generated ones of the same name, are found here.
 */
export function systemdUnitDir(scope: Scope, home: string): string {
  return scope === 'rootful' ? '/etc/systemd/system' : posix.join(home, '.config/systemd/user');
}

/** The target the units' [Install] WantedBy= names. */
export function wantedByTarget(scope: Scope): string {
  return scope === 'rootful' ? 'multi-user.target' : 'default.target';
}

/** podman, skopeo and buildah read <certs.d>/<host:port>/ca.crt; rootless ones read the per-user folder. */
export function certsDBase(scope: Scope, home: string): string {
  return scope === 'rootful' ? '/etc/containers/certs.d' : posix.join(home, '.config/containers/certs.d');
}

/** The folder podman, skopeo and buildah read this registry's ca.crt from. */
export function certsDDir(who: { scope: Scope; home: string }, hostname: string, port: number): string {
  return posix.join(certsDBase(who.scope, who.home), `${hostname}:${port}`);
}

/** systemctl as the user types it for this scope's units, for hints. */
export function systemctlCommand(scope: Scope): string {
  return scope === 'rootless' ? 'systemctl --user' : 'systemctl';
}

/** A small file naming the quayRoot of this scope's install, so down/status need no flags. */
export function pointerPath(scope: Scope, home: string): string {
  return scope === 'rootful' ? '/var/lib/mreg/quayRoot' : posix.join(home, '.local/state/mreg/quayRoot');
}

/** An adopt between mirror-registry's stop and mreg's record (adopt/marker.ts): beside the pointer, found without a quayRoot. */
export function adoptMarkerPath(scope: Scope, home: string): string {
  return posix.join(posix.dirname(pointerPath(scope, home)), 'adopting.json');
}

/** Lock against two mreg commands at once, per scope. */
export function lockPath(scope: Scope, home: string, runtimeDir: string): string {
  return scope === 'rootful' ? '/run/mreg.lock' : posix.join(runtimeDir || posix.join(home, '.local/state/mreg'), 'mreg.lock');
}

export function defaultQuayRoot(scope: Scope, home: string): string {
  return scope === 'rootful' ? '/etc/quay-install' : posix.join(home, 'quay-install');
}
