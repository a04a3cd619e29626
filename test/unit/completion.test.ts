// Completion scripts: generated from the option table, valid shell, and they complete what the CLI accepts.
import t from 'tap';
import { execa } from 'execa';
import { commandList } from '../../src/cli.js';
import { flagsFor } from '../../src/options-table.js';
import { completionScript } from '../../src/ui/completion.js';

const bash = completionScript('bash', commandList(), '0.0.0-test');
const zsh = completionScript('zsh', commandList(), '0.0.0-test');

/** Runs _mreg for the words typed so far (the last one is the word being completed) and returns COMPREPLY. */
async function complete(...words: string[]): Promise<string[]> {
  const line = ['mreg', ...words];
  const script = `${bash}\nCOMP_WORDS=(${line.map(w => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _mreg; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await execa('bash', ['-c', script], { cwd: new URL('../..', import.meta.url).pathname });
  return r.stdout.split('\n').filter(Boolean);
}

t.test('bash: valid syntax', async t => {
  const r = await execa('bash', ['-n'], { input: bash, reject: false });
  t.equal(r.exitCode, 0, r.stderr);
});

t.test('bash: commands, aliases, flags and arguments', async t => {
  t.same((await complete('u')).sort(), ['uninstall', 'up', 'upgrade']);
  t.ok((await complete('')).includes('completion'), 'every command is offered');
  t.same(await complete('up', '--quayH'), ['--quayHostname']);
  t.same(await complete('install', '--pgI'), ['--pgImage'], 'an alias completes like its command');
  t.same(await complete('cert', ''), ['rotate', 'trust']);
  t.same(await complete('completion', 'z'), ['zsh']);
  t.same(await complete('logs', 'quay-r'), ['quay-redis']);
  t.same(await complete('down', '--pur'), ['--purge']);
  t.same(await complete('status', '--purge'), [], 'flags of other commands are not offered');
  t.same(await complete('--no-color', 'sta'), ['status'], 'global flags before the command');
  t.ok((await complete('up', '-r', 'uni')).includes('units'), '--quayRoot completes folders');
  t.ok((await complete('up', '--sslCert', 'package.')).includes('package.json'), '--sslCert completes files');
  t.same(await complete('upgrade', '--timeout', ''), [], 'a free value is not completed with flags');
});

t.test('bash: every flag of every command is offered', async t => {
  for (const c of commandList()) {
    const offered = await complete(c.name, '-');
    for (const def of flagsFor(c.name)) {
      for (const f of def.flags.split(',').map(s => s.trim().split(/\s/)[0]!)) t.ok(offered.includes(f), `${c.name} offers ${f}`);
    }
  }
});

t.test('zsh: valid syntax, and it registers _mreg for mreg', async t => {
  const which = await execa('sh', ['-c', 'command -v zsh'], { reject: false });
  if (!t.equal(which.exitCode, 0, 'zsh is installed (apt-get install zsh; .ci/run does)')) return;
  const syntax = await execa('zsh', ['-n'], { input: zsh, reject: false });
  t.equal(syntax.exitCode, 0, syntax.stderr);
  const r = await execa('zsh', ['-f', '-c', `autoload -Uz compinit && compinit -u -D && eval "$(cat)" && print -r -- $_comps[mreg]`], { input: zsh, reject: false });
  t.equal(r.stdout.trim(), '_mreg', r.stderr);
  for (const c of commandList()) t.match(zsh, `'${c.name}:`, `zsh describes ${c.name}`);
  for (const def of flagsFor('up')) t.match(zsh, def.flags.split(',').pop()!.trim().split(/\s/)[0]!, `zsh knows ${def.flags}`);
});
