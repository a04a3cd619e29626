// Effectful half of `-H host`: find this mreg's single-file executable, put it on the target once,
// and run the same command there over the system ssh, relaying output and the exit code.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { hostname as osHostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Options } from 'execa';
import { loadExeca } from '../host/execa.js';
import { HostError, MregError, UsageError } from '../errors.js';
import { archiveKind } from '../apply/image-archive.js';
import { listTar } from '../host/tar.js';
import type { Output } from '../ui/output.js';
import { runCommand } from '../host/exec.js';
import { VERSION } from '../version.js';
import {
  forwardFlags, haveExecutableScript, isLocalTarget, parseTarget, remoteCommandLine, remoteEnv, remoteExecutableName,
  sshBaseArgs, uploadScript, type RemoteCommand, type RemoteTarget,
} from './argv.js';

/** The remote mreg ended non-zero: its own messages are already on stderr; keep its exit code. */
export class RemoteExitError extends MregError {
  readonly exitCode: 1 | 2 | 3;
  constructor(target: string, code: number) {
    super(`mreg on ${target} exited with code ${code}`);
    this.exitCode = code as 1 | 2 | 3;
  }
}

export interface RemoteContext {
  out: Output;
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
}

/** -H as a remote target, or undefined when absent or naming this host (then the command runs here). */
export async function remoteTarget(flags: Record<string, unknown>): Promise<RemoteTarget | undefined> {
  const t = parseTarget(flags);
  if (!t) return undefined;
  let fqdn = '';
  try {
    const r = await runCommand('hostname', ['-f']);
    if (r.exitCode === 0) fqdn = r.stdout.trim();
  } catch { /* no hostname(1): the short name still counts */ }
  // This host as another user (-u root from alice): over ssh, as that user, not here as this one.
  const me = userInfo().username;
  return isLocalTarget(t.hostname, { hostname: osHostname(), fqdn }) && (t.user === undefined || t.user === me) ? undefined : t;
}

/** The file to copy: a Node SEA is itself; else MREG_BUNDLE; else `npm run bundle`'s output. */
async function findExecutable(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const sea = await import('node:sea');
    if (sea.isSea()) return process.execPath;
  } catch { /* Node without node:sea: not a SEA */ }
  const candidates = env.MREG_BUNDLE ? [env.MREG_BUNDLE] : [];
  try { candidates.push(fileURLToPath(new URL('../../dist/release/mreg', import.meta.url))); } catch { /* bundled: no package root */ }
  for (const c of candidates) {
    try { await access(c, constants.R_OK); return c; } catch { /* try the next */ }
  }
  throw new HostError(`no single-file mreg to copy to the target (looked for ${candidates.join(', ') || 'MREG_BUNDLE'})`,
    'run `npm run bundle` first, or use the released mreg executable');
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

interface SshOptions {
  stdin?: 'ignore' | { file: string };
  stdout?: 'inherit' | { file: string };
  stderr?: 'inherit';
  timeout?: number;
}
interface SshResult { exitCode?: number; stderr?: string; failed: boolean; signal?: string; code?: string }

/** Runs `command` on the target with the same flags; resolves on remote exit 0, else throws. */
export async function runRemote(command: RemoteCommand, target: RemoteTarget, ctx: RemoteContext,
  o: { confirmed?: boolean; positional?: readonly string[]; stdoutFile?: string } = {}): Promise<void> {
  const { out, flags, env } = ctx;
  const archive = typeof flags.imageArchive === 'string' ? flags.imageArchive : undefined;
  if (archive !== undefined) {
    try { await access(archive, constants.R_OK); } catch {
      throw new UsageError(`--image-archive ${archive}: file not found or not readable on this host; it is streamed to ${target.hostname}, give a local path`);
    }
    // The stream reaches `podman load` on the target; mirror-registry's archive needs its members imported one by one.
    if (archiveKind(await listTar(archive)).kind === 'mirror-registry') {
      throw new UsageError(`--image-archive ${archive}: mirror-registry's image-archive.tar cannot be streamed with -H; copy it to ${target.hostname} and run mreg there with -i, or give a \`podman save\` archive`);
    }
  }
  if (target.key) {
    try { await access(target.key, constants.R_OK); } catch { throw new UsageError(`--ssh-key ${target.key}: file not found or not readable`); }
  }
  const exe = await findExecutable(env);
  // Hashing the executable (~90 MB) takes a fraction of a second: done while ssh connects, not before.
  const hashing = sha256(exe);
  hashing.catch(() => undefined); // awaited below; a read error is reported there
  const args = [...forwardFlags(command, flags, target, { archiveFromStdin: archive !== undefined, confirmed: o.confirmed }), ...(o.positional ?? [])];

  // A private folder for the control socket: one TCP connection and one authentication for all calls.
  const dir = await mkdtemp(join(tmpdir(), 'mreg-ssh-'));
  const base = sshBaseArgs(target, join(dir, 'cm'), env.MREG_SSH_CONFIG);
  const where = `${target.user ? `${target.user}@` : ''}${target.hostname}`;
  // `ssh OPTIONS -- HOST [COMMAND]`: `--` so nothing after it is read as an ssh option.
  const ssh = async (extra: string[], remote?: string, opts: SshOptions = {}): Promise<SshResult> =>
    (await (await loadExeca()).execa('ssh', [...base, ...extra, '--', target.hostname, ...(remote ? [remote] : [])], { reject: false, stdin: 'ignore', ...opts } as Options)) as unknown as SshResult;
  try {
    out.debug(`$ ssh ${[...base, target.hostname].join(' ')}`);
    // -f -N: authenticate, then keep the master in the background (its stdio goes to /dev/null).
    const master = await ssh(['-o', 'ControlMaster=yes', '-o', 'ControlPersist=300', '-f', '-N'], undefined, { timeout: 120_000 });
    if (master.failed && master.exitCode === undefined && master.code === 'ENOENT') {
      throw new HostError('ssh not found on this host', 'install the OpenSSH client (openssh-clients or openssh-client)');
    }
    if (master.exitCode !== 0) {
      throw new HostError(`cannot connect to ${where} over ssh: ${String(master.stderr).trim().split('\n').pop() ?? `exit ${master.exitCode}`}`,
        'check the host name, -u and -k; mreg runs ssh with BatchMode=yes, so the key must work without a password prompt');
    }
    const exeSha = await hashing;
    const exeName = remoteExecutableName(VERSION, exeSha);
    const have = await ssh([], haveExecutableScript(exeName, exeSha));
    if (have.exitCode !== 0) {
      await out.step(`copy mreg to ${where}`, async () => {
        const up = await ssh([], uploadScript(exeName, exeSha), { stdin: { file: exe } });
        // execa reports a local failure (the file could not be read) with `failed`, not the exit code.
        if (up.exitCode !== 0 || up.failed) throw new HostError(`could not copy mreg to ${where}: ${String(up.stderr ?? '').trim() || up.code || `exit ${up.exitCode}`}`);
      });
    }
    const line = remoteCommandLine(exeName, command, args, remoteEnv(command, flags, target));
    // --verbose names the command, never the first user's password (mreg-up(1): it stays out of output).
    out.debug(`$ ssh … ${target.hostname} ${remoteCommandLine(exeName, command, args.map(hidePassword), remoteEnv(command, flags, target))}`);
    const run = await ssh([], line, { stdin: archive !== undefined ? { file: archive } : 'ignore', stdout: o.stdoutFile !== undefined ? { file: o.stdoutFile } : 'inherit', stderr: 'inherit' });
    // 255 is ssh's own failure (mreg never exits 255): say so rather than pass it on.
    if (run.exitCode === 255) throw new HostError(`the ssh connection to ${where} failed while mreg ran there`, 'run the command again; mreg up and down are safe to repeat');
    if (run.exitCode === undefined) throw new HostError(`ssh to ${where} ended without an exit code${run.signal ? ` (${run.signal})` : ''}`);
    if (run.exitCode !== 0) throw new RemoteExitError(where, run.exitCode);
    // Exit 0 there, but a local failure here (a full disk under backup's file, an archive that could not be read).
    if (run.failed) throw new HostError(`mreg on ${where} ended, but this host could not ${o.stdoutFile !== undefined ? `write ${o.stdoutFile}` : 'relay its input or output'}${run.code ? ` (${run.code})` : ''}`);
  } finally {
    await ssh(['-O', 'exit']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

function hidePassword(arg: string): string {
  return arg.startsWith('--initPassword=') ? '--initPassword=<hidden>' : arg;
}
