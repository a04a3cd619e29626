// Shell completion scripts, generated from the option table so they never drift from the CLI.
import { CONTAINER_IDS, shortUnitName, UNITS } from '../model/views.js';
import { COMMAND_FLAGS, GLOBAL_FLAGS, flagsFor, type CommandName, type FlagDef } from '../options-table.js';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CommandInfo {
  name: CommandName;
  alias?: string;
  summary: string;
}

/** Words that may follow a command (its positional arguments). */
const ARGUMENTS: Partial<Record<CommandName, readonly string[]>> = {
  cert: ['rotate', 'trust'],
  // The default (Quay) first, then the other containers in start order, then the pod.
  logs: [UNITS.app, ...CONTAINER_IDS.filter(id => id !== 'app').map(id => UNITS[id]), UNITS.pod].map(shortUnitName),
  completion: SHELLS,
};

type ValueKind = 'file' | 'dir' | 'path' | 'host' | 'user' | 'other';

/** The spellings of a flag: "-r, --quayRoot <dir>" → ["-r", "--quayRoot"]. */
function spellings(def: FlagDef): string[] {
  return def.flags.split(',').map(s => s.trim().split(/\s/)[0]!);
}

/** What a flag's value is, from its placeholder; undefined for a switch. */
function valueKind(def: FlagDef): ValueKind | undefined {
  const m = /<([^>]+)>/.exec(def.flags);
  if (!m) return undefined;
  const v = m[1]!;
  if (v === 'file') return 'file';
  if (v === 'dir') return 'dir';
  if (v.includes('/path')) return 'path';
  if (v.startsWith('host')) return 'host';
  if (v === 'user') return 'user';
  return 'other';
}

export function completionScript(shell: Shell, commands: readonly CommandInfo[], version: string): string {
  return shell === 'bash' ? bashScript(commands, version) : zshScript(commands, version);
}

function bashScript(commands: readonly CommandInfo[], version: string): string {
  const names = commands.flatMap(c => (c.alias ? [c.name, c.alias] : [c.name]));
  const globals = GLOBAL_FLAGS.flatMap(spellings).concat('--help', '--version');
  const valued = COMMAND_FLAGS.filter(f => valueKind(f) !== undefined);
  const byKind = (k: ValueKind) => valued.filter(f => valueKind(f) === k).flatMap(spellings).join('|');
  const kindCases = (['file', 'dir', 'path', 'host', 'user', 'other'] as const)
    .filter(k => byKind(k) !== '')
    .map(k => `    ${byKind(k)}) ${BASH_VALUE[k]}; return ;;`);
  const commandCases = commands.map(c => {
    const pattern = c.alias ? `${c.name}|${c.alias}` : c.name;
    const flags = flagsFor(c.name).flatMap(spellings).concat(globals).join(' ');
    const args = ARGUMENTS[c.name]?.join(' ') ?? '';
    return `    ${pattern}) flags="${flags}"; args="${args}" ;;`;
  });
  return [
    `# bash completion for mreg ${version}. Load it with:  source <(mreg completion bash)`,
    `# or install it:  mreg completion bash > /etc/bash_completion.d/mreg`,
    '_mreg() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd="" i flags args',
    '  COMPREPLY=()',
    '  case $prev in',
    ...kindCases,
    '  esac',
    // Global flags take no value, so the first word that is not a flag is the command.
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac',
    '  done',
    '  if [[ -z $cmd ]]; then',
    `    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "${globals.join(' ')}" -- "$cur"))`,
    `    else COMPREPLY=($(compgen -W "${names.join(' ')}" -- "$cur")); fi`,
    '    return',
    '  fi',
    '  case $cmd in',
    ...commandCases,
    '    *) return ;;',
    '  esac',
    '  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur"))',
    '  else COMPREPLY=($(compgen -W "$args" -- "$cur")); fi',
    '}',
    'complete -F _mreg mreg',
    '',
  ].join('\n');
}

const BASH_VALUE: Record<ValueKind, string> = {
  file: 'COMPREPLY=($(compgen -f -- "$cur"))',
  dir: 'COMPREPLY=($(compgen -d -- "$cur"))',
  path: 'COMPREPLY=($(compgen -f -- "$cur"))',
  host: 'COMPREPLY=($(compgen -A hostname -- "$cur"))',
  user: 'COMPREPLY=($(compgen -u -- "$cur"))',
  other: 'COMPREPLY=()',
};

const ZSH_VALUE: Record<ValueKind, string> = {
  file: '_files',
  dir: '_files -/',
  path: '_files',
  host: '_hosts',
  user: '_users',
  other: ' ',
};

/** Text safe inside a single-quoted zsh word. */
function zshQuoted(s: string): string {
  return s.replace(/'/g, `'\\''`);
}

/** Text safe inside an _arguments spec ([description] and :message:), then single-quoted. */
function zshText(s: string): string {
  return zshQuoted(s.replace(/([[\]:\\])/g, '\\$1'));
}

function zshSpec(def: FlagDef): string {
  const names = spellings(def);
  const kind = valueKind(def);
  const placeholder = /<([^>]+)>/.exec(def.flags)?.[1] ?? '';
  const value = kind ? `:${zshText(placeholder)}:${ZSH_VALUE[kind]}` : '';
  const desc = `[${zshText(def.description)}]${value}`;
  if (names.length === 1) return `'${names[0]}${desc}'`;
  return `'(${names.join(' ')})'{${names.join(',')}}'${desc}'`;
}

function zshScript(commands: readonly CommandInfo[], version: string): string {
  const globals = GLOBAL_FLAGS.map(zshSpec);
  const described = commands.flatMap(c => [c, ...(c.alias ? [{ ...c, name: c.alias as CommandName }] : [])])
    .map(c => `    '${c.name}:${zshQuoted(c.summary)}'`);
  const cases = commands.map(c => {
    const pattern = c.alias ? `${c.name}|${c.alias}` : c.name;
    const specs = [...flagsFor(c.name).map(zshSpec), ...globals];
    const args = ARGUMENTS[c.name];
    if (args) specs.push(`'1:${c.name === 'completion' ? 'shell' : c.name === 'cert' ? 'action' : 'unit'}:(${args.join(' ')})'`);
    return `      ${pattern}) _arguments -s \\\n        ${specs.join(' \\\n        ')} ;;`;
  });
  return [
    '#compdef mreg',
    `# zsh completion for mreg ${version}. Install it as _mreg in a folder on $fpath, e.g.:`,
    '#   mreg completion zsh > "${fpath[1]}/_mreg"',
    '_mreg() {',
    '  local -a commands',
    '  commands=(',
    ...described,
    '  )',
    '  local curcontext=$curcontext state line',
    '  _arguments -C \\',
    `    ${globals.join(' \\\n    ')} \\`,
    `    '(- *)'{-h,--help}'[Show help]' '(- *)'{-V,--version}'[Show the version]' \\`,
    "    '1: :->command' '*:: :->args'",
    '  case $state in',
    "    command) _describe -t commands 'mreg command' commands ;;",
    '    args)',
    '      case $words[1] in',
    ...cases,
    '      esac ;;',
    '  esac',
    '}',
    // Sourced directly (not autoloaded from $fpath) this registers the function itself.
    'if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _mreg "$@"; else compdef _mreg mreg; fi',
    '',
  ].join('\n');
}
