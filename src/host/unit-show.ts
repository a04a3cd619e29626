// Unit states read with one `systemctl show` process, for commands that only look (status). Jobs and
// reloads stay on the Manager's D-Bus API (host/systemd.ts). Measured in the test VM (issue 19): the
// D-Bus client's cold connect and its per-property Gets took about 0.9 s of status, this 0.15 s.
import { HostError } from '../errors.js';
import { busAddress, noBusError } from './dbus.js';
import { runSmall, tailLines } from './exec.js';
import type { Identity } from './facts.js';
import type { UnitState } from './systemd.js';

export type ShownState = Pick<UnitState, 'name' | 'loadState' | 'activeState' | 'subState' | 'stateChangeTimestamp' | 'activeEnterTimestamp' | 'mainPid' | 'nRestarts' | 'result'
  | 'needDaemonReload' | 'fragmentPath' | 'sourcePath'>;

// Monotonic, not StateChangeTimestamp: its text form depends on the host's time zone, and systemd 239
// (RHEL 8) has no --timestamp= to change that.
const SHOWN = ['Id', 'LoadState', 'ActiveState', 'SubState', 'StateChangeTimestampMonotonic', 'ActiveEnterTimestampMonotonic', 'MainPID', 'NRestarts', 'Result',
  'NeedDaemonReload', 'FragmentPath', 'SourcePath'] as const;

/** `systemctl [--user] show` of `names`, in their order. Rejects with HostError when the manager cannot be reached. */
export async function showUnits(who: Pick<Identity, 'scope' | 'runtimeDir'>, names: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ShownState[]> {
  const { scope } = who;
  const args = [...(scope === 'rootless' ? ['--user'] : []), 'show', `--property=${SHOWN.join(',')}`, '--', ...names];
  const { address, socket } = busAddress(scope, env);
  // systemctl --user finds the manager through XDG_RUNTIME_DIR, which `su` and `sudo -u` do not set.
  const runtimeDir = scope === 'rootless' ? who.runtimeDir : env.XDG_RUNTIME_DIR;
  const res = await runSmall('systemctl', args, { env: { ...env, XDG_RUNTIME_DIR: runtimeDir } }).catch((err: NodeJS.ErrnoException) => {
    throw new HostError(`cannot run systemctl: ${err.message}`, err.code === 'ENOENT' ? 'mreg needs a host that runs systemd' : undefined, { cause: err });
  });
  if (res.exitCode !== 0) {
    const said = tailLines(res.stderr, 1)[0] ?? `exit code ${res.exitCode}`;
    throw noBusError(scope, address, new Error(said), `systemctl ${args.slice(0, scope === 'rootless' ? 2 : 1).join(' ')} failed${socket ? ` (bus ${socket})` : ''}: ${said}`);
  }
  return parseShow(res.stdout, names, wallClockOf);
}

/** Parses show's blocks (one per unit, blank-line separated, in the order asked). */
export function parseShow(stdout: string, names: readonly string[], toWallMs: (monotonicUs: number) => number | undefined): ShownState[] {
  const blocks = stdout.split(/\n\s*\n/).map(b => b.trim()).filter(b => b !== '');
  if (blocks.length !== names.length) {
    throw new HostError(`systemctl show answered for ${blocks.length} units, asked for ${names.length}`, undefined);
  }
  return blocks.map((block, i) => {
    const p = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) p.set(line.slice(0, eq), line.slice(eq + 1));
    }
    const num = (k: string) => Number(p.get(k) || 0) || 0;
    return {
      name: names[i]!,
      loadState: p.get('LoadState') ?? '',
      activeState: p.get('ActiveState') ?? '',
      subState: p.get('SubState') ?? '',
      stateChangeTimestamp: toWallMs(num('StateChangeTimestampMonotonic')),
      activeEnterTimestamp: toWallMs(num('ActiveEnterTimestampMonotonic')),
      mainPid: num('MainPID'),
      nRestarts: num('NRestarts'),
      result: p.get('Result') ?? '',
      needDaemonReload: p.get('NeedDaemonReload') === 'yes',
      fragmentPath: p.get('FragmentPath') ?? '',
      sourcePath: p.get('SourcePath') ?? '',
    };
  });
}

/** Wall-clock ms of a CLOCK_MONOTONIC timestamp in µs (Node's hrtime reads the same clock); 0 = never. */
export function wallClockOf(monotonicUs: number, now?: { monoUs: number; wallMs: number }): number | undefined {
  if (monotonicUs <= 0) return undefined;
  const { monoUs, wallMs } = now ?? { monoUs: Number(process.hrtime.bigint() / 1000n), wallMs: Date.now() };
  return Math.round(wallMs - (monoUs - monotonicUs) / 1000);
}
