// mreg down: stop the units (app, redis, postgres, then the pod), remove exactly what mreg made.
// Data (volumes, storage paths, quayRoot) is kept unless --purge, which asks unless --yes.
import { createInterface } from 'node:readline/promises';
import { describeAction } from '../actions/action.js';
import { executeLocked } from '../actions/execute.js';
import type { CommandContext } from '../cli.js';
import { UsageError } from '../errors.js';
import { adoptMarkerPath, pointerPath } from '../model/scope.js';
import { finished, parseAdoptMarker } from '../apply/adopt-marker.js';
import { planDown } from '../plan/down.js';
import { checkQuayRootForTarget, runOnTarget } from '../remote/on-target.js';

export async function down(ctx: CommandContext): Promise<void> {
  const { out, flags, host } = ctx;
  const purge = Boolean(flags.purge);
  const yes = Boolean(flags.yes || flags.autoApprove);
  // Another host: a --purge is confirmed here (ssh has no terminal for the question), then runs there with --yes.
  const check = (h: string) => checkQuayRootForTarget(flags, h);
  // A dry run there deletes nothing: nothing to confirm.
  if (await runOnTarget('down', ctx, purge && !yes && !flags.dryRun ? { check, confirm: h => confirmPurge(ctx, [`the registry's quayRoot and storage on ${h}`]) } : { check })) return;
  // Only who runs it: down asks podman and logind nothing before it stops the units.
  const probe = host.identify();
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  const look = host.inspect(probe);
  const pointer = (await look.readFile(pointerPath(probe.scope, probe.home)))?.trim();
  // An adopt of this install killed after its record: its marker would outlive a purge and block the next up.
  const markerPath = adoptMarkerPath(probe.scope, probe.home);
  const markerText = await look.readFile(markerPath);
  const marker = markerText === undefined ? undefined : parseAdoptMarker(markerText, markerPath);
  const adopted = marker && marker.putBack.quayRoot === layout.root && finished(marker, { record }) ? { marker: markerPath, legacySecrets: marker.legacySecrets } : undefined;
  const plan = planDown({ record, layout, facts: probe, purge, quayRootGiven: Boolean(flags.quayRoot), ...(pointer ? { pointer } : {}), ...(adopted ? { adopted } : {}) });
  if (flags.dryRun) {
    const lines = plan.actions.map(describeAction);
    if (out.json) return out.resultJson({ dryRun: true, actions: lines, plan: plan.actions });
    if (lines.length === 0) out.result(plan.report.text);
    lines.forEach((a, i) => out.result(`${i + 1}. ${a}`));
    return out.info('dry run: nothing was changed');
  }
  if (plan.actions.length > 0) {
    if (purge && !yes) await confirmPurge(ctx, plan.data);
    await executeLocked(host, probe, plan.actions, { out, unitFailedHint: 'fix the cause and run mreg down again' }, { quayRoot: layout.root, record, again: 'mreg down' });
  }
  if (out.json) out.resultJson(plan.report.json);
  else out.result(plan.report.text);
}

async function confirmPurge(ctx: CommandContext, dataList: string[]): Promise<void> {
  if (!ctx.stdin.isTTY) {
    throw new UsageError('--purge deletes all mirrored images and the registry database; add --yes to confirm when not on a terminal');
  }
  const rl = createInterface({ input: ctx.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Delete ${dataList.join(', ')} and every mirrored image in them? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('--purge not confirmed; nothing was changed');
  } finally {
    rl.close();
  }
}
