// cac wiring only: commands and flags from the option table; actions lazy-import their command module.
import { cac, type CAC } from 'cac';
import { VERSION } from './version.js';
import { UsageError } from './errors.js';
import { COMMAND_FLAGS, GLOBAL_FLAGS, flagSpelling, flagsFor, longName, type CommandName, type FlagDef } from './options-table.js';
import type { Output } from './ui/output.js';
import type { HostPorts } from './actions/ports.js';

export interface CommandContext {
  out: Output;
  flags: Record<string, unknown>;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Where to read a confirmation answer from (tests inject one). */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The host, through ports built once by main.ts (commands moved to them use nothing else). */
  host: HostPorts;
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
  backup: { usage: 'backup [file]', summary: 'Write the database, blobs, config, CA and secrets to one archive (FILE, or - for stdout) while the registry serves',
    load: async () => (await import('./commands/backup.js')).backup },
  restore: { usage: 'restore <files...>', summary: 'Install the registry a backup holds, on this host or a new one (checks the whole archive first)',
    load: async () => (await import('./commands/restore.js')).restore },
  storage: { usage: 'storage <action>', summary: 'Blob storage: `storage migrate --to s3://BUCKET` moves the blobs into object storage, then switches Quay to it',
    load: async () => (await import('./commands/storage.js')).storage },
  export: { usage: 'export <target> [dir]', summary: 'Hand over to the Quay Operator: `export openshift DIR` writes the config bundle, QuayRegistry, database dump and the oc steps',
    load: async () => (await import('./commands/export.js')).exportCommand },
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
  run?: (out: Output, env: NodeJS.ProcessEnv, stdin: CommandContext['stdin'], host: HostPorts) => Promise<void>;
  options: Record<string, unknown>;
}

export function buildCli(): CAC {
  const cli = cac('mreg');
  for (const f of GLOBAL_FLAGS) cli.option(f.flags, f.description);
  // cac gives every --no-x flag the default true, and help would show "-c, --no-color … (default: true)".
  for (const o of cli.globalCommand.options) if (o.negated) o.config.default = undefined;
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
  // mri drops a lone `-` (stdin/stdout, as in `mreg backup -`) and takes the word after it as its value:
  // it goes through the parse as a placeholder and comes back as `-`.
  const args = argv.map(a => (a === '-c' ? '--no-color' : a === '-' ? DASH : a));
  // mri (under cac) knows a boolean flag only by its camelCase key, so `--dry-run extra` would take "extra"
  // as the value of --dry-run; spelt as the key (`--dryRun`), it is a boolean and "extra" an argument.
  const parsed = cli.parse(['node', 'mreg', ...args.map(a => KEBAB_BOOLEANS.get(a) ?? a)], { run: false });
  const options = Object.fromEntries(Object.entries(keepStrings(parsed.options as Record<string, unknown>, args)).map(([k, v]) => [k, v === DASH ? '-' : v]));
  // cac prints the version only when no command was named; `mreg up -V` printed nothing.
  if (options.version && !options.help && cli.matchedCommand) cli.outputVersion();
  if (options.help || options.version) return { cli, options };
  // matchedCommand.name, not matchedCommandName: the latter is the alias as typed ("install").
  const matched = cli.matchedCommand?.name as CommandName | undefined;
  if (!matched) {
    if (parsed.args.length > 0) return { cli, options, run: async () => { throw new UsageError(`unknown command "${String(parsed.args[0])}"`, 'see: mreg --help'); } };
    const unknown = Object.keys(options).find(k => k !== '--' && !GLOBAL_KEYS.has(k));
    if (unknown) return { cli, options, run: async () => { throw new UsageError(`Unknown option \`${unknown.length === 1 ? `-${unknown}` : flagSpelling(unknown)}\``, 'see: mreg --help'); } };
    cli.outputHelp();
    return { cli, options };
  }
  const def = COMMANDS[matched];
  const positionals = [...parsed.args, ...(options['--'] as unknown[] ?? [])].map(String).map(p => (p === DASH ? '-' : p));
  return {
    cli,
    options,
    run: async (out, env, stdin, host) => {
      checkUsage(cli, matched, def.usage, args, positionals);
      const runner = await def.load();
      await runner({ out, flags: options, args: positionals, env, stdin, host });
    },
  };
}

/** Every check of the command line as a whole, before the command runs: each failure is a UsageError. */
function checkUsage(cli: CAC, name: CommandName, usage: string, argv: string[], positionals: string[]): void {
  const repeated = repeatedFlag(argv, [...GLOBAL_FLAGS, ...flagsFor(name)]);
  if (repeated) throw new UsageError(`${repeated} was given more than once; give it once`, `see: mreg ${name} --help`);
  // cac checks unknown options and missing values only here. Its errors are plain argument problems; they
  // are caught by place, not by class name (minification renames cac's CACError in the release executable).
  try {
    cli.runMatchedCommand();
  } catch (err) {
    // cac names a boolean flag by the key it was parsed as (--dryRun): name it as the user typed it.
    const message = (err instanceof Error ? err.message : String(err)).replace(/`--([A-Za-z]+)`/g, (_, key: string) => `\`${flagSpelling(key)}\``);
    throw new UsageError(message, `see: mreg ${name} --help`);
  }
  const allowed = usage.includes('...') ? Infinity : (usage.match(/[<[]/g) ?? []).length;
  if (positionals.length > allowed) {
    throw new UsageError(`unexpected argument "${positionals[allowed]!}" (usage: mreg ${usage} [flags])`, `see: mreg ${name} --help`);
  }
}

/**
 * The first flag of `defs` that argv gives more than once, named by its spellings (`-r /a --quayRoot /b` is
 * --quayRoot twice). Checked on argv because mri keeps only one of the values in that case.
 */
function repeatedFlag(argv: string[], defs: readonly FlagDef[]): string | undefined {
  const byKey = new Map<string, string>();
  for (const d of defs) {
    const spellings = d.flags.split(',').map(s => s.trim().split(/\s/)[0]!);
    const short = spellings.find(n => /^-[^-]/.test(n));
    for (const n of spellings) byKey.set(flagKey(n), `--${longName(d)}${short ? ` (or ${short})` : ''}`);
  }
  const seen = new Set<string>();
  for (const token of argv) {
    if (token === '--') break;
    if (!token.startsWith('-') || token === '-') continue;
    const flag = byKey.get(flagKey(token.split('=')[0]!));
    if (flag === undefined) continue;
    if (seen.has(flag)) return flag;
    seen.add(flag);
  }
  return undefined;
}

/** The option key cac uses for a spelling: --no-color → color, --dry-run → dryRun, -r → r. */
function flagKey(spelling: string): string {
  return camel(spelling.replace(/^-{1,2}/, '').replace(/^no-/, ''));
}

/**
 * mri (under cac) turns numeric-looking values into numbers: `--initPassword 007` would become 7.
 * Every flag that takes a value is a string to mreg, so take such values back from argv verbatim.
 */
/** Stands for a lone `-` while mri parses (a control character: no one types it). */
const DASH = '\u0001-';

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

/** Boolean flags spelt with a dash (--dry-run) → the spelling mri treats as boolean (--dryRun). */
const KEBAB_BOOLEANS = new Map([...GLOBAL_FLAGS, ...COMMAND_FLAGS]
  .filter(f => !f.flags.includes('<'))
  .map(f => `--${longName(f)}`)
  .filter(n => n.includes('-', 2) && !n.startsWith('--no-'))
  .map(n => [n, `--${camel(n.slice(2))}`] as const));

/** Option keys cac sets for the global flags (both spellings of each). */
const GLOBAL_KEYS = new Set(['verbose', 'v', 'color', 'c', 'json', 'help', 'h', 'version', 'V']);

export { COMMAND_FLAGS, GLOBAL_FLAGS };
