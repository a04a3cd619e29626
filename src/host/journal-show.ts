// Hands the terminal to journalctl for `mreg logs`, so paging, colour and -f behave as users know them.
import { loadExeca } from './execa.js';
import { HostError } from '../errors.js';
import type { Scope } from '../install-spec/spec.js';
import { journalArgs } from './journal.js';

export async function showJournal(unit: string, scope: Scope, lines: number, follow: boolean): Promise<void> {
  const args = journalArgs(unit, scope, lines).filter(a => a !== '--output' && a !== 'cat');
  const { execa } = await loadExeca();
  const res = await execa('journalctl', follow ? [...args, '--follow'] : args, { stdio: 'inherit', reject: false });
  if (res.failed && res.exitCode === undefined) throw new HostError(`journalctl could not be run: ${res.shortMessage}`, 'install systemd\'s journalctl');
  if (res.exitCode !== 0 && !follow) throw new HostError(`journalctl exited with code ${res.exitCode}`);
}
