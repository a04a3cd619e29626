// Which directories mreg may take for quayRoot and bind storage, and what it owns in them (pure).
// mreg changes modes and owners only of what it created or recorded as empty when it took it, and
// --purge gives back exactly that: a system folder or a stranger's files are never touched.
import { posix } from 'node:path';
import { isAtomicTempOf } from '../model/atomic-name.js';
import { STORAGE_MOUNTS } from '../model/views.js';
import type { InstallSpec } from './spec.js';

/** What was at a path before mreg touched it (gathered by host/dir-state.ts). */
export type DirState =
  | { kind: 'missing'; firstMissing: string }
  | { kind: 'notDir' }
  | { kind: 'unreadable' }
  | { kind: 'dir'; entries: readonly string[]; mode: number; uid: number; gid: number };

/**
 * A directory in the install record: `createdFrom` is the top-most level mreg made (the path itself
 * or a parent it created with it); without it the directory existed empty, and `mode`/`uid`/`gid`
 * are what --purge puts back after emptying it.
 */
export interface TakenDir {
  path: string;
  createdFrom?: string;
  /** A storage folder of an adopted mirror-registry install: it held the data before mreg, so it stays. */
  adopted?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

// Entries a fresh file system has: an empty mount point is still empty.
const IGNORED_ENTRIES = new Set(['lost+found']);

// Names found in an install's quayRoot: mreg's, and mirror-registry's (quay-config, quay-rootCA).
const RECORD_FILE = 'mreg-install.json';
const QUAY_ROOT_ENTRIES = new Set(['quay-config', 'quay-rootCA', 'credentials', 'credentials.pending', RECORD_FILE]);

const SYSTEM_DIRS = [
  '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/media', '/mnt', '/opt', '/proc', '/root',
  '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/var/lib', '/var/tmp', '/var/log', '/var/cache',
  '/var/spool', '/var/run', '/var/opt', '/var/lib/containers', '/etc/containers', '/etc/systemd', '/etc/pki',
];
// Anything below these is gone at reboot or is not a place for data.
const VOLATILE_TREES = ['/proc', '/sys', '/dev', '/run'];

/**
 * Why `path` can never be quayRoot or storage itself, or undefined when it may: a system folder, a
 * folder directly under /usr, a home (any /home/NAME, or the user's own) or its config folders.
 */
export function systemFolderProblem(path: string, home: string): string | undefined {
  const h = posix.normalize(home).replace(/(.)\/+$/, '$1');
  if (path === '/' || SYSTEM_DIRS.includes(path) || posix.dirname(path) === '/usr') return 'is a system folder';
  if (posix.dirname(path) === '/home' || path === h) return 'is a home directory';
  if ([`${h}/.config`, `${h}/.local`, `${h}/.local/share`, `${h}/.config/containers`, `${h}/.local/share/containers`].includes(path)) {
    return 'is a folder of the user\'s own configuration';
  }
  const volatile = VOLATILE_TREES.find(v => path.startsWith(`${v}/`));
  if (volatile) return `is under ${volatile}, which does not keep data across a reboot`;
  return undefined;
}

/**
 * The entries that make a folder not empty. Left out: a fresh file system's, and the temporary file of
 * an install record whose first write was killed before its rename (up makes quayRoot, then writes the
 * record atomically): such a quayRoot is still the empty one mreg took, and up resumes in it.
 */
export function meaningfulEntries(entries: readonly string[]): string[] {
  return entries.filter(e => !IGNORED_ENTRIES.has(e) && !isAtomicTempOf(e, RECORD_FILE));
}

/**
 * Whether a non-empty quayRoot is an earlier (maybe interrupted) mreg run's: `up` writes the install
 * record before anything else there. quay-config and quay-rootCA without it are what a mirror-registry
 * 1.3 install keeps in the same default folder (/etc/quay-install): taking them over would replace its
 * config.yaml, and with it the DATABASE_SECRET_KEY its data is encrypted with.
 */
export function looksLikeMregQuayRoot(entries: readonly string[]): boolean {
  return meaningfulEntries(entries).includes(RECORD_FILE);
}

export interface TakeCheck {
  /** The flag as the user spells it, e.g. "--quayStorage". */
  flag: string;
  path: string;
  state: DirState;
  /** This path is the recorded quayRoot or storage of this scope's install: mreg's own. */
  recorded: boolean;
  /** quayRoot: a folder holding only mreg's own files counts as mreg's. */
  isQuayRoot: boolean;
  home: string;
}

/**
 * One usage-error line ("--flag PATH: problem; fix") when mreg must not take the path, else
 * undefined. Pure: the caller gathered `state` before changing anything.
 */
export function takeProblem(c: TakeCheck): string | undefined {
  const sys = systemFolderProblem(c.path, c.home);
  const example = c.isQuayRoot ? '/srv/quay-install' : `${c.path === '/' ? '' : c.path}/quay-data`;
  if (sys) return `${c.flag} ${c.path}: ${sys}, which mreg never takes over; give a dedicated folder, e.g. ${c.flag} ${example}`;
  if (c.recorded) return undefined;
  switch (c.state.kind) {
    case 'missing': return undefined;
    case 'notDir': return `${c.flag} ${c.path}: exists and is not a directory; give a new or empty directory`;
    case 'unreadable': return `${c.flag} ${c.path}: exists and cannot be read by this user; give a new or empty directory this user owns`;
    case 'dir': {
      const entries = meaningfulEntries(c.state.entries);
      if (entries.length === 0) return undefined;
      if (c.isQuayRoot && looksLikeMregQuayRoot(entries)) return undefined;
      const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
      const adopt = c.isQuayRoot && entries.some(e => QUAY_ROOT_ENTRIES.has(e)) ? ' (a mirror-registry install? see mreg adopt)' : '';
      return `${c.flag} ${c.path}: not empty (${shown}) and not an mreg install's${adopt}; give a new or empty directory, mreg never takes over existing files`;
    }
  }
}

/** How mreg takes a path it may use: the record entry to keep (undefined for a path already mreg's). */
export function takenDir(path: string, state: DirState): TakenDir | undefined {
  if (state.kind === 'missing') return { path, createdFrom: state.firstMissing };
  if (state.kind === 'dir' && meaningfulEntries(state.entries).length === 0) return { path, mode: state.mode, uid: state.uid, gid: state.gid };
  return undefined;
}

/** The record's taken directories for this run: an entry of an earlier run wins (it saw the path first). */
export function mergeTaken(previous: readonly TakenDir[] | undefined, fresh: readonly TakenDir[]): TakenDir[] {
  const byPath = new Map<string, TakenDir>();
  for (const d of fresh) byPath.set(d.path, d);
  for (const d of previous ?? []) byPath.set(d.path, d);
  // By code unit, not localeCompare: its first call loads ICU's collator (0.1-0.2 s of a no-op up under emulation).
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The storage volumes of `spec` that the install's record does not name as its own, with their flags. */
export function unrecordedVolumes(spec: Pick<InstallSpec, 'quayStorage' | 'pgStorage'>, previous?: { spec: Pick<InstallSpec, 'quayStorage' | 'pgStorage'> }): Array<{ flag: string; name: string }> {
  return STORAGE_MOUNTS.flatMap(m => {
    const s = spec[m.spec];
    const was = previous?.spec[m.spec];
    return s.kind === 'volume' && !(was?.kind === 'volume' && was.name === s.name) ? [{ flag: `--${m.spec}`, name: s.name }] : [];
  });
}

/** A podman volume the install would use that its record does not name: `state` is its mount point's, undefined when podman has no such volume. */
export interface VolumeTakeCheck { flag: string; name: string; state: DirState | undefined }

/**
 * One usage-error line when the volume exists and holds data: mreg takes an existing volume only empty
 * (one an admin made on another disk), as it does a folder. Another install's data would otherwise be
 * run by this one (its PostgreSQL cluster under new passwords and keys) and deleted by `down --purge`.
 */
export function volumeTakeProblem(c: VolumeTakeCheck): string | undefined {
  const s = c.state;
  if (!s || s.kind === 'missing') return undefined;
  const entries = s.kind === 'dir' ? meaningfulEntries(s.entries) : [];
  if (s.kind === 'dir' && entries.length === 0) return undefined;
  const held = s.kind === 'dir' ? `holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}` : 'was used by a container (this user cannot list it)';
  return `${c.flag} ${c.name}: podman volume ${c.name} exists, ${held}, and is not an mreg install's (an earlier registry's data?); `
    + `give another volume name, e.g. ${c.flag} mreg-${c.name}, or check what it holds and remove it: podman volume rm ${c.name}; mreg never takes over existing data`;
}
