// mreg adopt (and upgrade --from-mirror-registry): take over a mirror-registry 1.2/1.3 install in place.
// Same data (volumes or paths are mounted, never copied), same hostname, port, CA and passwords;
// its plain units are moved aside (they would shadow the Quadlet units of the same name).
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HostError } from '../errors.js';
import { factsFor, plan as makePlan, type Plan } from '../plan/plan.js';
import { redact } from '../plan/redact.js';
import { describeConfigChange } from '../plan/config-keep.js';
import { configDiff as adoptConfigDiff, keptConfig, keptNote, keptReport } from '../adopt/config-yaml.js';
import { quayRootLayout } from '../install-spec/layout.js';
import { requireImages } from '../apply/images.js';
import { parseRecord, recordSpec } from '../install-spec/record.js';
import type { InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import { generateSecrets } from '../apply/secrets-step.js';
import { validateUnits } from '../apply/units-step.js';
import { labelBindPaths, SELINUX_STEP } from '../apply/selinux-step.js';
import { checkInputFiles, givenImages, parseTimeout, printDryRun, stringFlag } from './common.js';
import { takeDbSnapshot } from '../apply/db-snapshot.js';
import { chooseAdoptTls } from '../adopt/tls-choice.js';
import { adoptedSecrets, adoptionFrom } from '../adopt/spec.js';
import { writeAdoptedRecord } from '../adopt/record.js';
import { reportAdopted } from '../adopt/report.js';
import { parseAccessFlags } from '../install-spec/options.js';
import { BACKUP_DIR_NAME, findLegacy } from '../adopt/find.js';
import { saveFiles, type AdoptState } from '../adopt/rollback.js';
import { switchToMreg } from '../adopt/switch.js';
import { adoptActions } from '../adopt/actions.js';
import { loadImageArchive } from '../apply/image-archive.js';
import { findLeftovers, offerLeftovers, spareVolumes } from '../adopt/leftovers.js';

export async function adopt(ctx: CommandContext): Promise<void> {
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
  // The install's scope: its systemd, journal and PostgreSQL data.
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
  const podman = ctx.host.podman();
  const facts = factsFor(probe);
  // New PostgreSQL, Redis and admin passwords, Quay's two keys kept (adoptedSecrets); the init user's password stays unknown to mreg.
  const secrets: InstallSecrets = adoptedSecrets(adoption.secrets, generateSecrets());

  const kept = keptConfig(found, layout);
  const configDiff = (p: Plan) => adoptConfigDiff(found, layout, p);

  if (flags.dryRun) {
    if (!facts.podmanVersion) facts.podmanVersion = [5, 0, 0];
    const planned = makePlan(spec, facts, secrets, kept);
    const files = planned.files.map(f => ({ path: f.path, mode: `0${f.mode.toString(8)}`, content: redact(f.content, secrets) }));
    const verb = flags.removeLeftovers === true ? 'remove' : 'offer to remove (asking on a terminal)';
    const leftovers = (await findLeftovers(probe.home, found.quayRoot, spareVolumes(spec))).map(l => `${verb} ${l.text}`);
    const actions = [...adoptActions(found, { ...adoption, spec }, planned, tlsChoice.newCa), ...leftovers];
    const configChanged = configDiff(planned);
    if (out.json) { out.resultJson({ dryRun: true, scope: spec.scope, spec: recordSpec(spec), files, actions, configChanges: configChanged }); return; }
    printDryRun(out, files, actions);
    out.result(keptNote(kept));
    for (const c of configChanged) out.result(`would change ${describeConfigChange(c)}`);
    return;
  }

  const release = await ctx.host.lock(probe);
  try {
    const started = Date.now();
    // Connects to the scope's systemd (main closes it).
    const { systemd: sd, journalTail } = await ctx.host.actionPorts(target);
    // Everything that can fail without touching the running registry comes first.
    const planned = await out.step('check images and units', async () => {
      if (spec.imageArchive) {
        const loaded = await loadImageArchive(podman, spec.imageArchive, givenImages(flags, 'adopt'));
        for (const l of loaded.lines) out.info(`    ${l}`);
        spec = { ...spec, images: { ...spec.images, ...loaded.images } };
      }
      // The old pod's infra image is kept only if the host still holds it; podman's own serves otherwise.
      const infraThere = await requireImages(podman, spec, 'nothing was changed; load them with --image-archive FILE (mreg never pulls)', { infraOptional: true });
      if (!infraThere) {
        out.info(`    the old pod's infra image ${spec.infraImage} is not on this host: the pod uses podman's own`);
        const { infraImage: _gone, ...rest } = spec;
        spec = rest;
      }
      // 1.3 ran PostgreSQL 10: refuse before stopping anything when the chosen image cannot open that data.
      await look.assertPgMajorCompatible(spec.pgStorage, spec.images.postgres);
      const p = makePlan(spec, facts, secrets, kept);
      await validateUnits(podman, p, spec);
      return p;
    });
    const configChanged = configDiff(planned);
    out.info(`mreg: ${keptNote(kept)}`);
    for (const c of configChanged) out.info(`mreg: ${describeConfigChange(c)}`);

    // mirror-registry's :Z left its containers' categories; its running containers can still use s0.
    if (planned.selinuxLabels.length > 0) await out.step(SELINUX_STEP, () => labelBindPaths(planned, spec.scope, layout, out));

    // What adopt may overwrite in quayRoot, kept in memory for putting mirror-registry back.
    const saved = await saveFiles([layout.configYaml, layout.sslCert, layout.sslKey,
      ...planned.files.map(f => f.path).filter(p => p.startsWith(`${layout.root}/`) && p !== layout.configYaml)]);
    const relabel = !(spec.pgStorage.kind === 'path' && planned.selinuxLabels.includes(spec.pgStorage.path));
    // A new Quay image migrates the database at its first start; the old Quay cannot run on the result.
    const fromQuay = adoption.previousQuayImage;
    const snapshot = spec.images.quay === fromQuay ? undefined
      : await out.step('database snapshot (a rollback puts it back)', () => takeDbSnapshot(podman, layout.root, fromQuay, spec.images.quay).catch((e: unknown) => {
        if (!(e instanceof HostError)) throw e;
        throw new HostError(`could not dump the database before adopting: ${e.message}`, 'mirror-registry\'s quay-postgres must be running, and quayRoot needs room for the dump; nothing was stopped');
      }));
    const state: AdoptState = { found, spec, planned, layout, saved, pgUser: adoption.pgUser, roleRenamed: false, newCa: tlsChoice.newCa, relabel, snapshot };
    const backup = join(spec.quayRoot, BACKUP_DIR_NAME);
    const downtime = await switchToMreg(out, { systemd: sd, podman, journalTail, files: ctx.host.files, waitForHealth: look.waitForHealth },
      state, secrets, { now: probe.now, timeoutMs, backup });
    // Their values now live in mreg's secrets; down would not know these names.
    for (const s of adoption.legacySecrets) await podman.secretRemove(s);
    await writeAdoptedRecord(ctx.host.files, spec, planned, layout, probe);
    const leftovers = await offerLeftovers(out, ctx.stdin, flags.removeLeftovers === true, probe.home, found.quayRoot, spareVolumes(spec));
    reportAdopted(out, spec, found, backup, Date.now() - started, downtime, { configKept: keptReport(kept), configChanges: configChanged, leftovers });
  } finally {
    await release();
  }
}
