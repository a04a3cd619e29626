// The error family: every expected failure is an MregError carrying its exit code and a fix.

export type ExitCode = 0 | 1 | 2 | 3;

export abstract class MregError extends Error {
  abstract readonly exitCode: 1 | 2 | 3;
  constructor(message: string, readonly hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flag, argument or combination; raised before anything on the host changed. Exit 2. */
export class UsageError extends MregError {
  readonly exitCode = 2;
  /** Every problem found, one line each (the first is also `message`). */
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[], hint?: string) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('\n'), hint);
    this.problems = list;
  }
}

/** The host cannot do what was asked (podman too old, port taken, no linger, a command failed). Exit 1. */
export class HostError extends MregError {
  readonly exitCode = 1;
}

/** A systemd job ended with a result other than "done". Exit 1. */
export class UnitFailedError extends MregError {
  readonly exitCode = 1;
  constructor(
    readonly unit: string,
    readonly result: string,
    readonly journalTail: readonly string[] = [],
    hint?: string,
    message?: string,
  ) {
    super(message ?? `${unit}: systemd job ended with result "${result}"`, hint ?? `see: journalctl ${unit}`);
  }
}

/** `mreg status` found the registry not healthy. Exit 3. */
export class UnhealthyError extends MregError {
  readonly exitCode = 3;
}
