// mreg status: unit states (one systemctl show), registry health, certificate expiry and storage; exit 3 unless healthy.
// It reads everything at once (src/status/read.ts), judges it (report.ts), and prints (ui/status-print.ts) or --json.
import type { CommandContext } from '../cli.js';
import { UnhealthyError } from '../errors.js';
import { systemctlCommand } from '../model/scope.js';
import { checkQuayRootForTarget, runOnTarget } from '../remote/on-target.js';
import { readStatus } from '../status/read.js';
import { statusReport } from '../status/report.js';
import { printStatus } from '../ui/status-print.js';
import { markerPath, unfinishedRestoreProblem } from '../backup/restored.js';

export type { StatusReport } from '../status/report.js';

export async function status(ctx: CommandContext): Promise<void> {
  const { out, flags } = ctx;
  if (await runOnTarget('status', ctx, { check: h => checkQuayRootForTarget(flags, h) })) return;
  const probe = ctx.host.identify();
  const { layout, record } = await ctx.host.findInstall(flags, probe.scope, probe.home);
  if (record.removedAt) {
    // A restore stopped before its data was back leaves the record of one `mreg down` kept: up is not the fix.
    const restoring = unfinishedRestoreProblem(await ctx.host.inspect(probe).readFile(markerPath(layout.root)), layout.root);
    if (out.json) out.resultJson({ healthy: false, removed: true, removedAt: record.removedAt, quayRoot: layout.root, ...(restoring ? { restoreUnfinished: true } : {}) });
    if (restoring) throw new UnhealthyError(restoring.message, restoring.hint.replace(/; nothing was changed$/, ''));
    throw new UnhealthyError(`the registry at ${layout.root} was removed by mreg down on ${record.removedAt}; its data was kept`, 'run mreg up to install it again over the same data');
  }
  const read = await readStatus(ctx.host.inspect(probe), layout, record);
  const report = statusReport(read, { scope: probe.scope, spec: record.spec, layout, nowMs: Date.now() });
  if (out.json) out.resultJson(report);
  else printStatus(out, report);
  const n = report.problems.length;
  if (!report.healthy) throw new UnhealthyError(`registry is not healthy (${n} problem${n === 1 ? '' : 's'})`, `see: mreg logs, ${systemctlCommand(probe.scope)} status quay-app`);
}
