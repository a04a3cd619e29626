// mreg logs [unit]: the journal of an mreg unit (quay-app by default), as journalctl shows it.
import type { CommandContext } from '../cli.js';
import { UsageError } from '../errors.js';
import { ALL_UNITS, shortUnitName, UNITS } from '../model/views.js';

export async function logs(ctx: CommandContext): Promise<void> {
  const { flags, args } = ctx;
  const who = ctx.host.identify();
  const wanted = args[0] ?? shortUnitName(UNITS.app);
  const unit = wanted.endsWith('.service') ? wanted : `${wanted}.service`;
  if (!(ALL_UNITS as readonly string[]).includes(unit)) {
    throw new UsageError(`unit ${wanted}: not an mreg unit; use one of ${ALL_UNITS.map(shortUnitName).join(', ')}`);
  }
  // Digits only: Number() would take 1e3 and 0x10 as 1000 and 16.
  const lines = flags.lines === undefined ? 50 : /^\d+$/.test(String(flags.lines)) ? Number(flags.lines) : NaN;
  if (!Number.isInteger(lines) || lines < 1) throw new UsageError(`--lines ${String(flags.lines)}: must be a whole number above 0; e.g. --lines 200`);
  await ctx.host.showJournal(who, unit, lines, Boolean(flags.follow));
}
