// SELinux and bind-mounted storage: which paths mreg labels once at install time, with what, and how.
// Pure; host/selinux.ts runs the command.
import { COMPONENTS } from '../model/components.js';
import type { HostFacts, InstallSpec, Scope } from '../install-spec/spec.js';

// Any container's random MCS level dominates s0, so every container may read and write these files
// (selinux-policy policy/mcs: h1 dom h2), and files created later inherit s0 from their folder
// (default_range dir_file_class_set target low). Named volumes get the same label from podman.
export const CONTAINER_FILE_TYPE = 'container_file_t';
export const SHARED_LEVEL = 's0';
export const CONTAINER_FILE_LABEL = `${CONTAINER_FILE_TYPE}:${SHARED_LEVEL}`;

/**
 * Labels matter in permissive mode too: data left unlabelled there is denied once the host is
 * switched to enforcing.
 */
export function isSelinuxOn(facts: Pick<HostFacts, 'selinux'>): boolean {
  return facts.selinux === 'enforcing' || facts.selinux === 'permissive';
}

/**
 * The storage bind paths (--quayStorage, --pgStorage) to label before the first start, in mount
 * order. Empty when SELinux is disabled: those Volume= lines keep :Z, a no-op there.
 */
export function selinuxLabelPaths(spec: InstallSpec, facts: Pick<HostFacts, 'selinux'>): string[] {
  if (!isSelinuxOn(facts)) return [];
  const paths = [COMPONENTS.app.storage, COMPONENTS.postgres.storage]
    .map(m => spec[m.spec])
    .flatMap(s => (s.kind === 'path' ? [s.path] : []));
  return [...new Set(paths)];
}

/**
 * argv that labels `path` and everything under it. `-l s0` also strips the private categories an
 * earlier `:Z` start left. Rootless, the files belong to sub-uids, so it runs in podman's user namespace.
 */
export function labelCommand(path: string, scope: Scope, recursive = true): string[] {
  const chcon = ['chcon', ...(recursive ? ['-R'] : []), '-t', CONTAINER_FILE_TYPE, '-l', SHARED_LEVEL, '--', path];
  return scope === 'rootful' ? chcon : ['podman', 'unshare', ...chcon];
}

/** Whether a context as `stat -c %C` prints it (user:role:type:level) has container_file_t:s0. */
export function hasContainerFileLabel(context: string): boolean {
  const [, , type, ...level] = context.trim().split(':');
  return type === CONTAINER_FILE_TYPE && level.join(':') === SHARED_LEVEL;
}

/** The dry-run line of labelling one path (apply/selinux-step.ts does it). */
export function describeSelinuxLabel(path: string): string {
  return `give ${path} the SELinux label ${CONTAINER_FILE_LABEL} (chcon -R; skipped when mreg did it before)`;
}

/** The dry-run lines of the SELinux step. */
export function describeSelinuxLabels(planned: { selinuxLabels: readonly string[] }): string[] {
  return planned.selinuxLabels.map(describeSelinuxLabel);
}
