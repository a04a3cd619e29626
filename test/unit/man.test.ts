// Man pages: they render without warnings, and their OPTIONS match src/options-table.ts in both directions.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import { COMMAND_FLAGS, GLOBAL_FLAGS, flagsFor, longName, type FlagDef } from '../../src/options-table.js';
import { commandList } from '../../src/cli.js';

const MAN_DIR = new URL('../../man/', import.meta.url);
const COMMANDS = commandList().map(c => c.name);
const PAGES = ['mreg.1', ...COMMANDS.map(c => `mreg-${c}.1`)];
// cac adds these itself (cli.help(), cli.version()); they are not in the table.
const BUILTIN_FLAGS = ['help', 'version'];
const REQUIRED_SECTIONS = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'FILES', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO'];
const SEE_ALSO = ['podman-systemd.unit(5)', 'systemctl(1)', 'journalctl(1)', 'podman-secret(1)'];

const read = (page: string) => readFileSync(new URL(page, MAN_DIR), 'utf8');

/** Arguments of a macro line, as roff splits them: on blanks, with "double quotes" grouping. */
function macroArgs(rest: string): string[] {
  return [...rest.matchAll(/"([^"]*)"?|(\S+)/g)].map(m => m[1] ?? m[2]!);
}

/**
 * roff source → plain text: font escapes dropped, \- → -, other requests removed.
 * .B/.I join their arguments with blanks; .BR-style macros alternate fonts, so they join without.
 */
function plain(roff: string): string {
  return roff
    .split('\n')
    .map(line => {
      const m = /^\.(B|I|BI|BR|IB|IR|RB|RI)(?:\s+(.*))?$/.exec(line);
      if (m) return macroArgs(m[2] ?? '').join(m[1]!.length === 1 ? ' ' : '');
      return line.startsWith('.') ? '' : line;
    })
    .join('\n')
    .replace(/\\f[BIRP]|\\f\[[A-Z]*\]/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\&|\\%/g, '')
    .replace(/\\\(bu/g, '*')
    .replace(/\\e/g, '\\');
}

/** Lines of one `.SH NAME` section (up to the next .SH). */
function section(roff: string, name: string): string[] {
  const lines = roff.split('\n');
  const start = lines.findIndex(l => l === `.SH ${name}` || l === `.SH "${name}"`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith('.SH '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

interface Entry { tag: string; body: string }

/** `.TP` entries of a section: the tag line (plain text) and the body up to the next .TP/.SS/.SH. */
function entries(lines: string[]): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '.TP' || lines[i + 1] === undefined) continue;
    let j = i + 2;
    while (j < lines.length && !/^\.(TP|SS|SH)\b/.test(lines[j]!)) j++;
    out.push({ tag: plain(lines[i + 1]!).trim(), body: plain(lines.slice(i + 2, j).join('\n')).replace(/\s+/g, ' ').trim() });
  }
  return out;
}

/** Flags named in an option tag: "-r, --quayRoot dir" → ["-r", "--quayRoot"]. */
function tagFlags(tag: string): string[] {
  return [...tag.matchAll(/(?:^|[\s,|])(--?[A-Za-z][A-Za-z0-9-]*)/g)].map(m => m[1]!);
}

/** "-r, --quayRoot <dir>" → ["-r", "--quayRoot"]; cac's "--no-color" keeps its spelling. */
function defFlags(def: FlagDef): string[] {
  return [...def.flags.matchAll(/(?:^|[\s,])(--?[A-Za-z][A-Za-z0-9-]*)/g)].map(m => m[1]!);
}

t.test('every page exists and nothing else is in man/', async t => {
  t.same(readdirSync(MAN_DIR).filter(f => /\.\d$/.test(f)).sort(), [...PAGES].sort());
});

t.test('package.json lists the pages in "man"', async t => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { man?: string | string[] };
  const listed = (Array.isArray(pkg.man) ? pkg.man : pkg.man ? [pkg.man] : []).map(p => p.replace(/^\.\//, ''));
  t.same(listed.sort(), PAGES.map(p => `man/${p}`).sort(), 'package.json "man" names man/*.1');
});

for (const page of PAGES) {
  t.test(`${page}: groff renders it without warnings`, async t => {
    const r = await execa('groff', ['-man', '-Tutf8', '-ww', '-z', new URL(page, MAN_DIR).pathname], { reject: false });
    t.equal(r.exitCode, 0, `groff exit code (is groff installed? apt-get install groff): ${r.shortMessage ?? ''}`);
    t.equal(r.stderr, '', 'no groff warnings');
  });

  t.test(`${page}: man --warnings -l is silent`, async t => {
    const r = await execa('man', ['--warnings', '-l', new URL(page, MAN_DIR).pathname],
      { reject: false, env: { MANWIDTH: '80', MAN_KEEP_FORMATTING: '', PAGER: 'cat', MANPAGER: 'cat' } });
    t.equal(r.exitCode, 0, `man exit code (is man-db installed?): ${r.shortMessage ?? ''}`);
    t.equal(r.stderr, '', 'no warnings from man');
  });

  t.test(`${page}: header and sections`, async t => {
    const roff = read(page);
    const name = page.replace(/\.1$/, '');
    t.match(roff.split('\n')[0], new RegExp(`^\\.TH ${name.toUpperCase().replace('-', '\\\\\\-')} 1 `), '.TH names the page');
    const headings = roff.split('\n').filter(l => l.startsWith('.SH ')).map(l => l.slice(4).replace(/"/g, ''));
    for (const s of REQUIRED_SECTIONS) t.ok(headings.includes(s), `has ${s}`);
    const order = REQUIRED_SECTIONS.map(s => headings.indexOf(s));
    t.same(order, [...order].sort((a, b) => a - b), 'sections in man-pages(7) order');
    t.match(plain(section(roff, 'NAME').join(' ')), new RegExp(`^\\s*${name} - \\S`), 'NAME is "page - summary"');
    const codes = entries(section(roff, 'EXIT STATUS')).map(e => e.tag);
    t.same(codes, ['0', '1', '2', '3'], 'EXIT STATUS lists 0, 1, 2, 3');
    const seeAlso = plain(section(roff, 'SEE ALSO').join(' '));
    for (const ref of [...SEE_ALSO, ...PAGES.filter(p => p !== page).map(p => `${p.replace(/\.1$/, '')}(1)`)]) {
      t.ok(seeAlso.includes(ref), `SEE ALSO has ${ref}`);
    }
  });
}

t.test('mreg.1: global options, commands and aliases', async t => {
  const roff = read('mreg.1');
  const opts = entries(section(roff, 'OPTIONS'));
  const tags = opts.flatMap(e => tagFlags(e.tag));
  for (const def of GLOBAL_FLAGS) {
    for (const f of defFlags(def)) t.ok(tags.includes(f), `OPTIONS has ${f}`);
  }
  for (const f of ['-V', '--version', '-h', '--help']) t.ok(tags.includes(f), `OPTIONS has ${f}`);
  const known = new Set([...GLOBAL_FLAGS.map(longName), ...BUILTIN_FLAGS]);
  for (const f of tags.filter(f => f.startsWith('--'))) t.ok(known.has(f.slice(2)), `${f} in OPTIONS is a global flag`);

  const commands = entries(section(roff, 'COMMANDS')).map(e => e.tag);
  t.same(commands.map(c => c.split(/\s/)[0]), COMMANDS, 'COMMANDS lists every command, in table order');
  t.match(commands.join('\n'), /up \(alias install\)/);
  t.match(commands.join('\n'), /down \(alias uninstall\)/);
  t.match(plain(roff), /NO_COLOR/, 'NO_COLOR is described');
});

for (const command of COMMANDS) {
  const page = `mreg-${command}.1`;
  t.test(`${page}: OPTIONS match the option table`, async t => {
    const roff = read(page);
    const opts = entries(section(roff, 'OPTIONS'));
    const byFlag = new Map<string, Entry>();
    for (const e of opts) for (const f of tagFlags(e.tag)) byFlag.set(f, e);

    for (const def of flagsFor(command)) {
      const entry = byFlag.get(`--${longName(def)}`);
      if (!t.ok(entry, `--${longName(def)} is documented`)) continue;
      for (const f of defFlags(def)) t.ok(tagFlags(entry!.tag).includes(f), `tag of --${longName(def)} has ${f}`);
      // The placeholder from the table ("<dir>" in "--quayRoot <dir>") shows in the tag.
      const value = /<([^>]+)>/.exec(def.flags)?.[1];
      if (value) t.ok(entry!.tag.includes(value), `tag of --${longName(def)} shows "${value}"`);
      if (def.defaultText) t.ok(entry!.body.includes(`Default: ${def.defaultText}`), `--${longName(def)} shows "Default: ${def.defaultText}"`);
      t.match(entry!.body, /Example:/, `--${longName(def)} has an example`);
    }
    for (const def of GLOBAL_FLAGS) t.ok(byFlag.has(`--${longName(def)}`), `global --${longName(def)} is listed`);

    // The other direction: nothing documented that the CLI does not accept for this command.
    const allowed = new Set([...flagsFor(command).map(longName), ...GLOBAL_FLAGS.map(longName), ...BUILTIN_FLAGS]);
    for (const f of [...byFlag.keys()].filter(f => f.startsWith('--'))) {
      t.ok(allowed.has(f.slice(2)), `${f} in OPTIONS is a flag of ${command}`);
    }
    const shorts = new Set([...flagsFor(command), ...GLOBAL_FLAGS].flatMap(defFlags).filter(f => !f.startsWith('--')).concat('-h'));
    for (const f of [...byFlag.keys()].filter(f => !f.startsWith('--'))) t.ok(shorts.has(f), `${f} in OPTIONS is a short flag of ${command}`);
  });
}
