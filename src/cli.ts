// cac wiring only: commands and flags from the option table; actions lazy-import their command module.
import { cac, type CAC } from 'cac';
import { VERSION } from './version.js';
import { COMMAND_FLAGS, GLOBAL_FLAGS, flagsFor, type CommandName } from './options-table.js';
import type { Output } from './ui/output.js';

export interface CommandContext {
  out: Output;
  flags: Record<string, unknown>;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Where to read a confirmation answer from (tests inject one). */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

type Runner = (ctx: CommandContext) => Promise<void>;

const COMMANDS: Record<CommandName, { usage: string; summary: string; alias?: string; load: () => Promise<Runner> }> = {
  up: { usage: 'up', summary: 'Install (or repair) the registry; safe to run again', alias: 'install',
    load: async () => (await import('./commands/up.js')).up },
  down: { usage: 'down', summary: 'Uninstall the registry; data is kept unless --purge', alias: 'uninstall',
    load: async () => (await import('./commands/down.js')).down },
  status: { usage: 'status', summary: 'Show unit states, health and certificate expiry; exit 3 if unhealthy',
    load: async () => (await import('./commands/status.js')).status },
  upgrade: { usage: 'upgrade', summary: 'Switch to new images (or settings), restarting only what changed; rolls back if unhealthy',
    load: async () => (await import('./commands/upgrade.js')).upgrade },
  cert: { usage: 'cert <action>', summary: 'Certificates: `cert rotate` installs or reissues the server certificate, `cert trust` trusts the CA here',
    load: async () => (await import('./commands/cert.js')).cert },
  logs: { usage: 'logs [unit]', summary: 'Show the journal of quay-app (or another mreg unit)',
    load: async () => (await import('./commands/logs.js')).logs },
  adopt: { usage: 'adopt', summary: 'Take over an existing mirror-registry 1.2/1.3 install over the same data',
    load: async () => (await import('./commands/adopt.js')).adopt },
  completion: { usage: 'completion <shell>', summary: 'Print a bash or zsh completion script',
    load: async () => (await import('./commands/completion.js')).completion },
};

/** Name, alias, usage and summary of every command (help text, completion scripts). */
export function commandList(): { name: CommandName; alias?: string; usage: string; summary: string }[] {
  return (Object.entries(COMMANDS) as [CommandName, (typeof COMMANDS)[CommandName]][]).map(([name, d]) => ({
    name, usage: d.usage, summary: d.summary, ...(d.alias ? { alias: d.alias } : {}),
  }));
}

export interface ParsedCli {
  cli: CAC;
  /** The command to run, or undefined when help/version was printed. */
  run?: (out: Output, env: NodeJS.ProcessEnv, stdin: CommandContext['stdin']) => Promise<void>;
  options: Record<string, unknown>;
}

export function buildCli(): CAC {
  const cli = cac('mreg');
  for (const f of GLOBAL_FLAGS) cli.option(f.flags, f.description);
  for (const [name, def] of Object.entries(COMMANDS) as [CommandName, (typeof COMMANDS)[CommandName]][]) {
    const cmd = cli.command(def.usage, def.summary);
    if (def.alias) cmd.alias(def.alias);
    for (const f of flagsFor(name)) {
      cmd.option(f.flags, f.defaultText ? `${f.description} (default: ${f.defaultText})` : f.description);
    }
    // cac checks unknown options and missing values only for commands that have an action.
    cmd.action(() => undefined);
  }
  cli.help();
  // -v is --verbose here (mirror-registry's meaning); the version flag is -V.
  cli.version(VERSION, '-V, --version');
  return cli;
}

/** Parses argv (without node and script) without running anything. */
export function parseCli(argv: string[]): ParsedCli {
  const cli = buildCli();
  // cac reads `-c` of `-c, --no-color` as a flag named c; mirror-registry's -c means --no-color.
  const args = argv.map(a => (a === '-c' ? '--no-color' : a));
  const parsed = cli.parse(['node', 'mreg', ...args], { run: false });
  const options = keepStrings(parsed.options as Record<string, unknown>, args);
  if (options.help || options.version) return { cli, options };
  // matchedCommand.name, not matchedCommandName: the latter is the alias as typed ("install").
  const matched = cli.matchedCommand?.name as CommandName | undefined;
  if (!matched) {
    if (parsed.args.length > 0) return { cli, options, run: async () => { throw unknownCommand(parsed.args[0]!); } };
    const unknown = Object.keys(options).find(k => k !== '--' && !GLOBAL_KEYS.has(k));
    if (unknown) return { cli, options, run: async () => { throw cacError(`Unknown option \`${unknown.length === 1 ? '-' : '--'}${unknown}\``); } };
    cli.outputHelp();
    return { cli, options };
  }
  const def = COMMANDS[matched];
  return {
    cli,
    options,
    run: async (out, env, stdin) => {
      const runner = await def.load();
      await runner({ out, flags: options, args: [...parsed.args].map(String), env, stdin });
    },
  };
}

/**
 * mri (under cac) turns numeric-looking values into numbers: `--initPassword 007` would become 7.
 * Every flag that takes a value is a string to mreg, so take such values back from argv verbatim.
 */
function keepStrings(options: Record<string, unknown>, argv: string[]): Record<string, unknown> {
  const valued = [...GLOBAL_FLAGS, ...COMMAND_FLAGS].filter(f => f.flags.includes('<'));
  const out = { ...options };
  for (const def of valued) {
    const names = def.flags.split(',').map(s => s.trim().split(/\s/)[0]!);
    const key = camel(names[names.length - 1]!.replace(/^-+/, ''));
    if (typeof out[key] !== 'number') continue;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const eq = names.find(n => a.startsWith(`${n}=`));
      if (eq) out[key] = a.slice(eq.length + 1);
      else if (names.includes(a) && i + 1 < argv.length) out[key] = argv[i + 1];
    }
  }
  return out;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function unknownCommand(name: string): Error {
  return cacError(`unknown command "${name}"`);
}

function cacError(message: string): Error {
  const e = new Error(message);
  e.name = 'CACError';
  return e;
}

/** Option keys cac sets for the global flags (both spellings of each). */
const GLOBAL_KEYS = new Set(['verbose', 'v', 'color', 'c', 'json', 'help', 'h', 'version', 'V']);

export { COMMAND_FLAGS, GLOBAL_FLAGS };
