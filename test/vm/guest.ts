// Host-side access to the test VM (test/vm/vm.sh): run shell commands in the guest as root or as
// the rootless user `mreg`, and the one table of the two install scopes the suites drive. The runner
// boots the VM once and sets MREG_VM (and PORT) for every test.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Test } from 'tap';

export interface GuestResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GuestOptions {
  /** Fed to the command's stdin (use this for secrets: never put them in the command line). */
  input?: string;
  /** Kill the ssh session after this long (default 10 minutes: TCG is slow). */
  timeoutMs?: number;
}

/** Absolute path of vm.sh; throws when the suite was started without a VM (these tests never skip). */
export function requireVm(): string {
  const vm = process.env['MREG_VM'];
  if (!vm) {
    throw new Error(
      'MREG_VM is not set: the VM tests need a running test VM. Run `bash test/vm/vm.sh start`, copy the ' +
        'project to /opt/mreg in the guest, then set MREG_VM=/abs/path/test/vm/vm.sh (and PORT if not 2222).',
    );
  }
  return vm;
}

// vm.sh's run folder (its RUN default) and ssh options: a command goes straight over the user's
// ControlMaster when vm.sh has one open. Through `bash vm.sh ssh` each command cost 0.16 s of host CPU
// (the script's start, its master check, its panic greps) against 0.01 s; on two cores QEMU's vCPUs
// need that CPU, and the suites run thousands of commands. vm.sh stays the way in for the rest:
// opening the master (after each snapshot restore), and no master (MUX=0).
const runDir = () => process.env['RUN'] ?? `/tmp/mreg-vm-run-${process.env['PORT'] ?? '2222'}`;
const SSH_OPTS = ['-q', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR',
  '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=8', '-o', 'BatchMode=yes', '-o', 'ControlMaster=no'];

/** vm.sh's panic count: "Kernel panic" lines on the guest console. */
function panics(): { n: number; last: string } {
  let log = '';
  try { log = readFileSync(join(runDir(), 'console.log'), 'latin1'); } catch { /* no console yet */ }
  const oopses = log.split('\n').filter(l => /Oops|BUG:/.test(l));
  return { n: log.split('Kernel panic').length - 1, last: oopses.pop() ?? '' };
}

async function run(mode: 'ssh' | 'ussh', cmd: string, opts: GuestOptions = {}): Promise<GuestResult> {
  const vm = requireVm();
  const io = { reject: false, timeout: opts.timeoutMs ?? 600_000, ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }) };
  const dir = runDir();
  const mux = join(dir, `mux-${mode === 'ssh' ? 'root' : 'mreg'}`);
  if (process.env['MUX'] === '0' || !existsSync(mux)) {
    const r = await execa('bash', [vm, mode, cmd], io);
    return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? -1 };
  }
  const before = panics().n;
  const r = await execa('ssh', [...SSH_OPTS, '-i', join(dir, 'id_ed25519'), '-p', process.env['PORT'] ?? '2222', '-o', `ControlPath=${mux}`,
    `${mode === 'ssh' ? 'root' : 'mreg'}@127.0.0.1`, '--', cmd], io);
  let stderr = String(r.stderr ?? '');
  // As vm.sh says it: a lost connection is most often the guest kernel dying under TCG.
  const after = r.exitCode === 255 ? panics() : undefined;
  if (after && after.n > before) stderr += `\n[guest.ts] the guest kernel panicked during this command (so ssh lost it): ${after.last}`;
  return { stdout: String(r.stdout ?? ''), stderr, exitCode: r.exitCode ?? -1 };
}

/** Runs `cmd` (a bash command line) as root in the guest. */
export function root(cmd: string, opts?: GuestOptions): Promise<GuestResult> {
  return run('ssh', cmd, opts);
}

/** Runs `cmd` as user mreg (uid 1000; XDG_RUNTIME_DIR and the user bus are set by pam_systemd). */
export function user(cmd: string, opts?: GuestOptions): Promise<GuestResult> {
  return run('ussh', cmd, opts);
}

/** Polls `probe` until it returns true or `timeoutMs` passes; resolves to whether it succeeded. */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 2000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() + intervalMs > end) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `systemctl reboot`, then waits (up to 10 minutes) until the guest answers over ssh again. */
export async function rebootGuest(): Promise<boolean> {
  await root('systemctl reboot', { timeoutMs: 30_000 });
  // ssh may still answer for a moment while the guest goes down.
  await new Promise(r => setTimeout(r, 10_000));
  return waitFor(async () => (await root('true', { timeoutMs: 15_000 })).exitCode === 0, 10 * 60_000, 3000);
}

/** Compact description of a result for assertion messages. */
export function describe(r: GuestResult): string {
  const tail = (s: string) => s.trim().split('\n').slice(-15).join('\n');
  return `exit ${r.exitCode}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/**
 * Retries a guest command whose ssh connection failed (exit 255, no output: vm.sh's 5 s
 * ConnectTimeout trips when the guest is overloaded); the command never ran, so a retry is safe.
 */
function retrying(run: (cmd: string, opts?: GuestOptions) => Promise<GuestResult>) {
  return async (cmd: string, opts?: GuestOptions): Promise<GuestResult> => {
    for (let i = 0; ; i++) {
      const r = await run(cmd, opts);
      if (r.exitCode !== 255 || r.stderr.trim() !== '' || r.stdout !== '' || i >= 5) return r;
      await new Promise(res => setTimeout(res, 5000));
    }
  };
}
/** root() and user() that survive an ssh connect timeout; the scopes run through these. */
export const asRoot = retrying(root);
export const asUser = retrying(user);

/** The guest's FQDN (set when the image is built); installs use it as --quayHostname. */
export const FQDN = 'mreg-vm.example.test';

/** Where the contract images built into the guest (test/images) live. */
export const IMG = 'localhost/mreg-test';
/** The contract images in the form of mreg's image flags. */
export const IMAGE_FLAGS = `--quayImage ${IMG}/quay:v1 --pgImage ${IMG}/postgres:15 --redisImage ${IMG}/redis:7`;

/** One install scope as the tests drive it: who runs commands, and where that scope keeps things. */
export interface Scope {
  name: 'rootful' | 'rootless';
  run: (cmd: string, opts?: GuestOptions) => Promise<GuestResult>;
  systemctl: string;
  journalctl: string;
  /** Published port: rootful and rootless installs run side by side on different ports. */
  port: number;
  /** `${FQDN}:${port}`, the --quayHostname and the registry's name for podman. */
  host: string;
  /** Concrete paths (not $HOME/...): tests compare them with what mreg prints. */
  quayRoot: string;
  quadletDir: string;
  certsDir: string;
  lock: string;
  uid: number;
  /** The scope user's HOME, for files a test hands to mreg (key files, CA bundles). */
  home: string;
  /** The CA clients trust, when it is not the install's quay-rootCA/rootCA.pem (a user's own certificate). */
  caFile?: string;
}

// The rootless user is mreg (uid 1000, HOME /home/mreg), made by vm.sh.
const ALL_SCOPES: readonly Scope[] = [
  { name: 'rootful', run: asRoot, systemctl: 'systemctl', journalctl: 'journalctl', port: 8443, host: `${FQDN}:8443`,
    quayRoot: '/etc/quay-install', quadletDir: '/etc/containers/systemd', certsDir: '/etc/containers/certs.d',
    lock: '/run/mreg.lock', uid: 0, home: '/root' },
  { name: 'rootless', run: asUser, systemctl: 'systemctl --user', journalctl: 'journalctl --user', port: 9443, host: `${FQDN}:9443`,
    quayRoot: '/home/mreg/quay-install', quadletDir: '/home/mreg/.config/containers/systemd', certsDir: '/home/mreg/.config/containers/certs.d',
    lock: '/run/user/1000/mreg.lock', uid: 1000, home: '/home/mreg' },
];

/** Debug knob: MREG_SCOPES=rootful or rootless runs one scope only (CI runs both). */
export const SCOPES: readonly Scope[] = ALL_SCOPES.filter(s => !process.env['MREG_SCOPES'] || process.env['MREG_SCOPES'].split(',').includes(s.name));
// A misspelt scope would leave no scope, and every sideBySide block would pass with no test in it.
if (SCOPES.length === 0) throw new Error(`MREG_SCOPES=${process.env['MREG_SCOPES']}: names no scope (rootful, rootless)`);

/**
 * One subtest per scope, all running at once (each scope has its own port, lock and quayRoot); the
 * steps `body` registers inside one scope still run in order. Halves the suite's wall time on TCG.
 */
export function sideBySide<S extends { name: string }>(parent: Test, title: string, scopes: readonly S[], body: (t: Test, s: S) => void): void {
  parent.test(title, { jobs: scopes.length }, async t => {
    for (const s of scopes) t.test(s.name, async st => body(st, s));
  });
}
