// mreg upgrade: new images (or a newer mreg's units) for an existing install, restarting only what changed,
// and rolling back to the previous unit files when the new version does not become healthy in time.
import type { CommandContext } from '../cli.js';
import { givenImages, parseTimeout, runOnTarget, stringFlag } from './common.js';
import { loadImageArchive } from '../apply/image-archive.js';
import { HostError, UsageError } from '../errors.js';
import { parseUpOptions } from '../install-spec/options.js';
import { withS3Inputs } from '../apply/object-storage.js';
import { plan as makePlan } from '../plan/plan.js';
import { readKeptConfig } from '../apply/kept-config.js';
import { layoutProblem, unitDirs } from '../plan/layout-move.js';
import { requireImages } from '../apply/images.js';
import { serializeRecord, type InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { existingSecrets } from '../apply/existing-secrets.js';
import { validateUnits, writeIfChanged } from '../apply/units-step.js';
import { labelBindPaths, SELINUX_STEP } from '../apply/selinux-step.js';
import type { RegistryEndpoint } from '../actions/ports.js';
import { readHealthCas } from '../apply/health-ca.js';
import { VERSION } from '../version.js';
import { upgradeCertAlias } from './cert.js';
import { dbSnapshotPaths } from '../apply/db-snapshot.js';
import { switchOver, type RestartPorts } from '../apply/upgrade-switch.js';
import { checksPgDataOnUpgrade, imageChanges, UPGRADE_STEP } from '../plan/upgrade-steps.js';
import { stepLog } from '../ui/step-log.js';
import { printUpgradePlan, reportNothingToChange, reportUpgraded } from '../ui/upgrade-report.js';
import { changesToMake } from '../apply/upgrade-files.js';

/**
 * The spec to re-plan: the recorded one with only the given image flags (and archive) replaced.
 * Image flags go through parseUpOptions so they are checked exactly as `mreg up` checks them.
 */
export function upgradeSpec(record: InstallRecord, flags: Record<string, unknown>, home: string): InstallSpec {
  const rec = record.spec;
  const given = (k: string) => stringFlag(flags, k, 'upgrade');
  const parsed = parseUpOptions({
    quayHostname: `${rec.hostname}:${rec.port}`, quayRoot: rec.quayRoot,
    quayImage: given('quayImage') ?? rec.images.quay, pgImage: given('pgImage') ?? rec.images.postgres,
    redisImage: given('redisImage') ?? rec.images.redis, imageArchive: given('imageArchive'),
  }, { scope: rec.scope, fqdn: rec.hostname, home });
  const spec: InstallSpec = { ...rec, images: parsed.images };
  delete spec.imageArchive;
  if (parsed.imageArchive) spec.imageArchive = parsed.imageArchive;
  return spec;
}

export async function upgrade(ctx: CommandContext): Promise<void> {
  const { out, flags } = ctx;
  // mirror-registry 1.2/1.3 install, not yet mreg's: `mreg adopt` does the whole take-over.
  if (flags.fromMirrorRegistry) { await (await import('./adopt.js')).adopt(ctx); return; }
  if (await upgradeCertAlias(ctx)) return; // --sslCert/--sslKey: same as mreg cert rotate
  const timeoutMs = parseTimeout(flags.timeout);
  if (await runOnTarget('upgrade', ctx)) return;
  const probe = await ctx.host.probe({ fqdn: false }); // the hostname is the record's
  const { layout, record } = await ctx.host.findInstall(flags, probe.scope, probe.home);
  if (record.removedAt) {
    throw new HostError(`the install at ${layout.root} was removed by \`mreg down\` on ${record.removedAt}`, 'run `mreg up` with the new image flags instead');
  }
  const moved = probe.podmanVersion && layoutProblem(record.files, probe.podmanVersion, unitDirs(probe), 'upgrade');
  if (moved) throw new HostError(moved, 'nothing was changed');
  let spec = await withS3Inputs(upgradeSpec(record, flags, probe.home));
  // The record's scope (which --quayRoot can make another than this user's): its systemd, journal and data.
  const target = { ...probe, scope: spec.scope };
  const look = ctx.host.inspect(target);
  if (spec.imageArchive && spec.imageArchive !== '-' && !(await ctx.host.files.exists(spec.imageArchive))) {
    throw new UsageError(`--image-archive ${spec.imageArchive}: file not found; give the path of a \`podman save\` archive or of mirror-registry's image-archive.tar`);
  }
  const podman = ctx.host.podman();
  let imagesChanged = imageChanges(record.spec.images, spec.images);

  if (flags.dryRun) {
    const config = await readKeptConfig(layout.configYaml);
    const secrets = await existingSecrets(podman, layout.credentials, config.text);
    const planned = makePlan(spec, probe, secrets, config.kept);
    const { changes, resuming } = await changesToMake(look.readFile, planned, () => makePlan({ ...spec, images: record.spec.images }, probe, secrets, config.kept), imagesChanged.length > 0);
    printUpgradePlan(out, { spec, recorded: record.spec.images, layout, secrets, planned, changes, resuming, dbSnapshot: dbSnapshotPaths(layout.root).dump, timeoutMs });
    return;
  }

  const release = await ctx.host.lock(probe);
  const started = Date.now();
  // The ids of the steps this run took, in upgradeSteps' order: `--json` reports them beside the dry run's plan.
  const log = stepLog(out);
  const { ran, did } = log;
  const S = UPGRADE_STEP;
  try {
    if (spec.imageArchive) {
      const archive = spec.imageArchive;
      const loaded = await out.step(`load images from ${archive}`, () => loadImageArchive(podman, archive, givenImages(flags, 'upgrade')));
      for (const l of loaded.lines) out.info(`    ${l}`);
      spec = { ...spec, images: { ...spec.images, ...loaded.images } };
      imagesChanged = imageChanges(record.spec.images, spec.images);
      did(S.loadImages);
    }
    await out.step('images present', () => requireImages(podman, spec, 'load them with --image-archive FILE; nothing was changed and mreg never pulls (air-gapped)'));
    did(S.images);
    let pgData = record.pgData;
    if (checksPgDataOnUpgrade(record.spec.images, spec.images)) {
      pgData = await out.step('PostgreSQL data version', () => look.assertPgMajorCompatible(spec.pgStorage, spec.images.postgres, record.pgData, record.volumeMountpoints));
      did(S.pgData);
    }
    const config = await readKeptConfig(layout.configYaml);
    const secrets = await out.step('existing secrets', async () => existingSecrets(podman, layout.credentials, config.text));
    did(S.secrets);
    const planned = makePlan(spec, probe, secrets, config.kept);
    const { changes, resuming } = await changesToMake(look.readFile, planned, () => makePlan({ ...spec, images: record.spec.images }, probe, secrets, config.kept), imagesChanged.length > 0);
    if (resuming) out.info('mreg: resuming an upgrade that stopped after writing the unit files');
    const changed = changes.map(c => c.file.path);
    if (changes.length === 0) return reportNothingToChange(out, Date.now() - started, ran);
    await out.step('validate units with podman\'s Quadlet generator', () => validateUnits(podman, planned, spec));
    did(S.validate);
    // An install an older mreg made has :Z labels with some old container's categories: relabel
    // while the old containers (whose level dominates s0) still serve.
    if (planned.selinuxLabels.length > 0) {
      await out.step(SELINUX_STEP, () => labelBindPaths(planned, spec.scope, layout, out));
      did(...planned.selinuxLabels.map(S.selinuxLabel));
    }
    // Connects to the scope's systemd (main closes it); only now, after every check.
    const { systemd, journalTail } = await ctx.host.actionPorts(target);
    const ports: RestartPorts = { systemd, podman, files: ctx.host.files, journalTail, waitForHealth: look.waitForHealth };
    const ep: RegistryEndpoint = { hostname: spec.hostname, port: spec.port, ca: await readHealthCas(spec.tls.kind, layout) };
    const switched = await switchOver(out, ports, log, { changes, recorded: record.spec.images, images: spec.images, root: layout.root, ep, timeoutMs, started });

    const updated: InstallRecord = { ...record, mregVersion: VERSION, updatedAt: new Date().toISOString(), spec: { ...record.spec, images: spec.images }, pgData };
    if (spec.imageArchive) updated.spec.imageArchive = spec.imageArchive;
    await writeIfChanged(layout.record, serializeRecord(updated), 0o600);
    did(S.record);

    reportUpgraded(out, switched, { changed, images: imagesChanged, durationMs: Date.now() - started, steps: ran });
  } finally {
    await release();
  }
}
