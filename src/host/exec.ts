// Runs host commands through execa with argv arrays and turns failures into HostError.
import { execFile } from 'node:child_process';
import { loadExeca } from './execa.js';
import { HostError } from '../errors.js';

export interface RunOptions {
  /** Sent on stdin; the way secrets reach a command (never argv). */
  input?: string;
  env?: Record<string, string>;
  /** Called with the command line before it runs (argv never holds secrets). */
  log?: (line: string) => void;
  /** 'inherit': the command reads mreg's own stdin (`podman load` of an archive piped in); input is ignored. */
  stdin?: 'inherit';
  /** 'inherit': the command writes straight to mreg's stdout (a backup streamed with `-`). */
  stdout?: 'inherit';
  /** The command reads this file on stdin (streamed, never held in memory); input is ignored. */
  inputFile?: string;
  /** The command's stdout is streamed into this file (opened for writing, so an existing file keeps its mode); RunResult.stdout is then empty. */
  outputFile?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const STDERR_TAIL = 20;

/** Last lines of a command's stderr, for error messages. */
export function tailLines(text: string, n = STDERR_TAIL): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  return lines.slice(-n);
}

/** Whether an error says the program itself is missing (ENOENT on spawn). */
export function isCommandMissing(err: unknown): boolean {
  // execa's own error (it names the command), without loading execa to ask instanceof
  return err instanceof Error && (err as { code?: string }).code === 'ENOENT' && typeof (err as { command?: unknown }).command === 'string';
}

/**
 * Runs `file args…` without a shell. Resolves with stdout/stderr/exitCode whatever the exit
 * code (callers decide what a non-zero exit means); rejects only when the program could not
 * be started (ENOENT included; see isCommandMissing).
 */
export async function runCommand(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  opts.log?.(`$ ${[file, ...args].join(' ')}`);
  const { execa } = await loadExeca();
  const res = await execa(file, args, {
    reject: false,
    ...(opts.stdin === 'inherit' ? { stdin: 'inherit' as const } : opts.inputFile !== undefined ? { inputFile: opts.inputFile } : { input: opts.input ?? '' }),
    // Not buffered as well: a database dump can be larger than Node's memory.
    ...(opts.outputFile !== undefined ? { stdout: { file: opts.outputFile }, buffer: { stdout: false } } : {}),
    ...(opts.stdout === 'inherit' ? { stdout: 'inherit' as const } : {}),
    // C locale so callers can match stderr text ("no such secret") untranslated.
    env: { LC_ALL: 'C', ...opts.env },
    extendEnv: true,
  });
  if (res.failed && res.exitCode === undefined) {
    // Not a normal exit: spawn failure (ENOENT, EACCES) or killed by a signal.
    if (res.signal) throw new HostError(`${file} ${args[0] ?? ''} was killed by ${res.signal}`, undefined, { cause: res });
    throw res;
  }
  return { stdout: typeof res.stdout === 'string' ? res.stdout : '', stderr: res.stderr, exitCode: res.exitCode ?? 0 };
}

/** The error for a command that exited non-zero: the command, the exit code and the stderr tail. */
export function commandFailed(file: string, args: readonly string[], res: RunResult, what?: string, hint?: string): HostError {
  const head = `${what ?? `${file} ${args.slice(0, 2).join(' ')}`} failed: ${[file, ...args].join(' ')} exited with code ${res.exitCode}`;
  const tail = tailLines(res.stderr);
  return new HostError(tail.length ? `${head}\n${tail.map((l) => `  ${l}`).join('\n')}` : head, hint);
}

/** Runs a command and rejects with HostError (stderr tail included) on a non-zero exit. */
export async function runChecked(file: string, args: readonly string[], opts: RunOptions & { what?: string; hint?: string } = {}): Promise<RunResult> {
  let res: RunResult;
  try {
    res = await runCommand(file, args, opts);
  } catch (err) {
    if (err instanceof HostError) throw err;
    const short = err instanceof (await loadExeca()).ExecaError ? (err as { shortMessage: string }).shortMessage : String(err);
    throw new HostError(`${opts.what ?? file} failed: ${short}`, isCommandMissing(err) ? `install ${file}` : opts.hint, { cause: err });
  }
  if (res.exitCode !== 0) throw commandFailed(file, args, res, opts.what, opts.hint);
  return res;
}

/**
 * Runs a short read-only command with Node's own child_process, for commands that start no other
 * process: loading execa costs about 0.3 s under the test VM's emulation (issue 19). Same contract as
 * runCommand (C locale, resolves whatever the exit code), small output only.
 */
export function runSmall(file: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...opts.env, LC_ALL: 'C' }, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') { reject(err); return; } // not started (ENOENT) or killed
      resolve({ stdout, stderr, exitCode: typeof err?.code === 'number' ? err.code : 0 });
    });
  });
}
