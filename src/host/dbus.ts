// D-Bus plumbing shared by the systemd and logind ports: bus addresses, one connection that fails
// fast when the bus goes away, and words for the D-Bus errors mreg expects.
import type { Message, MessageBus } from 'dbus-next';
import * as os from 'node:os';
import { HostError } from '../errors.js';
import type { Scope } from '../install-spec/spec.js';
import { pathExists } from './fs.js';

export const PROPS = 'org.freedesktop.DBus.Properties';
const CONNECT_TIMEOUT_MS = 30_000;

type DBusErrorLike = { type?: string; text?: string; message?: string };

export function dbusType(err: unknown): string {
  return (err as DBusErrorLike | undefined)?.type ?? '';
}

const PERMISSION_TYPES = new Set([
  'org.freedesktop.DBus.Error.AccessDenied',
  'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired',
]);

/** Words for the D-Bus errors mreg expects; the DBusError stays as the cause. */
export function mapDbusError(err: unknown, what: string): HostError {
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

/** The manager of `scope` cannot be reached; `why` replaces the bus words when it was not dbus-next that tried. */
export function noBusError(scope: Scope, address: string, cause?: Error, why = cause ? `cannot connect to ${address}: ${cause.message}` : `no bus socket at ${address}`): HostError {
  // No cause: the socket file is missing. With a cause: it exists but refused us (auth, timeout).
  if (scope === 'rootful') {
    return new HostError(`cannot reach the system manager: ${why}`, 'rootful installs need systemd as PID 1 and a running dbus', { cause });
  }
  const { uid, username } = os.userInfo();
  return new HostError(`cannot reach your systemd user manager (uid ${uid}): ${why}`,
    `a rootless install needs a running user manager: as root run \`loginctl enable-linger ${username}\`, ` +
      `log in as ${username} directly (not via sudo/su), and check XDG_RUNTIME_DIR=/run/user/${uid}`,
    { cause });
}

type DBusModule = typeof import('dbus-next');

// dbus-next (with its XML and 64-bit integer libraries) is loaded by the first connection: commands that
// never talk to the bus (status, --help, backup) skip its start-up, about 0.1 s under emulation (issue 19).
let loading: Promise<DBusModule> | undefined;
// A CommonJS package: Node's import() puts module.exports on default (the bundle and tsc differ on the rest).
const loadDbus = (): Promise<DBusModule> => (loading ??= import('dbus-next').then(m => (m as unknown as { default?: DBusModule }).default ?? m));

/** One bus connection: method calls that fail if the connection dies, instead of hanging. */
export class Connection {
  private closedError?: Error;
  private readonly closeWaiters = new Set<(err: Error) => void>();

  private constructor(readonly bus: MessageBus, private readonly dbus: DBusModule) {
    // dbus-next emits 'error' on socket/auth failures; without a listener Node would crash.
    bus.on('error', (err: Error) => this.fail(err));
    // The bus does not re-emit its stream's 'end' (systemd going away); listen on the connection.
    (bus as unknown as { _connection: { on(ev: 'end', f: () => void): void } })._connection.on('end', () => this.fail(new Error('the bus closed the connection')));
  }

  static async open(scope: Scope, env: NodeJS.ProcessEnv): Promise<Connection> {
    const { address, socket } = busAddress(scope, env);
    if (socket && !(await pathExists(socket))) throw noBusError(scope, address);
    const dbus = await loadDbus();
    const bus = dbus.sessionBus({ busAddress: address }); // sessionBus honours busAddress for either bus
    const conn = new Connection(bus, dbus);
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
    const msg = new this.dbus.Message({ destination: dest, path, interface: iface, member, signature, body });
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
