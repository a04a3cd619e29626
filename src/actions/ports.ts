// The host operations commands and the executor use, as interfaces: src/ports.ts implements them,
// test/support/fake-host.ts fakes them in memory.
import type { FoundInstall } from '../apply/install-lookup.js';
import type { StorageCapture } from '../backup/capture.js';
import type { VerifiedBackup } from '../backup/verify.js';
import type { ArchiveSource, CreateArchive } from '../host/backup-tar.js';
import type { HostProbe, Identity } from '../host/facts.js';
import type { HealthAnswer, HealthWaitOptions, HttpResult, RegistryEndpoint } from '../host/http.js';
import type { Podman, StoredSecrets } from '../host/podman.js';
import type { ModeProblem, SpaceInfo } from '../host/storage.js';
import type { Systemd } from '../host/systemd.js';
import type { ShownState } from '../host/unit-show.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { PgVerified } from '../install-spec/pg-version.js';
import type { ObjectStorage, Scope, Storage, TlsSource } from '../install-spec/spec.js';
import type { DirState, TakenDir } from '../install-spec/taken-dirs.js';

export type { ArchiveSource, FoundInstall, HealthAnswer, HostProbe, HttpResult, Identity, ModeProblem, Podman, RegistryEndpoint, ShownState, SpaceInfo, StoredSecrets };
/** What InspectPorts.waitForHealth rejects with when a unit keeps exiting (upgrade tells it from a timeout). */
export { CrashLoopError } from '../host/http.js';

/** Files of this user's, needing no connection. */
export interface FilePorts {
  /** Removes a file or tree; a missing path is not an error. */
  remove(path: string): Promise<void>;
  /** The file's text; undefined when there is none. */
  read(path: string): Promise<string | undefined>;
  /** Atomic write (readers see the old or the new bytes), then `mode`. */
  write(path: string, content: string, mode: number): Promise<void>;
  /** Makes the folder and missing parents with `mode`; an existing one is left as it is. */
  makeDir(path: string, mode: number): Promise<void>;
  /** Whether anything is at `path`; needs no scope, so InspectPorts.exists is this one. */
  exists(path: string): Promise<boolean>;
  /** Copies what is in `fromDir` into the existing folder `intoDir`, modes and times kept (cp -a); HostError naming `what`. */
  copyInto(fromDir: string, intoDir: string, what: string): Promise<void>;
  /** Puts back the permission bits of an existing file (someone chmodded it); a missing file is left alone. */
  ensureMode(path: string, mode: number): Promise<void>;
}

/** What execute.ts needs to run every action kind; bound to one scope and user. */
export interface ActionPorts {
  systemd: Pick<Systemd, 'startUnit' | 'stopUnit' | 'resetFailed' | 'reload' | 'restartUnit' | 'unitState' | 'unitExits' | 'stopPostsSucceeded'>;
  podman: Pick<Podman, 'containersRemove' | 'podRemove' | 'secretRemove' | 'secretCreate' | 'volumeRemove'>;
  files: FilePorts;
  /** logind SetUserLinger(uid, false), checked; rejects with HostError. */
  disableLinger(uid: number): Promise<void>;
  /**
   * host/storage.ts giveBackDir for this scope and user; a missing folder is already given back. With
   * `only`, just those top-level names go; with `spare`, all but those; resolves with the names left in the
   * folder (lost+found aside).
   */
  giveBackDir(dir: TakenDir, only?: readonly string[], spare?: readonly string[]): Promise<string[]>;
  /** The unit's last journal lines; never rejects (it runs while reporting another error). */
  journalTail(unit: string): Promise<string[]>;
  /** rm -rf of a tree the scope's containers wrote (rootless: inside the user namespace); a missing path is not an error. */
  removeTree(path: string): Promise<void>;
}

/** Read-only looks at one scope's install (status): no lock, no change, nothing to close. */
export interface InspectPorts {
  /** One `systemctl show` of `units`, in their order; rejects with HostError when the manager cannot be reached. */
  unitStates(units: readonly string[]): Promise<ShownState[]>;
  /** GET /health/instance, verified with the CAs health-ca.ts picks for the install's kind of pair; never rejects. */
  health(endpoint: { hostname: string; port: number }, tls: TlsSource['kind'], layout: QuayRootLayout, opts?: { tries?: number; timeoutMs?: number; signal?: AbortSignal }): Promise<HealthAnswer>;
  /** A file's text, or undefined when it is missing. */
  readFile(path: string): Promise<string | undefined>;
  /** FilePorts.exists: whether anything is at `path` does not depend on the scope. */
  exists: FilePorts['exists'];
  /** The host folder of a storage (a volume's mount point, or the bind path); HostError when the volume does not exist. */
  storagePath(storage: Storage, what: string): Promise<string>;
  /** Paths more open than `maxMode` or not owned by the scope's user (missing ones are skipped). */
  privateModes(paths: { path: string; maxMode: number }[]): Promise<ModeProblem[]>;
  /** Where each volume lives: `recorded` first, then one podman process for the rest; names it cannot find are left out. */
  volumeMountpoints(names: readonly string[], recorded?: Readonly<Record<string, string>>): Promise<Map<string, string>>;
  /** Free and total bytes of the file system holding `path` (or its nearest existing parent). */
  space(path: string): Promise<SpaceInfo>;
  /** Free bytes for this user on the file system holding `path` (or its nearest existing parent), as preflight counts them; rejects with HostError. */
  diskFree(path: string): Promise<number>;
  /** Whether nothing listens on TCP `port` on any address (a brief bind); rejects with HostError when it cannot tell (EACCES). */
  portFree(port: number): Promise<boolean>;
  /** Whether `hostname` resolves to an address through the system resolver (getaddrinfo); never rejects. */
  resolves(hostname: string): Promise<boolean>;
  /** Why the bucket does not answer to its key pair, or undefined when it does; never rejects. */
  bucketProblem(storage: ObjectStorage): Promise<string | undefined>;
  /** host/served-cert.ts: the SHA-256 fingerprint of the certificate presented on 127.0.0.1:port for `hostname`; rejects when no handshake. */
  servedFingerprint(hostname: string, port: number): Promise<string>;
  /** host/http.ts waitForHealth: resolves with the ms waited; rejects with HostError at the deadline. */
  waitForHealth(endpoint: RegistryEndpoint, deadlineMs: number, opts?: HealthWaitOptions): Promise<number>;
  /** What is at `path` before mreg takes it (install-spec/taken-dirs.ts); changes nothing. */
  dirState(path: string): Promise<DirState>;
  /**
   * host/pg-data.ts assertPgMajorCompatible for this scope: rejects with HostError when `storage` holds
   * PostgreSQL data of another major version than `image` runs; resolves with what was verified (for the
   * install record), undefined when there is no data or nothing could be verified. Changes nothing.
   */
  assertPgMajorCompatible(storage: Storage, image: string, verified?: PgVerified, mountpoints?: Readonly<Record<string, string>>): Promise<PgVerified | undefined>;
}

/**
 * Backup archives (host/backup-tar.ts: GNU tar, gpg for an encrypted one). `scope` is where container-owned
 * storage is read or written: rootless, inside the user namespace. Reads reject with HostError naming the
 * file and saying nothing was changed.
 */
export interface ArchivePorts {
  /** How to read `file`: with the passphrase file only when it is encrypted (a chain may mix both). */
  source(file: string, passphraseFile: string | undefined): Promise<ArchiveSource>;
  /** Reads the whole archive and checks it against its manifest; resolves only for a complete, unaltered one. */
  verify(src: ArchiveSource): Promise<VerifiedBackup>;
  /** One member's text, reading only up to it; undefined when it is not there. */
  readMemberText(src: ArchiveSource, member: string): Promise<string | undefined>;
  /** Lists the storage, copies its folders and small files into `staging`, hashes what the dump may not refer to. */
  captureStorage(storageRoot: string, staging: string, scope: Scope, dumpStartedMs: number): Promise<StorageCapture>;
  /** Writes the archive (the caller made `a.output` 0600 first); a blob deleted meanwhile fails it. */
  create(a: CreateArchive, scope: Scope): Promise<void>;
  /** rm -rf of a staging folder captureStorage wrote into (its files belong to container uids); a missing one is not an error. */
  removeStaging(path: string, scope: Scope): Promise<void>;
  /** The named members before the storage tree into `dest`, owned by the caller, modes kept. */
  extractSmallMembers(src: ArchiveSource, dest: string, members: readonly string[]): Promise<void>;
  /** The storage tree into `root`, with the owners and modes the containers had. */
  extractStorage(src: ArchiveSource, root: string, scope: Scope): Promise<void>;
  /** Only the listed storage members into `root`, as extractStorage; the member list is written into `scratch`. */
  extractStorageMembers(src: ArchiveSource, root: string, members: readonly string[], scope: Scope, scratch: string): Promise<void>;
}

/** The host as a command sees it: read once, lock, then act through ActionPorts. */
export interface HostPorts {
  /**
   * host/facts.ts gatherFacts: read-only probing, once per command. `fqdn: false` runs no `hostname -f`
   * and leaves `fqdn` '' (for a command whose hostname is the install record's).
   */
  probe(opts?: { fqdn?: boolean }): Promise<HostProbe>;
  /** Who runs this command, and when: no process and no D-Bus (down needs no more than this). */
  identify(): Identity & { now: Date };
  /** The install of `scope` from --quayRoot, the pointer or the default; rejects with HostError when none. */
  findInstall(flags: Record<string, unknown>, scope: HostProbe['scope'], home: string): Promise<FoundInstall>;
  /** The recorded install of `scope` (the pointer's, else the default quayRoot's), or undefined when there is none. */
  findRecordedInstall(scope: HostProbe['scope'], home: string): Promise<FoundInstall | undefined>;
  /** The install whose record is in `quayRoot`, or undefined (a quayRoot whose pointer was lost). */
  readRecordAt(quayRoot: string): Promise<FoundInstall | undefined>;
  /** Takes the scope's lock; resolves with its release, which the caller must await in a finally. */
  lock(who: Identity): Promise<() => Promise<void>>;
  /** Read-only looks at `who`'s scope. */
  inspect(who: Identity): InspectPorts;
  /** Hands the terminal to journalctl for `unit`'s last `lines` (and --follow); rejects with HostError when it cannot run. */
  showJournal(who: Identity, unit: string, lines: number, follow: boolean): Promise<void>;
  /** The host's canonical name (`hostname -f`, a process), or its short name when that fails; never rejects. */
  hostFqdn(): Promise<string>;
  /**
   * logind SetUserLinger(uid, true) over the system bus, then checks it took; rejects with HostError.
   * Needs no connection to a systemd manager (up turns linger on before it has one).
   */
  enableLinger(uid: number): Promise<void>;
  /**
   * host/storage.ts prepareBindDir: makes the bind-mount folder `dir` if needed and sets its `mode` and, with
   * `owner`, its uid:gid as the container sees them (rootless: inside the user namespace); only the folder itself.
   */
  prepareBindDir(dir: string, mode: number, scope: Scope, owner?: { uid: number; gid: number }): Promise<void>;
  /**
   * One HTTPS request to the registry (`body` sent as JSON), verified with `endpoint.ca`; resolves with any
   * status; rejects on a connection error or after `timeoutMs` (10 s when not given).
   */
  httpsRequest(endpoint: RegistryEndpoint, method: string, path: string, body?: unknown, timeoutMs?: number, headers?: Record<string, string>): Promise<HttpResult>;
  /** The podman CLI of this user (no process until a call). */
  podman(): Podman;
  /** This user's files. */
  files: FilePorts;
  /** Backup archives: made by backup, read by backup --verify and --since, and restore. */
  archive: ArchivePorts;
  /** The action ports of `who`'s scope: connects to its systemd (HostError when unreachable), closed by close(). */
  actionPorts(who: Identity): Promise<ActionPorts>;
  /** Closes what the ports opened (the D-Bus connection). Safe to call twice. */
  close(): Promise<void>;
}
