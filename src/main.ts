#!/usr/bin/env node
// Entry point: run(argv) → exit code. The only place that prints errors.
import { parseCli } from './cli.js';
import { MregError, UnitFailedError, UsageError } from './errors.js';
import { createOutput, type Output } from './ui/output.js';
import { VERSION } from './version.js';

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let out: Output = createOutput({ env });
  try {
    const { options, run: runCommand } = parseCli(argv);
    out = createOutput({ env, json: Boolean(options.json), color: options.color !== false, verbose: Boolean(options.verbose) });
    if (!runCommand) return 0;
    // A command parses each schema once or twice: zod's generated parsers (new Function) cost more to
    // compile than they save. Measured in the test VM: a record's first parse 77 ms instead of 164 ms.
    // Loaded only here: --version and --help need no zod (issue 19).
    (await import('zod')).config({ jitless: true });
    const { createHostPorts } = await import('./ports.js');
    const host = createHostPorts({ env, out });
    try {
      await runCommand(out, env, process.stdin, host);
    } finally {
      await host.close();
    }
    return 0;
  } catch (err) {
    return report(err, out);
  }
}

function report(e: unknown, out: Output): number {
  if (e instanceof MregError) {
    const lines = e instanceof UsageError ? e.problems : [e.message];
    for (const line of lines) out.error(`mreg: error: ${line}`);
    if (e.hint) out.error(`  hint: ${e.hint}`);
    if (e instanceof UnitFailedError && e.journalTail.length > 0) {
      out.error(`  last journal lines of ${e.unit}:`);
      for (const l of e.journalTail) out.error(`    ${l}`);
    }
    if (out.verbose) printCauses(e, out);
    return e.exitCode;
  }
  out.error(`mreg: internal error (a bug in mreg ${VERSION}, node ${process.version}); please report it with this output:`);
  out.error(e instanceof Error ? (e.stack ?? String(e)) : String(e));
  return 1;
}

function printCauses(err: Error, out: Output): void {
  let cause = err.cause;
  while (cause) {
    out.error(`  caused by: ${cause instanceof Error ? cause.message : String(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  if (err.stack) out.error(err.stack);
}

/**
 * `mreg status | head -3`: once the reader has gone, writes fail with EPIPE, and an unhandled stream
 * error would end mreg with a stack trace. Output nobody reads is dropped instead, and the exit code
 * stays the command's own (status's health answer, a failed up's), as scripts test it.
 */
export function dropOutputNobodyReads(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
}

// Set the exit code rather than exiting, so piped --json output is never cut short.
const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/mreg') === true;
if (isMain) { dropOutputNobodyReads(); process.exitCode = await run(process.argv.slice(2)); }
