// Systemd port: the systemd Manager API over D-Bus with dbus-next (jobs, reload, unit state).
import type { Message } from 'dbus-next';
import { HostError } from '../errors.js';
import type { Scope } from '../install-spec/spec.js';
import { Connection, dbusType, mapDbusError, PROPS } from './dbus.js';

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

/** The job modes mreg uses: systemd's default, and a start without the unit's requirements. */
export type JobMode = 'replace' | 'ignore-requirements';

/** What a crash watch asks every second while mreg waits: how the unit's runs ended. */
export type UnitExits = Pick<UnitState, 'activeState' | 'result' | 'nRestarts' | 'execMainCode' | 'execMainStatus'>;

export interface Systemd {
  readonly scope: Scope;
  /** Manager.Reload (`systemctl daemon-reload`); Quadlet's generator runs here. Resolves after the reload. */
  reload(): Promise<void>;
  /**
   * Manager.StartUnit(name, mode), then waits for that job's JobRemoved (matched before the call).
   * Resolves with the job result ("done" on success); rejects with HostError on a D-Bus error or when
   * the job outlives `timeoutMs` (default 10 min). The caller turns other results into UnitFailedError.
   * `mode` "ignore-requirements" starts the unit alone: its Wants=/Requires= are not started with it.
   */
  startUnit(name: UnitName, opts?: { timeoutMs?: number; mode?: JobMode }): Promise<JobResult>;
  /** As startUnit, for StopUnit. A unit systemd does not know is already stopped: resolves "done". */
  stopUnit(name: UnitName, opts?: { timeoutMs?: number }): Promise<JobResult>;
  /** As startUnit, for RestartUnit (starts a stopped unit). */
  restartUnit(name: UnitName, opts?: { timeoutMs?: number }): Promise<JobResult>;
  /** Manager.ResetFailedUnit; an unknown unit is ignored. */
  resetFailed(name: UnitName): Promise<void>;
  /** LoadUnit + Properties.Get of the properties read (Unit, Service). Unknown units resolve with loadState "not-found". */
  unitState(name: UnitName): Promise<UnitState>;
  /** The five properties of unitState a crash watch reads (a service unit), for polling. */
  unitExits(name: UnitName): Promise<UnitExits>;
  /**
   * Whether the unit has ExecStopPost commands and each one ran after `sinceMs` and exited 0: what they
   * remove (a Quadlet container's `podman rm`, the pod's `podman pod rm`) is gone. False when it cannot
   * tell (no such command, an older run, a D-Bus error); never rejects.
   */
  stopPostsSucceeded(name: UnitName, sinceMs: number): Promise<boolean>;
  /** Disconnects; dbus-next keeps Node alive until then. Safe to call twice. */
  close(): Promise<void>;
}

const SD = 'org.freedesktop.systemd1';
const SD_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const UNIT = 'org.freedesktop.systemd1.Unit';
const SERVICE = 'org.freedesktop.systemd1.Service';
// The properties unitState reads (org.freedesktop.systemd1.Unit and .Service).
const UNIT_PROPS = ['LoadState', 'ActiveState', 'SubState', 'ActiveEnterTimestamp', 'StateChangeTimestamp', 'FragmentPath',
  'SourcePath', 'NeedDaemonReload', 'InvocationID'] as const;
const EXIT_PROPS = ['NRestarts', 'Result', 'ExecMainCode', 'ExecMainStatus'] as const;
const SERVICE_PROPS = ['MainPID', ...EXIT_PROPS] as const;
const SIGNAL = 4; // dbus-next's MessageType.SIGNAL (the D-Bus wire value), without loading the module here
const DEFAULT_JOB_TIMEOUT_MS = 10 * 60_000; // TCG test VMs take minutes for a first start
const MAX_EARLY_RESULTS = 1000; // results of jobs nobody waits for (dependencies, other clients)

/** The exit-related fields from the Unit and Service properties read (unitState and unitExits). */
function exitsOf(u: Record<string, unknown>, s: Record<string, unknown>): UnitExits {
  return {
    activeState: String(u.ActiveState ?? ''),
    result: String(s.Result ?? ''),
    nRestarts: Number(s.NRestarts ?? 0),
    execMainCode: s.ExecMainCode !== undefined ? Number(s.ExecMainCode) : undefined,
    execMainStatus: s.ExecMainStatus !== undefined ? Number(s.ExecMainStatus) : undefined,
  };
}

const CLD_EXITED = 1;

/**
 * ExecStopPost as D-Bus gives it, a(sasbttttuii): path, argv, ignore-failure, start and exit times (realtime,
 * monotonic, µs), pid, si_code (1 = exited), status. systemd zeroes them when the unit starts again.
 */
export function stopPostsSucceededSince(value: unknown, sinceMs: number): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  return value.every(c => Array.isArray(c) && c.length >= 10 && (usToMs(c[5]) ?? 0) >= sinceMs && Number(c[8]) === CLD_EXITED && Number(c[9]) === 0);
}

function usToMs(v: unknown): number | undefined {
  if (typeof v !== 'bigint' && typeof v !== 'number') return undefined;
  const ms = Number(BigInt(v) / 1000n);
  return ms > 0 ? ms : undefined;
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
    if (msg.type !== SIGNAL || msg.interface !== MANAGER || msg.member !== 'JobRemoved') return;
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

  async function runJob(member: 'StartUnit' | 'StopUnit' | 'RestartUnit', name: UnitName, timeoutMs = DEFAULT_JOB_TIMEOUT_MS, mode: JobMode = 'replace'): Promise<JobResult> {
    const verb = member.replace('Unit', '').toLowerCase();
    let job: string;
    try {
      [job] = (await manager(member, 'ss', [name, mode])) as [string];
    } catch (err) {
      if (member === 'StopUnit' && dbusType(err) === 'org.freedesktop.systemd1.NoSuchUnit') return 'done';
      throw mapDbusError(err, `cannot ${verb} ${name}`);
    }
    return waitForJob(job, name, verb, timeoutMs);
  }

  // One Get per property, all in flight at once: GetAll(Service) is ~250 properties (ExecStart arrays,
  // cgroup settings) that dbus-next unmarshals in JS, about 0.2 s per unit under emulation for 5 used.
  async function getProps(path: string, iface: string, names: readonly string[]): Promise<Record<string, unknown>> {
    const values = await Promise.all(names.map(async n => ((await conn.call(SD, path, PROPS, 'Get', 'ss', [iface, n]))[0] as { value: unknown }).value));
    return Object.fromEntries(names.map((n, i) => [n, values[i]]));
  }

  // A unit's object path does not change while mreg runs; a watch asks for the same unit every second.
  const paths = new Map<string, string>();
  async function unitPath(name: string): Promise<string> {
    let path = paths.get(name);
    if (!path) paths.set(name, path = ((await manager('LoadUnit', 's', [name])) as [string])[0]);
    return path;
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
    startUnit: (name, opts) => runJob('StartUnit', name, opts?.timeoutMs, opts?.mode),
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
        // Non-service units (.target, .socket) have no Service interface.
        const [u, s] = await Promise.all([getProps(path, UNIT, UNIT_PROPS),
          name.endsWith('.service') ? getProps(path, SERVICE, SERVICE_PROPS) : Promise.resolve({} as Record<string, unknown>)]);
        const str = (p: Record<string, unknown>, k: string) => String(p[k] ?? '');
        const num = (p: Record<string, unknown>, k: string) => Number(p[k] ?? 0);
        const inv = u.InvocationID as Uint8Array | undefined;
        return {
          ...exitsOf(u, s),
          name,
          loadState: str(u, 'LoadState'),
          subState: str(u, 'SubState'),
          activeEnterTimestamp: usToMs(u.ActiveEnterTimestamp),
          stateChangeTimestamp: usToMs(u.StateChangeTimestamp),
          mainPid: num(s, 'MainPID'),
          fragmentPath: str(u, 'FragmentPath'),
          sourcePath: str(u, 'SourcePath'),
          needDaemonReload: u.NeedDaemonReload === true,
          invocationId: inv && inv.length ? Buffer.from(inv).toString('hex') : undefined,
        };
      } catch (err) {
        throw mapDbusError(err, `cannot read the state of ${name}`);
      }
    },
    // 5 Gets instead of unitState's 14 and no LoadUnit after the first: under emulation the full read
    // was about 0.15 s of mreg's CPU a second while it waited for health, 3 times the probes' own cost.
    async unitExits(name) {
      try {
        const path = await unitPath(name);
        const [u, s] = await Promise.all([getProps(path, UNIT, ['ActiveState']), getProps(path, SERVICE, EXIT_PROPS)]);
        return exitsOf(u, s);
      } catch (err) {
        throw mapDbusError(err, `cannot read the state of ${name}`);
      }
    },
    // Read right after the stop job: a daemon-reload after the unit file went would unload it and its run's statuses.
    async stopPostsSucceeded(name, sinceMs) {
      try {
        const { ExecStopPost } = await getProps(await unitPath(name), SERVICE, ['ExecStopPost']);
        return stopPostsSucceededSince(ExecStopPost, sinceMs);
      } catch {
        return false;
      }
    },
    async close() {
      for (const w of waiters.values()) w('canceled');
      waiters.clear();
      conn.disconnect();
    },
  };
}
