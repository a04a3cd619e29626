// Shared by commands: input files that must exist, -H (run on another host over ssh), the scope's
// lock, and how a dry run prints its plan.
import { access, constants, readFile } from 'node:fs/promises';
import { checkProvidedCert } from '../tls/index.js';
import { UsageError } from '../errors.js';
import type { Images, InstallSpec } from '../install-spec/spec.js';
import { IMAGE_FLAGS } from '../model/components.js';
import type { CommandContext } from '../cli.js';
import type { Action } from '../actions/action.js';
import { executeActions, type ExecuteOptions } from '../actions/execute.js';
import type { HostPorts } from '../actions/ports.js';
import { HEALTH_TIMEOUT_MS } from '../install-spec/defaults.js';
import type { RemoteCommand } from '../remote/argv.js';
import { dirname, resolve } from 'node:path';
import type { HostProbe, Identity } from '../actions/ports.js';
import { imageArchiveProblem } from '../apply/image-archive.js';
import type { Output } from '../ui/output.js';

/** Files named by flags must be readable, and a supplied certificate fit, before anything changes. */
export async function checkInputFiles(spec: InstallSpec, now: Date): Promise<void> {
  const problems: string[] = [];
  const need = async (flag: string, path: string, fix: string) => {
    try { await access(path, constants.R_OK); } catch { problems.push(`${flag} ${path}: file not found or not readable; ${fix}`); }
  };
  if (spec.tls.kind === 'provided') {
    await need('--sslCert', spec.tls.certPath, 'give the path of a PEM certificate');
    await need('--sslKey', spec.tls.keyPath, 'give the path of its PEM private key');
  }
  if (spec.imageArchive) {
    const problem = await imageArchiveProblem(spec.imageArchive);
    if (problem) problems.push(problem);
  }
  if (problems.length === 0 && spec.tls.kind === 'provided') {
    problems.push(...checkProvidedCert({
      certPem: await readFile(spec.tls.certPath, 'utf8'), keyPem: await readFile(spec.tls.keyPath, 'utf8'),
      hostname: spec.hostname, now, skipCheck: spec.tls.skipCheck,
      certFlag: `--sslCert ${spec.tls.certPath}`, keyFlag: `--sslKey ${spec.tls.keyPath}`,
    }));
  }
  if (problems.length > 0) throw new UsageError(problems);
}

const LOCAL = new Set(['localhost', '127.0.0.1', '::1']);

/** mirror-registry's -H/--targetHostname: accepted when it names this host; remote installs come later. */
export function rejectRemoteTarget(flags: Record<string, unknown>, fqdn: string): void {
  const target = flags.targetHostname;
  if (typeof target !== 'string') return;
  const short = fqdn.split('.')[0];
  if (LOCAL.has(target) || target === fqdn || target === short) return;
  throw new UsageError(`--targetHostname ${target}: installing on another host is not supported yet; copy mreg to ${target} and run it there`);
}

/**
 * -H/--targetHostname naming another host: `check` validates the flags here (exit 2 before any ssh),
 * `confirm` asks what must be asked locally, then the command runs there over ssh (src/remote/run.ts).
 * Resolves true when it ran remotely (the caller is done), false to carry on on this host.
 */
export async function runOnTarget(command: RemoteCommand, ctx: CommandContext,
  hooks: { check?: (targetHostname: string) => void; confirm?: (targetHostname: string) => Promise<void> } = {}): Promise<boolean> {
  if (ctx.flags.targetHostname === undefined) return false;
  const { remoteTarget, runRemote } = await import('../remote/run.js');
  const target = await remoteTarget(ctx.flags);
  if (!target) return false;
  hooks.check?.(target.hostname);
  if (hooks.confirm) await hooks.confirm(target.hostname);
  await runRemote(command, target, ctx, { confirmed: hooks.confirm !== undefined });
  return true;
}

/** How the target's mreg will see the flags (root there is rootful), for checking them here. */
export function remoteOptionEnv(flags: Record<string, unknown>, host: string): { scope: 'rootful' | 'rootless'; fqdn: string; home: string } {
  const user = typeof flags.targetUsername === 'string' ? flags.targetUsername : process.env.USER;
  return user === 'root' ? { scope: 'rootful', fqdn: host, home: '/root' } : { scope: 'rootless', fqdn: host, home: `/home/${user ?? 'user'}` };
}

/** A value flag as a string; cac leaves `true` when the value is missing (`--quayImage` at the end). */
export function stringFlag(flags: Record<string, unknown>, key: string, command: string): string | undefined {
  const v = flags[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${key} needs a value`, `see: mreg ${command} --help`);
  return v;
}

const DEFAULT_TIMEOUT_S = HEALTH_TIMEOUT_MS / 1000;

/** --timeout in ms; UsageError unless a whole number of seconds > 0. */
export function parseTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const s = String(value);
  if (!/^\d+$/.test(s) || Number(s) <= 0) throw new UsageError(`--timeout ${s}: must be a whole number of seconds greater than 0; e.g. --timeout ${DEFAULT_TIMEOUT_S}`);
  return Number(s) * 1000;
}

/** The image flags given on this command line (not recorded or default ones), by component. */
export function givenImages(flags: Record<string, unknown>, command: string): Partial<Images> {
  const given: Partial<Images> = {};
  for (const c of Object.keys(IMAGE_FLAGS) as (keyof Images)[]) {
    const v = stringFlag(flags, IMAGE_FLAGS[c].slice(2), command);
    if (v !== undefined) given[c] = v;
  }
  return given;
}


/** A dry run's plan as text: every file (already redacted), then the numbered actions. */
export function printDryRun(out: Output, files: readonly { path: string; mode: string; content: string }[], actions: readonly string[]): void {
  for (const f of files) out.result(`--- ${f.path} (mode ${f.mode}) ---\n${f.content}`);
  out.result('--- actions ---');
  actions.forEach((a, i) => out.result(`${i + 1}. ${a}`));
  out.info('dry run: nothing was changed');
}

/** --passphrase-file: a readable file whose first line is the passphrase (gpg reads it; mreg never holds it). */
export async function readPassphraseFlag(flags: Record<string, unknown>, command: string): Promise<string | undefined> {
  const file = stringFlag(flags, 'passphraseFile', command);
  if (file === undefined) return undefined;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) throw new UsageError(`--passphrase-file ${file}: cannot be read; give a file whose first line is the passphrase`);
  if ((text.split('\n')[0] ?? '').length < 8) throw new UsageError(`--passphrase-file ${file}: the passphrase (its first line) is shorter than 8 characters; use a longer one`);
  return resolve(file);
}

/** The one executor under the scope's lock (down, restore --force): released whatever happens. */
export async function executeLocked(host: HostPorts, who: Identity, actions: readonly Action[], opts: ExecuteOptions): Promise<void> {
  const release = await host.lock(who);
  try {
    await executeActions(actions, await host.actionPorts(who), opts);
  } finally {
    await release();
  }
}
