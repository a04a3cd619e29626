// mreg adopt (and upgrade --from-mirror-registry): take over a mirror-registry 1.2/1.3 install in place.
// Same data (volumes or paths are mounted, never copied), same hostname, port, CA and passwords;
// its plain units are moved aside (they would shadow the Quadlet units of the same name).
// Its phases live in src/adopt/: read, prepare, switch (with rollback), record, leftovers, report.
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { keptReport } from '../adopt/config-yaml.js';
import { printAdoptDryRun } from '../adopt/dry-run.js';
import { BACKUP_DIR_NAME } from '../adopt/find.js';
import { offerLeftovers, spareVolumes } from '../adopt/leftovers.js';
import { prepareSwitch } from '../adopt/prepare.js';
import { readAdoption } from '../adopt/read.js';
import { readAdoptMarker, removeAdoptMarker } from '../apply/adopt-marker.js';
import { printResumeDryRun, resumeAdopt } from '../adopt/resume.js';
import { writeAdoptedRecord } from '../adopt/record.js';
import { reportAdopted } from '../adopt/report.js';
import { switchToMreg } from '../adopt/switch.js';
import { givenImages } from '../install-spec/flags.js';
import { stepLog } from '../ui/step-log.js';

export async function adopt(ctx: CommandContext): Promise<void> {
  const { out, flags } = ctx;
  // An adopt killed after mirror-registry stopped: finish it, or put mirror-registry back and adopt afresh.
  const who = ctx.host.identify();
  const marker = await readAdoptMarker(who.scope, who.home);
  if (marker && flags.dryRun) return printResumeDryRun(out, marker, who);
  if (marker && await resumeAdopt(ctx)) return;
  const a = await readAdoption(ctx);
  if (flags.dryRun) return printAdoptDryRun(out, a, flags.removeLeftovers === true);
  const release = await ctx.host.lock(a.probe);
  try {
    const started = Date.now();
    // Connects to the scope's systemd (main closes it).
    const ports = await ctx.host.actionPorts(a.target);
    const podman = ctx.host.podman();
    // Everything that can fail without touching the running registry comes first.
    const { state, configChanged } = await prepareSwitch(out, { podman, look: a.look }, a, givenImages(flags, 'adopt'));
    const { spec, planned } = state;
    const backup = join(spec.quayRoot, BACKUP_DIR_NAME);
    const downtime = await switchToMreg(out, { ...ports, podman, waitForHealth: a.look.waitForHealth },
      state, a.secrets, { now: a.probe.now, timeoutMs: a.timeoutMs, backup, home: a.probe.home, legacySecrets: a.adoption.legacySecrets, did: stepLog(out).did });
    await writeAdoptedRecord(ctx.host.files, out, spec, planned, a.layout, a.probe);
    // Their values now live in mreg's secrets; down would not know these names. Kept until the record is
    // written (a put-back after a kill before it starts units that read them), and gone before the marker
    // (a kill between the two leaves the marker, whose re-run removes them).
    for (const s of a.adoption.legacySecrets) await podman.secretRemove(s);
    await removeAdoptMarker(a.probe.scope, a.probe.home);
    const leftovers = await offerLeftovers(out, ctx.stdin, flags.removeLeftovers === true, a.probe.home, a.found.quayRoot, spareVolumes(spec));
    reportAdopted(out, spec, a.found, backup, Date.now() - started, downtime, { configKept: keptReport(a.kept), configChanges: configChanged, leftovers });
  } finally {
    await release();
  }
}
