// Read-only host probing: everything plan() and preflight() need to know, gathered once.
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostError } from '../errors.js';
import { quadletDir as quadletDirOf } from '../model/scope.js';
import type { HostFacts, Scope, SelinuxMode } from '../install-spec/spec.js';
import { runCommand } from './exec.js';
import { pathExists, readIfExists } from './fs.js';
import { createPodman, type Podman } from './podman.js';
import { getLinger } from './linger.js';
import { cachedPodmanVersion, versionCacheFile } from './podman-version.js';

/** HostFacts plus what preflight checks; plain data (JSON-safe apart from `now`). */
export interface HostProbe extends HostFacts {
  /** /sys/fs/cgroup/cgroup.controllers exists (Quadlet needs the unified hierarchy). */
  cgroupV2: boolean;
  /** /etc/subuid and /etc/subgid have a range for the user (rootless podman needs both). */
  hasSubuid: boolean;
  hasSubgid: boolean;
  /** logind keeps the user's manager running without a login (asked for rootless only; false for root, whose units are system units). */
  lingerEnabled: boolean;
  /** Whether the user bus socket ($XDG_RUNTIME_DIR/bus) exists: a user manager is running. */
  hasUserBus: boolean;
  memTotalBytes: number;
  cpus: number;
}

export interface GatherOptions {
  scope?: Scope;
  env?: NodeJS.ProcessEnv;
  podman?: Podman;
  /**
   * false: `fqdn` is left '' and `hostname -f` is not run (a process: issue 19); for commands whose
   * hostname comes from a flag or the install record, which ask hostFqdn() themselves when it does not.
   */
  fqdn?: boolean;
}

/** Whether a `name:start:count` file (/etc/subuid, /etc/subgid) has an entry for `user` or `uid`. */
export function hasSubIdRange(text: string, user: string, uid: number): boolean {
  return text.split('\n').some((line) => {
    const [who, start, count] = line.trim().split(':');
    return (who === user || who === String(uid)) && Number(count) > 0 && start !== undefined && start !== '';
  });
}

/** The host's canonical name (`hostname -f`), or its short name when that fails. */
export async function hostFqdn(): Promise<string> {
  try {
    const res = await runCommand('hostname', ['-f']);
    const name = res.stdout.trim();
    if (res.exitCode === 0 && name) return name;
  } catch { /* hostname(1) missing: fall through */ }
  return os.hostname();
}

async function selinuxMode(): Promise<SelinuxMode> {
  const enforce = await readIfExists('/sys/fs/selinux/enforce');
  if (enforce === undefined) return 'disabled';
  return enforce.trim() === '1' ? 'enforcing' : 'permissive';
}

/** Who runs mreg and where their files live; no process, no D-Bus, so status and logs stay quick. */
export type Identity = Pick<HostFacts, 'scope' | 'uid' | 'gid' | 'user' | 'home' | 'quadletDir' | 'runtimeDir'>;

export function identify(opts: Pick<GatherOptions, 'scope' | 'env'> = {}): Identity {
  const env = opts.env ?? process.env;
  const me = os.userInfo();
  const scope: Scope = opts.scope ?? (me.uid === 0 ? 'rootful' : 'rootless');
  const home = env.HOME || me.homedir;
  return { scope, uid: me.uid, gid: me.gid, user: me.username, home,
    quadletDir: quadletDirOf(scope, home, env.XDG_CONFIG_HOME), runtimeDir: env.XDG_RUNTIME_DIR || `/run/user/${me.uid}` };
}

/**
 * Probes the host once. Scope defaults to rootful for uid 0, else rootless. Never changes
 * anything; rejects only on unexpected I/O errors (a missing podman gives podmanVersion undefined).
 */
export async function gatherFacts(opts: GatherOptions = {}): Promise<HostProbe> {
  const who = identify(opts);
  const { uid, user, runtimeDir } = who;
  const [fq, podmanVersion, cgroupV2, subuid, subgid, lingerEnabled, hasUserBus, selinux] = await Promise.all([
    opts.fqdn === false ? '' : hostFqdn(),
    // A podman port given by the caller answers for itself; the real one is asked once per binary.
    opts.podman ? opts.podman.version() : cachedPodmanVersion(createPodman(), versionCacheFile(uid, runtimeDir)),
    pathExists('/sys/fs/cgroup/cgroup.controllers'),
    readIfExists('/etc/subuid'),
    readIfExists('/etc/subgid'),
    // logind over the system bus: only a rootless registry needs linger, and for root the question cost
    // every command a D-Bus client load and a connection (issue 19).
    who.scope === 'rootless' ? getLinger(uid) : Promise.resolve(false),
    pathExists(path.join(runtimeDir, 'bus')),
    selinuxMode(),
  ]);
  return {
    ...who,
    fqdn: fq,
    podmanVersion,
    now: new Date(),
    cgroupV2,
    hasSubuid: hasSubIdRange(subuid ?? '', user, uid),
    hasSubgid: hasSubIdRange(subgid ?? '', user, uid),
    lingerEnabled,
    hasUserBus,
    memTotalBytes: os.totalmem(),
    cpus: os.availableParallelism(),
    selinux,
  };
}

export { diskFreeBytes } from './fs.js';

/**
 * Whether nothing listens on TCP `port` at `host` (default all addresses): binds briefly and
 * closes. EADDRINUSE resolves false; EACCES (a low port without privilege) rejects.
 */
export function isPortFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(new HostError(`cannot test whether port ${port} is free: ${err.message}`,
        err.code === 'EACCES' ? 'ports below 1024 need root (or a lower net.ipv4.ip_unprivileged_port_start)' : undefined, { cause: err }));
    });
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** The addresses `name` resolves to through the system resolver (getaddrinfo); [] when it does not. */
export async function resolveHostname(name: string): Promise<string[]> {
  try {
    return (await dns.lookup(name, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}
