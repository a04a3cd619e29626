// Running adopt again after one was interrupted between mirror-registry's stop and mreg's record
// (apply/adopt-marker.ts): with the record written it only finishes; without it, mirror-registry is put back as it
// was (the same put-back a failed adopt does), and adopt then starts afresh from the old units.
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HostError } from '../errors.js';
import { readRecordAt } from '../apply/install-lookup.js';
import type { Scope } from '../install-spec/spec.js';
import { adoptMarkerPath } from '../model/scope.js';
import { printDryRun } from '../ui/dry-run.js';
import type { Output } from '../ui/output.js';
import { BACKUP_DIR_NAME } from './find.js';
import { removeAdoptMarker, type AdoptMarker } from '../apply/adopt-marker.js';
import { putBackLeft, restoreMirrorRegistry } from './rollback.js';

/** What a re-run does first, for --dry-run. */
export function resumeActions(m: AdoptMarker, recorded: boolean, markerPath: string): string[] {
  const { quayRoot } = m.putBack;
  if (recorded) {
    return [`an interrupted mreg adopt of ${quayRoot} (started ${m.startedAt}) had written its record: finish it`,
      ...m.legacySecrets.map(s => `remove the old podman secret ${s}`), `remove ${markerPath}`];
  }
  return [`an interrupted mreg adopt of ${quayRoot} (started ${m.startedAt}): put mirror-registry back first, as a failed adopt does`,
    'stop and remove mreg\'s units and secrets; config.yaml, ssl.cert and ssl.key as they were' + (m.putBack.newCa ? '; the old CA back' : ''),
    ...(m.putBack.roleRenamed ? [`the Postgres role renamed back to "${m.putBack.pgUser}" (if it was renamed)`] : []),
    `the old units and their enable links back from ${join(quayRoot, BACKUP_DIR_NAME)}; systemd Reload; start them${m.putBack.snapshot ? ` (the database from ${m.putBack.snapshot.path} before quay-app)` : ''}`,
    `wait for https://${m.putBack.hostname}:${m.putBack.port}/health/instance`,
    'then adopt mirror-registry as usual (run mreg adopt --dry-run again then to see those steps)'];
}

/**
 * Resolves true when the interrupted adopt had finished (nothing more to do), false once mirror-registry
 * is back and healthy (adopt goes on); rejects with HostError when the put-back did not finish.
 */
export async function resumeAdopt(ctx: CommandContext, m: AdoptMarker): Promise<boolean> {
  const { out } = ctx;
  const probe = await ctx.host.probe();
  const root = m.putBack.quayRoot;
  const release = await ctx.host.lock(probe);
  try {
    const podman = ctx.host.podman();
    const found = await readRecordAt(root);
    if (found && !found.record.removedAt) {
      out.info(`mreg: an interrupted adopt of ${root} had written its record; finishing it`);
      for (const s of m.legacySecrets) await podman.secretRemove(s);
      await removeAdoptMarker(probe.scope, probe.home);
      return true;
    }
    out.warn(`an mreg adopt of ${root} was interrupted (started ${m.startedAt}); putting mirror-registry back first`);
    const target = { ...probe, scope: m.putBack.scope };
    const { systemd } = await ctx.host.actionPorts(target);
    const backup = join(root, BACKUP_DIR_NAME);
    const left = putBackLeft(m.putBack, backup, await restoreMirrorRegistry(out,
      { systemd, podman, files: ctx.host.files, waitForHealth: ctx.host.inspect(target).waitForHealth }, m.putBack,
      { backup, marker: adoptMarkerPath(probe.scope, probe.home) }));
    if (left) throw new HostError(`an interrupted adopt of ${root}: ${left.problem}`, left.hint);
    out.info('mreg: mirror-registry is back as it was and healthy; adopting it again');
    return false;
  } finally {
    await release();
  }
}

/** --dry-run with a marker: what the re-run does first; adopt's own steps depend on the units it puts back. */
export async function printResumeDryRun(out: Output, m: AdoptMarker, who: { scope: Scope; home: string }): Promise<void> {
  const found = await readRecordAt(m.putBack.quayRoot);
  const actions = resumeActions(m, found !== undefined && !found.record.removedAt, adoptMarkerPath(who.scope, who.home));
  if (out.json) { out.resultJson({ dryRun: true, scope: m.putBack.scope, interrupted: { startedAt: m.startedAt, quayRoot: m.putBack.quayRoot }, files: [], actions }); return; }
  printDryRun(out, [], actions);
}
