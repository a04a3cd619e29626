// The one executor: runs planned actions in order through the ports and stops at the first failure.
import { HostError, UnitFailedError } from '../errors.js';
import { serializeRecord } from '../install-spec/record.js';
import type { Output } from '../ui/output.js';
import { describeAction, type Action } from './action.js';
import { lockAsRead, type ReadBefore } from './lock-as-read.js';
import type { ActionPorts, FilePorts, HostPorts, Identity } from './ports.js';
import { allInOrder } from '../concurrent.js';

export interface ExecuteOptions {
  out: Output;
  /** The hint of a UnitFailedError when a unit's job fails, e.g. how to resume, or where to look. */
  unitFailedHint?: string | ((unit: string) => string);
  /** The hint when a unit to start is not loaded: how to see why the generator made none. */
  notGeneratedHint?: string;
  /**
   * When the run's time is up (ms since epoch): each job and the health wait get only what is left of it
   * (upgrade's --timeout). Without it, a job gets START_TIMEOUT_MS.
   */
  deadline?: number;
  /** Hears each action as it (and the batch it ran in) ends: the caller's step log. */
  done?: (a: Action) => void;
}

/** Start and restart jobs: the first start of a fresh install pulls images' layers into containers, under emulation too. */
export const START_TIMEOUT_MS = 15 * 60_000;

/**
 * Runs `actions` in order (consecutive stop jobs, start jobs, and leftover containers, together: see TOGETHER).
 * Consecutive actions with the same `progress` run as one step with one progress line. Rejects with the
 * first failure (HostError, UnitFailedError with the journal tail); nothing after its batch runs (what ran
 * beside it in the batch ends first), and since every action is idempotent a re-run of the same plan finishes the job.
 */
export async function executeActions(actions: readonly Action[], given: ActionPorts | LazyPorts, opts: ExecuteOptions): Promise<Executed> {
  const ports = lazy(given);
  const run: RunState = { opts, since: Date.now(), watched: new Set(actions.flatMap(a => (isLeftover(a) ? [a.unit] : []))), removedOnStop: new Set(), written: [] };
  for (let i = 0; i < actions.length;) {
    const progress = actions[i]!.progress;
    let end = i + 1;
    while (end < actions.length && actions[end]!.progress === progress) end++;
    const group = actions.slice(i, end);
    const step = async () => {
      for (const batch of batches(group)) {
        await runBatch(batch, ports, run);
        for (const a of batch) opts.done?.(a);
      }
    };
    if (progress === undefined) await step();
    else await opts.out.step(progress, step);
    i = end;
  }
  return { written: run.written };
}

/** What a run changed that its caller acts on: the files whose content it wrote (their services restart). */
export interface Executed { written: string[] }

/**
 * The ports of a run whose file actions need no systemd: connected only when an action asks for more
 * (up's no-op run writes nothing and loads no D-Bus, issue 19).
 */
export interface LazyPorts {
  files: FilePorts;
  /** The scope's podman, when the caller has it: a secret's creation then needs no systemd either. */
  podman?: ActionPorts['podman'];
  connect: () => Promise<ActionPorts>;
  /**
   * Waits until the registry answers /health/instance (wait-health): at most `ms`, what is left of the run's
   * deadline, or the port's own time when the run has none; rejects with HostError (CrashLoopError).
   */
  health?: (ms: number | undefined) => Promise<unknown>;
}

/** For a list of file actions only (a record and its pointer): any other action in it is a bug. */
export function filesOnly(files: FilePorts): LazyPorts {
  return { files, connect: () => Promise.reject(new Error('internal: an action beyond files, run with file ports only')) };
}

/** Both as one shape: `files` (and podman, when given) at once, the rest on first use. */
interface Ports { files: FilePorts; podman: () => Promise<ActionPorts['podman']>; all: () => Promise<ActionPorts>; health?: LazyPorts['health'] }

function lazy(p: ActionPorts | LazyPorts): Ports {
  if (!('connect' in p)) return { files: p.files, podman: async () => p.podman, all: async () => p };
  let connecting: Promise<ActionPorts> | undefined;
  const all = () => (connecting ??= p.connect());
  const { podman, health } = p;
  return { files: p.files, podman: podman ? async () => podman : async () => (await all()).podman, all, health };
}

/** What a job (or the health wait) may take: what is left of the run's deadline, else `otherwise`. */
function timeLeft(opts: ExecuteOptions, otherwise: number): number {
  return opts.deadline === undefined ? otherwise : Math.min(otherwise, Math.max(opts.deadline - Date.now(), 0));
}

/**
 * One run's memory: the units whose stop in this run removed their container or pod (their ExecStopPost
 * ran since `since` and exited 0), so "remove it if a crash left it" needs no podman process (issue 19).
 */
interface RunState {
  opts: ExecuteOptions;
  since: number;
  /** The units a later removal names: only their stops are asked about. */
  watched: ReadonlySet<string>;
  removedOnStop: Set<string>;
  /** The write-file paths whose content this run changed, in order. */
  written: string[];
}

type Leftover = Extract<Action, { kind: 'remove-container' | 'remove-pod' }>;
const isLeftover = (a: Action): a is Leftover => a.kind === 'remove-container' || a.kind === 'remove-pod';

/** The one executor under the scope's lock (down, restore --force): released whatever happens. */
export async function executeLocked(host: HostPorts, who: Identity, actions: readonly Action[], opts: ExecuteOptions, read: ReadBefore & { again: string }): Promise<Executed> {
  // The actions were planned from `read`: they run only on that record.
  const release = await lockAsRead(host, who, read, read.again);
  try {
    return await executeActions(actions, await host.actionPorts(who), opts);
  } finally {
    await release();
  }
}

/**
 * Stop jobs are enqueued together, as `systemctl stop a b c` does: systemd runs them in the order the
 * units' After= gives (quay-app first; redis and postgres side by side; the pod, then the volumes).
 * Start jobs too, the other way round (postgres and redis side by side, quay-app after both).
 * Leftover containers go in one podman process. Secrets are created at once: podman serialises writers
 * on its secrets.lock (containers/common pkg/secrets Store).
 */
const TOGETHER: ReadonlySet<Action['kind']> = new Set(['stop-unit', 'start-unit', 'remove-container', 'create-secret']);

/**
 * The removal of leftover containers and the pod, after the unit files went, touches nothing systemd's
 * reload reads: the two run side by side (each about a second under emulation), the podman ones in order.
 */
const BESIDE_RELOAD: ReadonlySet<Action['kind']> = new Set(['remove-container', 'remove-pod']);

/** Consecutive actions that run as one: [reload, ...podman removals] or TOGETHER's runs of one kind. */
function batches(group: readonly Action[]): Action[][] {
  const out: Action[][] = [];
  for (const a of group) {
    const last = out[out.length - 1];
    const beside = last?.[0]!.kind === 'daemon-reload' && BESIDE_RELOAD.has(a.kind);
    if (last && (beside || (TOGETHER.has(a.kind) && last[0]!.kind === a.kind))) last.push(a); else out.push([a]);
  }
  return out;
}

/** Runs a batch; every job in it ends before the first failure, in plan order, is thrown. */
async function runBatch(batch: readonly Action[], ports: Ports, run: RunState): Promise<void> {
  if (batch.length === 1) return runAction(batch[0]!, ports, run);
  if (batch[0]!.kind === 'daemon-reload') {
    const removals = batches(batch.slice(1));
    await allInOrder([runAction(batch[0]!, ports, run), (async () => { for (const b of removals) await runBatch(b, ports, run); })()]);
    return;
  }
  if (batch[0]!.kind === 'start-unit') return startJobs(batch, ports, run);
  if (batch[0]!.kind === 'create-secret') return createSecrets(batch, ports);
  if (batch[0]!.kind === 'remove-container') {
    const names = batch.flatMap(a => (a.kind === 'remove-container' && !run.removedOnStop.has(a.unit) ? [a.name] : []));
    return names.length > 0 ? (await ports.all()).podman.containersRemove(names) : undefined;
  }
  await allInOrder(batch.map(a => runAction(a, ports, run)));
}

/** Waits for every create, then rejects with the first failure in plan order. */
async function createSecrets(batch: readonly Action[], ports: Ports): Promise<void> {
  const podman = await ports.podman();
  const results = await Promise.allSettled(batch.map(a => (a.kind === 'create-secret' ? podman.secretCreate(a.name, a.value, { replace: a.replace }) : undefined)));
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

type StartJob = Extract<Action, { kind: 'start-unit' }>;

/**
 * Every unit must be loaded (else nothing is enqueued), a failed one is reset; then every job at once, and the
 * first failure in plan order is the cause: quay-app's job only says "dependency" when postgres failed.
 */
async function startJobs(batch: readonly Action[], given: Ports, run: RunState): Promise<void> {
  const jobs = batch as readonly StartJob[];
  const ports = await given.all();
  for (const a of jobs) {
    const state = await ports.systemd.unitState(a.unit);
    if (state.loadState !== 'loaded') throw new HostError(`${a.unit} was not generated (LoadState=${state.loadState})`, run.opts.notGeneratedHint);
    if (state.activeState === 'failed') await ports.systemd.resetFailed(a.unit);
  }
  const timeoutMs = timeLeft(run.opts, START_TIMEOUT_MS);
  if (timeoutMs <= 0) throw await unitFailed(jobs[0]!.unit, 'timeout', ports, run.opts, 'the time ran out before its job was asked for');
  for (const a of jobs) run.opts.out.info(`    ${describeAction(a)}`);
  const opts = { timeoutMs };
  // Every job ends before the first failure, in plan order, is told. On a deadline, a job the port gave up
  // on (its timeout) is its unit's failure, with its journal: upgrade rolls back from the unit it names.
  const results = await Promise.allSettled(jobs.map(a => (a.restart ? ports.systemd.restartUnit(a.unit, opts) : ports.systemd.startUnit(a.unit, { ...opts, mode: a.mode }))));
  for (const [i, r] of results.entries()) {
    const unit = jobs[i]!.unit;
    if (r.status === 'fulfilled' && (r.value === 'done' || r.value === 'skipped')) continue;
    if (r.status === 'fulfilled') throw await unitFailed(unit, r.value, ports, run.opts);
    if (run.opts.deadline === undefined || !(r.reason instanceof HostError)) throw r.reason;
    throw await unitFailed(unit, 'timeout', ports, run.opts, `not ready within ${Math.round(timeoutMs / 1000)} s (${r.reason.message})`);
  }
}

/** `reason`, when given, says what failed in place of the job's result. */
async function unitFailed(unit: string, result: string, ports: ActionPorts, opts: ExecuteOptions, reason?: string): Promise<UnitFailedError> {
  const hint = typeof opts.unitFailedHint === 'function' ? opts.unitFailedHint(unit) : opts.unitFailedHint;
  return new UnitFailedError(unit, result, await ports.journalTail(unit), hint, reason === undefined ? undefined : `${unit}: ${reason}`);
}

async function runAction(a: Action, given: Ports, run: RunState): Promise<void> {
  const { opts } = run;
  const { files } = given;
  switch (a.kind) {
    case 'remove-file': return files.remove(a.path);
    case 'make-dir': {
      await files.makeDir(a.path, a.mode);
      return a.exact ? files.ensureMode(a.path, a.mode) : undefined;
    }
    // Same content: only the mode may have drifted, and a chmod needs no restart.
    case 'write-file': case 'write-record': {
      const content = a.kind === 'write-file' ? a.content : serializeRecord(a.record);
      const mode = a.kind === 'write-file' ? a.mode : 0o600;
      if ((await files.read(a.path)) === content) return files.ensureMode(a.path, mode);
      await files.write(a.path, content, mode);
      if (a.kind === 'write-file') run.written.push(a.path);
      return;
    }
    case 'copy-into': return files.copyInto(a.from, a.into, a.what);
    case 'keep': if (a.warn) opts.out.warn(`kept ${a.what}`); return;
    case 'wait-health': {
      if (!given.health) throw new Error('internal: a health wait, run without a health port');
      await given.health(opts.deadline === undefined ? undefined : timeLeft(opts, Infinity));
      return;
    }
    case 'start-unit': return startJobs([a], given, run);
    case 'create-secret': return createSecrets([a], given);
  }
  const ports = await given.all();
  switch (a.kind) {
    case 'restart-unit': {
      opts.out.info(`    ${describeAction(a)}`);
      const result = await ports.systemd.restartUnit(a.unit, { timeoutMs: timeLeft(opts, START_TIMEOUT_MS) });
      if (result !== 'done') throw await unitFailed(a.unit, result, ports, opts);
      return;
    }
    case 'stop-unit': {
      const result = await ports.systemd.stopUnit(a.unit);
      if (result !== 'done' && result !== 'skipped') throw await unitFailed(a.unit, result, ports, opts);
      if (run.watched.has(a.unit) && await ports.systemd.stopPostsSucceeded(a.unit, run.since)) run.removedOnStop.add(a.unit);
      return ports.systemd.resetFailed(a.unit);
    }
    case 'daemon-reload': return ports.systemd.reload();
    case 'remove-container': return run.removedOnStop.has(a.unit) ? undefined : ports.podman.containersRemove([a.name]);
    case 'remove-pod': return run.removedOnStop.has(a.unit) ? undefined : ports.podman.podRemove(a.name);
    case 'remove-secret': return ports.podman.secretRemove(a.name);
    case 'remove-volume': return ports.podman.volumeRemove(a.name);
    case 'disable-linger': return ports.disableLinger(a.uid);
    case 'give-back-dir': {
      const left = await ports.giveBackDir(a.dir, a.only, a.spare);
      if (left.length > 0) opts.out.warn(`kept ${a.dir.path}: it holds ${left.length} entr${left.length === 1 ? 'y' : 'ies'} mreg did not write (${left.slice(0, 3).join(', ')}${left.length > 3 ? ', …' : ''})`);
      return;
    }
  }
}
