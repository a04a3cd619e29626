// Pure half of `-H host`: is the target this host, the ssh argv, and the remote mreg command line.
import { UsageError } from '../errors.js';
import { flagsFor, longName, type CommandName, type FlagDef } from '../options-table.js';
import { DEFAULT_HOSTNAME_ENV } from '../install-spec/defaults.js';

export type RemoteCommand = 'up' | 'down' | 'status' | 'upgrade' | 'backup';

export interface RemoteTarget {
  hostname: string;
  user?: string;
  key?: string;
}

/** Flags that only steer the local side; the remote mreg acts on itself. */
const TARGET_KEYS = new Set(['targetHostname', 'targetUsername', 'sshKey']);

/** A POSIX shell word: bare when it is plainly safe, else single-quoted (`'` as `'\''`). */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Whether `target` names this host, so the command runs here as without -H. */
export function isLocalTarget(target: string, names: { hostname: string; fqdn: string }): boolean {
  const t = target.toLowerCase().replace(/\.$/, '');
  const mine = new Set(['localhost', 'localhost.localdomain', '127.0.0.1', '::1']);
  for (const n of [names.hostname, names.fqdn]) {
    const l = n.toLowerCase();
    if (l) { mine.add(l); mine.add(l.split('.')[0]!); }
  }
  return mine.has(t);
}

/**
 * -H/-u/-k as a target, or a UsageError. Values reach ssh's argv, so one starting with `-`
 * (an ssh option) or holding odd characters is refused rather than passed on.
 */
export function parseTarget(flags: Record<string, unknown>): RemoteTarget | undefined {
  const problems: string[] = [];
  const str = (key: string, flag: string): string | undefined => {
    const v = flags[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') { problems.push(`${flag} needs a value`); return undefined; }
    return v;
  };
  const hostname = str('targetHostname', '--targetHostname');
  const user = str('targetUsername', '--targetUsername');
  const key = str('sshKey', '--ssh-key');
  if (hostname !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/.test(hostname)) {
    problems.push(`--targetHostname ${JSON.stringify(hostname)}: not a host name or IP address; e.g. -H registry.example.com`);
  }
  if (user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(user)) {
    problems.push(`--targetUsername ${JSON.stringify(user)}: not a user name; e.g. -u root`);
  }
  if (key !== undefined && key.startsWith('-')) problems.push(`--ssh-key ${JSON.stringify(key)}: not a file name; give the path of a private key`);
  if (problems.length > 0) throw new UsageError(problems, 'see: mreg --help');
  // -u/-k without -H act on this host, as with mirror-registry (whose -H defaults to this host).
  if (hostname === undefined) return undefined;
  return { hostname, ...(user !== undefined ? { user } : {}), ...(key !== undefined ? { key } : {}) };
}

/** ssh options shared by every call: never prompt, one connection through a private control socket. */
export function sshBaseArgs(t: RemoteTarget, controlPath: string, configFile?: string): string[] {
  return [
    ...(configFile ? ['-F', configFile] : []),
    // Never a terminal: a `RequestTTY force` in the user's ssh config would put a pty in the path of
    // backup's archive stream (and of -i -), and a pty rewrites bytes.
    '-T',
    '-o', 'BatchMode=yes',
    '-o', `ControlPath=${controlPath}`,
    ...(t.key ? ['-i', t.key] : []),
    ...(t.user ? ['-l', t.user] : []),
  ];
}

/** Where the uploaded executable lives on the target, one per version and content. */
export function remoteExecutableName(version: string, sha256: string): string {
  return `mreg-${version.replace(/[^A-Za-z0-9._-]/g, '_')}-${sha256.slice(0, 12)}`;
}

/** `$HOME/.cache/mreg/NAME` in double quotes so the remote shell expands $HOME; NAME holds no specials. */
export function remoteExecutablePath(name: string): string {
  return `"$HOME/.cache/mreg/${name}"`;
}

/** A shell test that `path` (quoted as the shell should see it) holds exactly the file whose sha256 is `sha256`. */
function holds(path: string, sha256: string): string {
  return `[ "$(sha256sum < ${path} | cut -d' ' -f1)" = ${sha256} ]`;
}

/**
 * Copies stdin to the executable path via a temp name, so a cut connection never leaves half a file, and
 * only when what arrived is the executable (an empty or short stream runs as an empty script: exit 0).
 */
export function uploadScript(name: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
  const dest = remoteExecutablePath(name);
  const tmp = `"$HOME/.cache/mreg/.${name}.$$"`;
  return `umask 077 && mkdir -p "$HOME/.cache/mreg" && cat > ${tmp} && { ${holds(tmp, sha256)} || { rm -f ${tmp}; echo "the copy of mreg arrived damaged" >&2; exit 1; }; }`
    + ` && chmod 755 ${tmp} && mv -f ${tmp} ${dest}`;
}

/** True (exit 0) on the target when its cached executable is there and is this one, byte for byte. */
export function haveExecutableScript(name: string, sha256: string): string {
  const path = remoteExecutablePath(name);
  return `test -x ${path} && ${holds(path, sha256)}`;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function takesValue(def: FlagDef): boolean {
  return def.flags.includes('<');
}

export interface ForwardOptions {
  /** Replaces --image-archive's value: the archive travels on ssh's stdin. */
  archiveFromStdin?: boolean;
  /** Add --yes: the purge was confirmed on this side. */
  confirmed?: boolean;
}

/** The flags to give the remote mreg: the parsed ones minus -H/-u/-k, long spellings only. */
export function forwardFlags(command: RemoteCommand, flags: Record<string, unknown>, target: RemoteTarget, o: ForwardOptions = {}): string[] {
  const args: string[] = [];
  if (flags.verbose) args.push('--verbose');
  if (flags.color === false) args.push('--no-color');
  if (flags.json) args.push('--json');
  for (const def of flagsFor(command as CommandName)) {
    const name = longName(def);
    const key = camel(name);
    if (TARGET_KEYS.has(key)) continue;
    let v = flags[key];
    if (key === 'imageArchive' && v !== undefined && o.archiveFromStdin) v = '-';
    if (key === 'yes' && o.confirmed) v = true;
    if (v === undefined || v === false) continue;
    // One word `--name=value`: cac reads a separate `-` (or any value starting with `-`) as a missing value.
    if (takesValue(def)) args.push(`--${name}=${String(v)}`);
    else args.push(`--${name}`);
  }
  return args;
}

/**
 * Environment for the remote mreg. mirror-registry names a new registry after the target, not after
 * `hostname -f` there; as a default, not a --quayHostname flag, so an install there keeps its name and port.
 */
export function remoteEnv(command: RemoteCommand, flags: Record<string, unknown>, target: RemoteTarget): Record<string, string> {
  return command === 'up' && flags.quayHostname === undefined ? { [DEFAULT_HOSTNAME_ENV]: target.hostname } : {};
}

/** The one string ssh hands to the remote shell: environment, executable, command, flags, every word quoted. */
export function remoteCommandLine(exeName: string, command: RemoteCommand, args: readonly string[], env: Readonly<Record<string, string>> = {}): string {
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return [...assignments, remoteExecutablePath(exeName), command, ...args.map(shellQuote)].join(' ');
}
