// Human progress on stderr, results on stdout; colour only on a TTY, never with --no-color or NO_COLOR.

export interface OutputOptions {
  json?: boolean;
  color?: boolean;
  verbose?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

export interface Output {
  readonly json: boolean;
  readonly verbose: boolean;
  /** A progress line on stderr ("==> step"); suppressed with --json. */
  info(line: string): void;
  /** Only with --verbose. */
  debug(line: string): void;
  warn(line: string): void;
  /** Runs a step, printing its name and duration ("  ok  TLS (0.4s)"). */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Result text on stdout. */
  result(text: string): void;
  /** Result object on stdout, as one JSON document. */
  resultJson(value: unknown): void;
  bold(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  error(line: string): void;
}

export function wantsColor(opts: OutputOptions): boolean {
  const env = opts.env ?? process.env;
  const stderr = opts.stderr ?? process.stderr;
  if (opts.color === false || opts.json) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stderr.isTTY);
}

export function createOutput(opts: OutputOptions = {}): Output {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const color = wantsColor(opts);
  const paint = (code: string) => (s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const json = Boolean(opts.json);
  const out: Output = {
    json,
    verbose: Boolean(opts.verbose),
    info: line => { if (!json) stderr.write(`${line}\n`); },
    debug: line => { if (opts.verbose) stderr.write(`${paint('2')(line)}\n`); },
    warn: line => { stderr.write(`${paint('33')('warning:')} ${line}\n`); },
    error: line => { stderr.write(`${line}\n`); },
    async step(name, fn) {
      const t0 = performance.now();
      if (!json) stderr.write(`${paint('1')('==>')} ${name}\n`);
      try {
        const value = await fn();
        if (!json) stderr.write(`    ${paint('32')('ok')} ${name} (${seconds(t0)})\n`);
        return value;
      } catch (err) {
        if (!json) stderr.write(`    ${paint('31')('failed')} ${name} (${seconds(t0)})\n`);
        throw err;
      }
    },
    result: text => { stdout.write(text.endsWith('\n') ? text : `${text}\n`); },
    resultJson: value => { stdout.write(`${JSON.stringify(value, null, 2)}\n`); },
    bold: paint('1'),
    green: paint('32'),
    red: paint('31'),
    yellow: paint('33'),
  };
  return out;
}

function seconds(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)}s`;
}
