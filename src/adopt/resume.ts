// Running adopt again after one was interrupted between mirror-registry's stop and mreg's record
// (apply/adopt-marker.ts): with the record written it only finishes; without it, mirror-registry is put back as it
// was (the same put-back a failed adopt does), and adopt then starts afresh from the old units.
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HostError } from '../errors.js';
import { readRecordAt } from '../apply/install-lookup.js';
import type { Scope } from '../install-spec/spec.js';
import { adoptMarkerPath } from '../model/scope.js';
import { ALL_SECRET_NAMES, UNITS } from '../model/views.js';
import { printDryRun } from '../ui/dry-run.js';
import { healthUrl } from '../plan/up-steps.js';
import type { Output } from '../ui/output.js';
import { BACKUP_DIR_NAME } from './find.js';
import type { ActionPorts, FilePorts } from '../actions/ports.js';
import { finished, readAdoptMarker, removeAdoptMarker, type AdoptMarker } from '../apply/adopt-marker.js';
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
    `wait for ${healthUrl(m.putBack)}`,
    'then adopt mirror-registry as usual (run mreg adopt --dry-run again then to see those steps)'];
}

/**
 * Resolves true when the interrupted adopt had finished (nothing more to do), false once mirror-registry
 * is back and healthy (adopt goes on); rejects with HostError when the put-back did not finish.
 */
export async function resumeAdopt(ctx: CommandContext): Promise<boolean> {
  const { out } = ctx;
  const probe = await ctx.host.probe();
  const release = await ctx.host.lock(probe);
  try {
    // Read under the lock: another adopt may have dealt with it while this one waited.
    const m = await readAdoptMarker(probe.scope, probe.home);
    if (!m) return false;
    const root = m.putBack.quayRoot;
    const marker = adoptMarkerPath(probe.scope, probe.home);
    const podman = ctx.host.podman();
    if (finished(m, await readRecordAt(root))) {
      out.info(`mreg: an interrupted adopt of ${root} had written its record; finishing it`);
      for (const s of m.legacySecrets) await podman.secretRemove(s);
      await removeAdoptMarker(probe.scope, probe.home);
      return true;
    }
    const target = { ...probe, scope: m.putBack.scope };
    const { systemd } = await ctx.host.actionPorts(target);
    if (await runsAsBefore(systemd, ctx.host.files, m)) {
      // Put back by hand (or never stopped): its database may hold pushes made since, which the dump has not.
      out.warn(`an mreg adopt of ${root} stopped midway (started ${m.startedAt}), and mirror-registry runs from its own units again: only mreg's secrets and ${marker} go`);
      for (const s of ALL_SECRET_NAMES) await podman.secretRemove(s);
      await removeAdoptMarker(probe.scope, probe.home);
      return false;
    }
    out.warn(`an mreg adopt of ${root} was interrupted (started ${m.startedAt}); putting mirror-registry back first`);
    const backup = join(root, BACKUP_DIR_NAME);
    const where = { backup, marker };
    const left = putBackLeft(m.putBack, where, await restoreMirrorRegistry(out,
      { systemd, podman, files: ctx.host.files, waitForHealth: ctx.host.inspect(target).waitForHealth }, m.putBack, where));
    if (left) throw new HostError(`an interrupted adopt of ${root}: ${left.problem}`, left.hint);
    out.info('mreg: mirror-registry is back as it was and healthy; adopting it again');
    return false;
  } finally {
    await release();
  }
}

/** mirror-registry's unit files are where they were and its quay-app runs from them, not from mreg's. */
async function runsAsBefore(systemd: Pick<ActionPorts['systemd'], 'unitState'>, files: Pick<FilePorts, 'exists'>, m: AdoptMarker): Promise<boolean> {
  for (const p of m.putBack.unitPaths) if (!(await files.exists(p))) return false;
  const app = m.putBack.unitPaths.find(p => p.endsWith(`/${UNITS.app}`));
  const st = await systemd.unitState(UNITS.app).catch(() => undefined);
  return app !== undefined && st?.activeState === 'active' && st.fragmentPath === app;
}

/** --dry-run with a marker: what the re-run does first; adopt's own steps depend on the units it puts back. */
export async function printResumeDryRun(out: Output, m: AdoptMarker, who: { scope: Scope; home: string }): Promise<void> {
  const found = await readRecordAt(m.putBack.quayRoot);
  const actions = resumeActions(m, finished(m, found), adoptMarkerPath(who.scope, who.home));
  if (out.json) { out.resultJson({ dryRun: true, scope: m.putBack.scope, interrupted: { startedAt: m.startedAt, quayRoot: m.putBack.quayRoot }, files: [], actions }); return; }
  printDryRun(out, [], actions);
}
