// Journal port: the last lines a unit logged, for error reports.
import type { Scope } from '../install-spec/spec.js';
import { runCommand } from './exec.js';

/** The journalctl argv for a unit's log; rootless units are in the user's journal. */
export function journalArgs(unit: string, scope: Scope, lines: number): string[] {
  return [...(scope === 'rootless' ? ['--user'] : []), '--unit', unit, '--lines', String(lines), '--no-pager', '--output', 'cat'];
}

/**
 * The last `lines` lines `unit` logged. Never rejects (it runs while reporting another error):
 * resolves [] when journalctl is missing or fails. Rootless falls back to `--user-unit` on the
 * system journal, where user units log when the journal is not split per user.
 */
export async function journalTail(unit: string, scope: Scope, lines = 20): Promise<string[]> {
  const read = async (args: string[]) => {
    try {
      const res = await runCommand('journalctl', args);
      if (res.exitCode !== 0) return [];
      return res.stdout.split('\n').filter((l) => l !== '' && l !== '-- No entries --');
    } catch {
      return [];
    }
  };
  const out = await read(journalArgs(unit, scope, lines));
  if (out.length || scope === 'rootful') return out;
  return read(['--user-unit', unit, '--lines', String(lines), '--no-pager', '--output', 'cat']);
}
