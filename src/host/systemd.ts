// Systemd port: the systemd Manager API (and logind's linger) over D-Bus with dbus-next.
import dbus from 'dbus-next';
import type { Message, MessageBus } from 'dbus-next';
import * as os from 'node:os';
import { HostError } from '../errors.js';
import type { Scope } from '../spec/spec.js';
import { lingerFileExists, pathExists, userNameFromPasswd } from './fs.js';

export type UnitName = string;
export type JobResult = 'done' | 'canceled' | 'timeout' | 'failed' | 'dependency' | 'skipped' | (string & {});

export interface UnitState {
  name: string;
  loadState: string;
  activeState: string;
  subState: string;
  /** ms since epoch; undefined when not seen this boot. */
  activeEnterTimestamp?: number;
  stateChangeTimestamp?: number;
  mainPid: number;
  nRestarts: number;
  /** Service.Result: success, exit-code, signal, timeout, start-limit-hit, … ('' for non-services). */
  result: string;
  /** The generated unit (/run/systemd/generator/…) and, for Quadlet units, the Quadlet file. */
  fragmentPath: string;
  sourcePath: string;
  needDaemonReload: boolean;
  invocationId?: string;
  /** ExecMainCode 1 = exited (status is the exit code); 2/3 = killed/dumped (status is the signal). */
  execMainCode?: number;
  execMainStatus?: number;
}

export interface Systemd {
  readonly scope: Scope;
  /** Manager.Reload (`systemctl daemon-reload`); Quadlet's generator runs here. Resolves after the reload. */
  reload(): Promise<void>;
  /**
   * Manager.StartUnit(name, "replace"), then waits for that job's JobRemoved (matched before the call).
   * Resolves with the job result ("done" on success); rejects with HostError on a D-Bus error or when
   * the job outlives `timeoutMs` (default 10 min). The caller turns other results into UnitFailedError.
   */
  startUnit(name: UnitName, opts?: { timeoutMs?: number }): Promise<JobResult>;
  /** As startUnit, for StopUnit. A unit systemd does not know is already stopped: resolves "done". */
  stopUnit(name: UnitName, opts?: { timeoutMs?: number }): Promise<JobResult>;
  /** As startUnit, for RestartUnit (starts a stopped unit). */
  restartUnit(name: UnitName, opts?: { timeoutMs?: number }): Promise<JobResult>;
  /** Manager.ResetFailedUnit; an unknown unit is ignored. */
  resetFailed(name: UnitName): Promise<void>;
  /** LoadUnit + Properties.GetAll (Unit, Service). Unknown units resolve with loadState "not-found". */
  unitState(name: UnitName): Promise<UnitState>;
  /** Disconnects; dbus-next keeps Node alive until then. Safe to call twice. */
  close(): Promise<void>;
}

const SD = 'org.freedesktop.systemd1';
const SD_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const UNIT = 'org.freedesktop.systemd1.Unit';
const SERVICE = 'org.freedesktop.systemd1.Service';
const PROPS = 'org.freedesktop.DBus.Properties';
const LOGIN = 'org.freedesktop.login1';
const LOGIN_PATH = '/org/freedesktop/login1';
const LOGIN_MANAGER = 'org.freedesktop.login1.Manager';
const DEFAULT_JOB_TIMEOUT_MS = 10 * 60_000; // TCG test VMs take minutes for a first start
const CONNECT_TIMEOUT_MS = 30_000;
const MAX_EARLY_RESULTS = 1000; // results of jobs nobody waits for (dependencies, other clients)

type DBusErrorLike = { type?: string; text?: string; message?: string };

function dbusType(err: unknown): string {
  return (err as DBusErrorLike | undefined)?.type ?? '';
}

const PERMISSION_TYPES = new Set([
  'org.freedesktop.DBus.Error.AccessDenied',
  'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired',
]);

/** Words for the D-Bus errors mreg expects; the DBusError stays as the cause. */
function mapDbusError(err: unknown, what: string): HostError {
  if (err instanceof HostError) return err;
  const type = dbusType(err);
  const text = (err as DBusErrorLike).text ?? (err as Error).message ?? String(err);
  if (PERMISSION_TYPES.has(type)) {
    return new HostError(`${what}: permission denied (${text})`, 'run as root, or without sudo for a rootless install', { cause: err });
  }
  if (type === 'org.freedesktop.systemd1.NoSuchUnit' || type === 'org.freedesktop.systemd1.LoadFailed') {
    return new HostError(`${what}: ${text}`,
      'if it is a Quadlet unit, the generator may have skipped its file: run `/usr/libexec/podman/quadlet -dryrun` (add -user when rootless)',
      { cause: err });
  }
  return new HostError(`${what}: ${text}${type ? ` (${type})` : ''}`, undefined, { cause: err });
}

function usToMs(v: unknown): number | undefined {
  if (typeof v !== 'bigint' && typeof v !== 'number') return undefined;
  const ms = Number(BigInt(v) / 1000n);
  return ms > 0 ? ms : undefined;
}

/** The bus address for a scope: system bus, or the user's bus (XDG_RUNTIME_DIR defaults to /run/user/UID). */
export function busAddress(scope: Scope, env: NodeJS.ProcessEnv = process.env, uid = os.userInfo().uid): { address: string; socket?: string } {
  if (scope === 'rootful') {
    const address = env.DBUS_SYSTEM_BUS_ADDRESS || 'unix:path=/run/dbus/system_bus_socket';
    return { address, socket: /^unix:path=([^,;]+)$/.exec(address)?.[1] };
  }
  if (env.DBUS_SESSION_BUS_ADDRESS) {
    return { address: env.DBUS_SESSION_BUS_ADDRESS, socket: /^unix:path=([^,;]+)$/.exec(env.DBUS_SESSION_BUS_ADDRESS)?.[1] };
  }
  const socket = `${env.XDG_RUNTIME_DIR || `/run/user/${uid}`}/bus`;
  return { address: `unix:path=${socket}`, socket };
}

function noBusError(scope: Scope, address: string, cause?: Error): HostError {
  // No cause: the socket file is missing. With a cause: it exists but refused us (auth, timeout).
  const why = cause ? `cannot connect to ${address}: ${cause.message}` : `no bus socket at ${address}`;
  if (scope === 'rootful') {
    return new HostError(`cannot reach the system manager: ${why}`, 'rootful installs need systemd as PID 1 and a running dbus', { cause });
  }
  const { uid, username } = os.userInfo();
  return new HostError(`cannot reach your systemd user manager (uid ${uid}): ${why}`,
    `a rootless install needs a running user manager: as root run \`loginctl enable-linger ${username}\`, ` +
      `log in as ${username} directly (not via sudo/su), and check XDG_RUNTIME_DIR=/run/user/${uid}`,
    { cause });
}

/** One bus connection: method calls that fail if the connection dies, instead of hanging. */
class Connection {
  private closedError?: Error;
  private readonly closeWaiters = new Set<(err: Error) => void>();

  private constructor(readonly bus: MessageBus) {
    // dbus-next emits 'error' on socket/auth failures; without a listener Node would crash.
    bus.on('error', (err: Error) => this.fail(err));
    // The bus does not re-emit its stream's 'end' (systemd going away); listen on the connection.
    (bus as unknown as { _connection: { on(ev: 'end', f: () => void): void } })._connection.on('end', () => this.fail(new Error('the bus closed the connection')));
  }

  static async open(scope: Scope, env: NodeJS.ProcessEnv): Promise<Connection> {
    const { address, socket } = busAddress(scope, env);
    if (socket && !(await pathExists(socket))) throw noBusError(scope, address);
    const bus = dbus.sessionBus({ busAddress: address }); // sessionBus honours busAddress for either bus
    const conn = new Connection(bus);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(noBusError(scope, address, new Error('no Hello reply within 30 s'))), CONNECT_TIMEOUT_MS);
      bus.once('connect', () => { clearTimeout(timer); resolve(); });
      conn.closeWaiters.add((err) => { clearTimeout(timer); reject(noBusError(scope, address, err)); });
    }).catch((err) => { conn.disconnect(); throw err; });
    conn.closeWaiters.clear();
    return conn;
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const w of this.closeWaiters) w(err);
    this.closeWaiters.clear();
  }

  /** Rejects with `err` when the connection dies; returns an unsubscribe function. */
  onClose(f: (err: Error) => void): () => void {
    if (this.closedError) { f(this.closedError); return () => undefined; }
    this.closeWaiters.add(f);
    return () => this.closeWaiters.delete(f);
  }

  async call(dest: string, path: string, iface: string, member: string, signature = '', body: unknown[] = []): Promise<any[]> {
    const msg = new dbus.Message({ destination: dest, path, interface: iface, member, signature, body });
    let off = () => undefined as unknown;
    try {
      const reply = await new Promise<Message | null>((resolve, reject) => {
        off = this.onClose(reject);
        this.bus.call(msg).then(resolve, reject);
      });
      return reply?.body ?? [];
    } finally {
      off();
    }
  }

  disconnect(): void {
    if (!this.closedError) this.fail(new Error('disconnected'));
    try { this.bus.disconnect(); } catch { /* already closed */ }
  }
}

/**
 * Connects to the systemd manager of `scope` (system bus as root, else the user's bus) and
 * subscribes to job signals. Rejects with HostError when the bus is unreachable. The caller
 * must `close()` the result.
 */
export async function connectSystemd(scope: Scope, env: NodeJS.ProcessEnv = process.env): Promise<Systemd> {
  const conn = await Connection.open(scope, env);
  const finished = new Map<string, string>();
  const waiters = new Map<string, (result: string) => void>();
  conn.bus.on('message', (msg: Message) => {
    if (msg.type !== dbus.MessageType.SIGNAL || msg.interface !== MANAGER || msg.member !== 'JobRemoved') return;
    const [, job, , result] = msg.body as [number, string, string, string];
    const w = waiters.get(job);
    if (w) { waiters.delete(job); w(result); return; }
    finished.set(job, result); // arrived before StartUnit's reply, or a job nobody waits for
    if (finished.size > MAX_EARLY_RESULTS) finished.delete(finished.keys().next().value as string);
  });
  try {
    // Match first, then Subscribe: the bus keeps one connection's messages in order, so the
    // match is active before any job we enqueue later (bus-wait-for-jobs.c does the same).
    await conn.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's',
      [`type='signal',sender='${SD}',path='${SD_PATH}',interface='${MANAGER}',member='JobRemoved'`]);
    await conn.call(SD, SD_PATH, MANAGER, 'Subscribe');
  } catch (err) {
    conn.disconnect();
    throw mapDbusError(err, `cannot subscribe to the ${scope} systemd manager`);
  }

  const manager = (member: string, signature = '', body: unknown[] = []) =>
    conn.call(SD, SD_PATH, MANAGER, member, signature, body);

  function waitForJob(job: string, unit: string, verb: string, timeoutMs: number): Promise<JobResult> {
    const early = finished.get(job);
    if (early !== undefined) { finished.delete(job); return Promise.resolve(early); }
    return new Promise<JobResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(job);
        off();
        reject(new HostError(`${unit}: the ${verb} job did not finish within ${Math.round(timeoutMs / 1000)} s`,
          `see: systemctl ${scope === 'rootless' ? '--user ' : ''}status ${unit}`));
      }, timeoutMs);
      const off = conn.onClose((err) => {
        clearTimeout(timer);
        waiters.delete(job);
        reject(new HostError(`${unit}: lost the D-Bus connection while waiting for the ${verb} job`, undefined, { cause: err }));
      });
      waiters.set(job, (result) => { clearTimeout(timer); off(); resolve(result); });
    });
  }

  async function runJob(member: 'StartUnit' | 'StopUnit' | 'RestartUnit', name: UnitName, timeoutMs = DEFAULT_JOB_TIMEOUT_MS): Promise<JobResult> {
    const verb = member.replace('Unit', '').toLowerCase();
    let job: string;
    try {
      [job] = (await manager(member, 'ss', [name, 'replace'])) as [string];
    } catch (err) {
      if (member === 'StopUnit' && dbusType(err) === 'org.freedesktop.systemd1.NoSuchUnit') return 'done';
      throw mapDbusError(err, `cannot ${verb} ${name}`);
    }
    return waitForJob(job, name, verb, timeoutMs);
  }

  async function getAll(path: string, iface: string): Promise<Record<string, { value: unknown }>> {
    const [props] = await conn.call(SD, path, PROPS, 'GetAll', 's', [iface]);
    return (props ?? {}) as Record<string, { value: unknown }>;
  }

  return {
    scope,
    async reload() {
      try {
        await manager('Reload');
      } catch (err) {
        throw mapDbusError(err, `${scope} systemd daemon-reload failed`);
      }
    },
    startUnit: (name, opts) => runJob('StartUnit', name, opts?.timeoutMs),
    stopUnit: (name, opts) => runJob('StopUnit', name, opts?.timeoutMs),
    restartUnit: (name, opts) => runJob('RestartUnit', name, opts?.timeoutMs),
    async resetFailed(name) {
      try {
        await manager('ResetFailedUnit', 's', [name]);
      } catch (err) {
        if (dbusType(err) === 'org.freedesktop.systemd1.NoSuchUnit') return;
        throw mapDbusError(err, `cannot reset-failed ${name}`);
      }
    },
    async unitState(name) {
      try {
        const [path] = (await manager('LoadUnit', 's', [name])) as [string];
        const u = await getAll(path, UNIT);
        // Non-service units (.target, .socket) have no Service interface.
        const s = name.endsWith('.service') ? await getAll(path, SERVICE) : {};
        const str = (p: Record<string, { value: unknown }>, k: string) => String(p[k]?.value ?? '');
        const num = (p: Record<string, { value: unknown }>, k: string) => Number(p[k]?.value ?? 0);
        const inv = u.InvocationID?.value as Uint8Array | undefined;
        return {
          name,
          loadState: str(u, 'LoadState'),
          activeState: str(u, 'ActiveState'),
          subState: str(u, 'SubState'),
          activeEnterTimestamp: usToMs(u.ActiveEnterTimestamp?.value),
          stateChangeTimestamp: usToMs(u.StateChangeTimestamp?.value),
          mainPid: num(s, 'MainPID'),
          nRestarts: num(s, 'NRestarts'),
          result: str(s, 'Result'),
          fragmentPath: str(u, 'FragmentPath'),
          sourcePath: str(u, 'SourcePath'),
          needDaemonReload: u.NeedDaemonReload?.value === true,
          invocationId: inv && inv.length ? Buffer.from(inv).toString('hex') : undefined,
          execMainCode: s.ExecMainCode ? num(s, 'ExecMainCode') : undefined,
          execMainStatus: s.ExecMainStatus ? num(s, 'ExecMainStatus') : undefined,
        };
      } catch (err) {
        throw mapDbusError(err, `cannot read the state of ${name}`);
      }
    },
    async close() {
      for (const w of waiters.values()) w('canceled');
      waiters.clear();
      conn.disconnect();
    },
  };
}

async function withLogind<T>(what: string, f: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await Connection.open('rootful', process.env);
  try {
    return await f(conn);
  } catch (err) {
    throw mapDbusError(err, what);
  } finally {
    conn.disconnect();
  }
}

async function userName(uid: number): Promise<string> {
  const me = os.userInfo();
  return uid === me.uid ? me.username : (await userNameFromPasswd(uid)) ?? String(uid);
}

/**
 * Whether logind keeps `uid`'s user manager running without a login (the User object's Linger).
 * When logind has no object for the user (no session yet) or the system bus is unreachable,
 * falls back to the flag file /var/lib/systemd/linger/USER.
 */
export async function getLinger(uid: number): Promise<boolean> {
  try {
    return await withLogind(`cannot read linger for uid ${uid}`, async (conn) => {
      const [path] = (await conn.call(LOGIN, LOGIN_PATH, LOGIN_MANAGER, 'GetUser', 'u', [uid])) as [string];
      const [v] = await conn.call(LOGIN, path, PROPS, 'Get', 'ss', ['org.freedesktop.login1.User', 'Linger']);
      return (v as { value: unknown }).value === true;
    });
  } catch {
    return lingerFileExists(await userName(uid));
  }
}

async function setLinger(uid: number, enable: boolean): Promise<void> {
  await withLogind(`cannot ${enable ? 'enable' : 'disable'} linger for uid ${uid}`, (conn) =>
    conn.call(LOGIN, LOGIN_PATH, LOGIN_MANAGER, 'SetUserLinger', 'ubb', [uid, enable, false]));
  if ((await getLinger(uid)) !== enable) {
    throw new HostError(`linger for uid ${uid} is still ${enable ? 'off' : 'on'} after SetUserLinger`,
      `run as root: loginctl ${enable ? 'enable' : 'disable'}-linger ${await userName(uid)}`);
  }
}

/** logind SetUserLinger(uid, true), then checks it took. Rejects with HostError (permission: run as root). */
export const enableLinger = (uid: number): Promise<void> => setLinger(uid, true);
/** logind SetUserLinger(uid, false), then checks it took. */
export const disableLinger = (uid: number): Promise<void> => setLinger(uid, false);
