// mreg adopt (and upgrade --from-mirror-registry): take over a mirror-registry 1.2/1.3 install in place.
// Same data (volumes or paths are mounted, never copied), same hostname, port, CA and passwords;
// its plain units are moved aside (they would shadow the Quadlet units of the same name).
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HostError } from '../errors.js';
import type { HostProbe, InspectPorts } from '../actions/ports.js';
import { generateSecrets } from '../apply/secrets-step.js';
import { quayRootLayout } from '../install-spec/layout.js';
import { parseAccessFlags } from '../install-spec/options.js';
import { parseRecord, recordSpec } from '../install-spec/record.js';
import type { InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import { describeConfigChange } from '../plan/config-keep.js';
import { factsFor, plan as makePlan } from '../plan/plan.js';
import { redact } from '../plan/redact.js';
import { adoptActions } from '../adopt/actions.js';
import { configDiff, keptConfig, keptNote, keptReport } from '../adopt/config-yaml.js';
import { BACKUP_DIR_NAME, findLegacy } from '../adopt/find.js';
import { findLeftovers, offerLeftovers, spareVolumes } from '../adopt/leftovers.js';
import { prepareSwitch, type BeforeStop } from '../adopt/prepare.js';
import { writeAdoptedRecord } from '../adopt/record.js';
import { reportAdopted } from '../adopt/report.js';
import { adoptedSecrets, adoptionFrom } from '../adopt/spec.js';
import { switchToMreg } from '../adopt/switch.js';
import { chooseAdoptTls } from '../adopt/tls-choice.js';
import { checkInputFiles } from '../apply/input-files.js';
import { givenImages, parseTimeout, stringFlag } from '../install-spec/flags.js';
import { printDryRun } from '../ui/dry-run.js';

/** What adopt reads before it changes anything; `target` is the install's scope: its systemd, journal and PostgreSQL data. */
interface Adopting extends BeforeStop { probe: HostProbe; target: HostProbe; look: InspectPorts; timeoutMs: number }

export async function adopt(ctx: CommandContext): Promise<void> {
  const { out, flags } = ctx;
  const a = await readAdoption(ctx);
  if (flags.dryRun) { await dryRun(ctx, a); return; }
  const release = await ctx.host.lock(a.probe);
  try {
    const started = Date.now();
    // Connects to the scope's systemd (main closes it).
    const { systemd, journalTail } = await ctx.host.actionPorts(a.target);
    const podman = ctx.host.podman();
    // Everything that can fail without touching the running registry comes first.
    const { state, configChanged } = await prepareSwitch(out, { podman, look: a.look }, a, givenImages(flags, 'adopt'));
    const { spec, planned } = state;
    const backup = join(spec.quayRoot, BACKUP_DIR_NAME);
    const downtime = await switchToMreg(out, { systemd, podman, journalTail, files: ctx.host.files, waitForHealth: a.look.waitForHealth },
      state, a.secrets, { now: a.probe.now, timeoutMs: a.timeoutMs, backup });
    // Their values now live in mreg's secrets; down would not know these names.
    for (const s of a.adoption.legacySecrets) await podman.secretRemove(s);
    await writeAdoptedRecord(ctx.host.files, spec, planned, a.layout, a.probe);
    const leftovers = await offerLeftovers(out, ctx.stdin, flags.removeLeftovers === true, a.probe.home, a.found.quayRoot, spareVolumes(spec));
    reportAdopted(out, spec, a.found, backup, Date.now() - started, downtime, { configKept: keptReport(a.kept), configChanges: configChanged, leftovers });
  } finally {
    await release();
  }
}

/** The flags, the old install and its TLS files; refuses an install mreg already manages. */
async function readAdoption(ctx: CommandContext): Promise<Adopting> {
  const { out, flags } = ctx;
  const probe = await ctx.host.probe();
  const str = (k: string) => stringFlag(flags, k, 'adopt');
  const timeoutMs = parseTimeout(flags.timeout);
  const accessRules = parseAccessFlags({ anonymousAccess: str('anonymousAccess'), userCreation: str('userCreation') }, 'adopt');
  const found = await findLegacy(probe.scope, probe.home, str('quayRoot'));
  const adoption = adoptionFrom(found.files, { scope: probe.scope, home: probe.home, fqdn: probe.fqdn, quayRoot: found.quayRoot },
    { quayImage: str('quayImage'), pgImage: str('pgImage'), redisImage: str('redisImage'), imageArchive: str('imageArchive'),
      sslCert: str('sslCert'), sslKey: str('sslKey'), sslCheckSkip: flags.sslCheckSkip === true });
  let spec: InstallSpec = accessRules ? { ...adoption.spec, accessRules } : adoption.spec;
  const layout = quayRootLayout(spec.quayRoot);
  const target = { ...probe, scope: spec.scope };
  const look = ctx.host.inspect(target);
  for (const w of adoption.warnings) out.warn(w);
  // Decided here, before anything stops: an expired CA or certificate is refused with the choices.
  const fromFlags = str('sslCert') !== undefined ? spec.tls : undefined;
  if (fromFlags) await checkInputFiles(spec, probe.now);
  const tlsChoice = chooseAdoptTls({
    caCertPem: await look.readFile(layout.caCert), caKeyPresent: found.files.hasRootCa, certPem: await look.readFile(layout.sslCert),
    certPath: layout.sslCert, keyPath: layout.sslKey, caPath: layout.caCert,
  }, fromFlags, { newCa: flags.newCa === true, now: probe.now, hostname: spec.hostname, port: spec.port });
  spec = { ...spec, tls: tlsChoice.tls };
  for (const n of tlsChoice.notes) out.info(`mreg: TLS: ${n}`);

  const existing = await look.readFile(layout.record);
  if (existing !== undefined && !parseRecord(existing, layout.record).removedAt) {
    throw new HostError(`${layout.record} exists: mreg already manages this install`, 'use mreg upgrade');
  }
  // New PostgreSQL, Redis and admin passwords, Quay's two keys kept (adoptedSecrets); the init user's password stays unknown to mreg.
  const secrets: InstallSecrets = adoptedSecrets(adoption.secrets, generateSecrets());
  return { probe, target, look, found, adoption, spec, layout, newCa: tlsChoice.newCa, facts: factsFor(probe), secrets, kept: keptConfig(found, layout), timeoutMs };
}

async function dryRun(ctx: CommandContext, a: Adopting): Promise<void> {
  const { out, flags } = ctx;
  const { spec, secrets, facts } = a;
  if (!facts.podmanVersion) facts.podmanVersion = [5, 0, 0];
  const planned = makePlan(spec, facts, secrets, a.kept);
  const files = planned.files.map(f => ({ path: f.path, mode: `0${f.mode.toString(8)}`, content: redact(f.content, secrets) }));
  const verb = flags.removeLeftovers === true ? 'remove' : 'offer to remove (asking on a terminal)';
  const leftovers = (await findLeftovers(a.probe.home, a.found.quayRoot, spareVolumes(spec))).map(l => `${verb} ${l.text}`);
  const actions = [...adoptActions(a.found, { ...a.adoption, spec }, planned, a.newCa), ...leftovers];
  const configChanged = configDiff(a.found, a.layout, planned);
  if (out.json) { out.resultJson({ dryRun: true, scope: spec.scope, spec: recordSpec(spec), files, actions, configChanges: configChanged }); return; }
  printDryRun(out, files, actions);
  out.result(keptNote(a.kept));
  for (const c of configChanged) out.result(`would change ${describeConfigChange(c)}`);
}
