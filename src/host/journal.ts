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
  // More than shown: Quay's config check prints a table of ~26 field groups (two lines each) before it
  // exits, and the failing row is rarely among the last 20 lines (reasonTail).
  const wide = Math.max(lines, WIDE_LINES);
  const out = await read(journalArgs(unit, scope, wide));
  if (out.length || scope === 'rootful') return reasonTail(out, lines);
  return reasonTail(await read(['--user-unit', unit, '--lines', String(wide), '--no-pager', '--output', 'cat']), lines);
}

const WIDE_LINES = 200;
const MAX_REASONS = 10;

/**
 * The last `lines` lines, after the failing rows of Quay's config check (config-tool's validate marks a
 * failed field group 🔴, quay/quay config-tool/commands/validate.go) that fell out of them: the reason
 * a crash loop gives, which the tail alone would miss.
 */
export function reasonTail(all: readonly string[], lines: number): string[] {
  const tail = all.slice(-lines);
  const reasons = [...new Set(all.slice(0, -lines).filter(l => l.includes('🔴') && !tail.includes(l)))].slice(-MAX_REASONS);
  return reasons.length > 0 ? [...reasons, '…', ...tail] : tail;
}
