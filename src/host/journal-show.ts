// Hands the terminal to journalctl for `mreg logs`, so paging, colour and -f behave as users know them.
import { loadExeca } from './execa.js';
import { HostError } from '../errors.js';
import type { Scope } from '../install-spec/spec.js';
import { journalArgs } from './journal.js';
import { runCommand } from './exec.js';

/**
 * journalctl's argv for `mreg logs`. A rootless unit's lines are in the user's journal, unless journald
 * does not split it per user (a system account's uid, volatile storage): then in the system journal under
 * `--user-unit`, as journalTail reads them too.
 */
export function showArgs(unit: string, scope: Scope, lines: number, inUserJournal: boolean): string[] {
  const args = journalArgs(unit, scope, lines).filter(a => a !== '--output' && a !== 'cat');
  if (scope === 'rootful' || inUserJournal) return args;
  return ['--user-unit', ...args.filter(a => a !== '--user' && a !== '--unit')];
}

export async function showJournal(unit: string, scope: Scope, lines: number, follow: boolean): Promise<void> {
  const inUserJournal = scope === 'rootful' || await runCommand('journalctl', [...journalArgs(unit, scope, 1), '--quiet'])
    .then(r => r.exitCode === 0 && r.stdout.trim() !== '', () => true);
  const args = showArgs(unit, scope, lines, inUserJournal);
  const { execa } = await loadExeca();
  const res = await execa('journalctl', follow ? [...args, '--follow'] : args, { stdio: 'inherit', reject: false });
  if (res.failed && res.exitCode === undefined) throw new HostError(`journalctl could not be run: ${res.shortMessage}`, 'install systemd\'s journalctl');
  if (res.exitCode !== 0 && !follow) throw new HostError(`journalctl exited with code ${res.exitCode}`);
}
