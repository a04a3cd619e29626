// mreg upgrade: new images (or a newer mreg's units) for an existing install, restarting only what changed,
// and rolling back to the previous unit files when the new version does not become healthy in time.
import type { CommandContext } from '../cli.js';
import { givenImages, parseTimeout, stringFlag } from '../install-spec/flags.js';
import { runOnTarget } from '../remote/on-target.js';
import { upgradeCertAlias } from './cert.js';
import { HostError, UsageError } from '../errors.js';
import type { HostProbe, InspectPorts, Podman, RegistryEndpoint } from '../actions/ports.js';
import { parseUpOptions } from '../install-spec/options.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { serializeRecord, type InstallRecord } from '../install-spec/record.js';
import type { InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import type { KeptConfig } from '../plan/config-keep.js';
import { layoutProblem, unitDirs } from '../plan/layout-move.js';
import { plan as makePlan } from '../plan/plan.js';
import { imageChanges, UPGRADE_STEP as S } from '../plan/upgrade-steps.js';
import { dbSnapshotPaths } from '../apply/db-snapshot.js';
import { existingSecrets } from '../apply/existing-secrets.js';
import { readHealthCas } from '../apply/health-ca.js';
import { readKeptConfig } from '../apply/kept-config.js';
import { withS3Inputs } from '../apply/object-storage.js';
import { labelBindPaths, SELINUX_STEP } from '../apply/selinux-step.js';
import { validateUnits, writeIfChanged } from '../apply/units-step.js';
import { changesToMake } from '../upgrade/files.js';
import { loadAndCheckImages } from '../upgrade/images.js';
import { switchOver } from '../upgrade/switch.js';
import { stepLog } from '../ui/step-log.js';
import { printUpgradePlan, reportNothingToChange, reportUpgraded } from '../ui/upgrade-report.js';
import { VERSION } from '../version.js';

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

/** The install to upgrade and the ports into its scope, found before anything is planned or locked. */
interface Found {
  probe: HostProbe;
  /** The record's scope (which --quayRoot can make another than this user's): its systemd, journal and data. */
  target: HostProbe;
  layout: QuayRootLayout;
  record: InstallRecord;
  /** The record's inputs with the new images. */
  spec: InstallSpec;
  look: InspectPorts;
  podman: Podman;
}

export async function upgrade(ctx: CommandContext): Promise<void> {
  const { out, flags, host } = ctx;
  // mirror-registry 1.2/1.3 install, not yet mreg's: `mreg adopt` does the whole take-over.
  if (flags.fromMirrorRegistry) { await (await import('./adopt.js')).adopt(ctx); return; }
  if (await upgradeCertAlias(ctx)) return; // --sslCert/--sslKey: same as mreg cert rotate
  const timeoutMs = parseTimeout(flags.timeout);
  if (await runOnTarget('upgrade', ctx)) return;
  const f = await readInstall(ctx);
  if (flags.dryRun) {
    const config = await readKeptConfig(f.layout.configYaml);
    const secrets = await existingSecrets(f.podman, f.layout.credentials, config.text);
    const files = await planFiles(f, f.spec, secrets, config.kept);
    printUpgradePlan(out, { ...f, ...files, recorded: f.record.spec.images, secrets, dbSnapshot: dbSnapshotPaths(f.layout.root).dump, timeoutMs });
    return;
  }
  const release = await host.lock(f.probe);
  try {
    await runUpgrade(ctx, f, timeoutMs);
  } finally {
    await release();
  }
}

/**
 * The install record and the spec to re-plan. Refused: an install `mreg down` removed, one whose unit layout
 * this host's podman no longer matches (layout-move.ts), a missing --image-archive.
 */
async function readInstall(ctx: CommandContext): Promise<Found> {
  const { flags, host } = ctx;
  const probe = await host.probe({ fqdn: false }); // the hostname is the record's
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  if (record.removedAt) {
    throw new HostError(`the install at ${layout.root} was removed by \`mreg down\` on ${record.removedAt}`, 'run `mreg up` with the new image flags instead');
  }
  const moved = probe.podmanVersion && layoutProblem(record.files, probe.podmanVersion, unitDirs(probe), 'upgrade');
  if (moved) throw new HostError(moved, 'nothing was changed');
  const spec = await withS3Inputs(upgradeSpec(record, flags, probe.home));
  const target = { ...probe, scope: spec.scope };
  const look = host.inspect(target);
  if (spec.imageArchive && spec.imageArchive !== '-' && !(await host.files.exists(spec.imageArchive))) {
    throw new UsageError(`--image-archive ${spec.imageArchive}: file not found; give the path of a \`podman save\` archive or of mirror-registry's image-archive.tar`);
  }
  return { probe, target, layout, record, spec, look, podman: host.podman() };
}

/** The plan for `spec` and the files it changes, for the run and its dry run alike. */
async function planFiles(f: Found, spec: InstallSpec, secrets: InstallSecrets, kept: KeptConfig) {
  const planned = makePlan(spec, f.probe, secrets, kept);
  const recorded = () => makePlan({ ...spec, images: f.record.spec.images }, f.probe, secrets, kept);
  return { planned, ...(await changesToMake(f.look.readFile, planned, recorded, imageChanges(f.record.spec.images, spec.images).length > 0)) };
}

/** Under the lock: every check that changes nothing, then the switch to the new files, then the record. */
async function runUpgrade(ctx: CommandContext, f: Found, timeoutMs: number): Promise<void> {
  const { out, flags, host } = ctx;
  const { record, layout, podman } = f;
  const started = Date.now();
  // The ids of the steps this run took, in upgradeSteps' order: `--json` reports them beside the dry run's plan.
  const log = stepLog(out);
  const { spec, pgData } = await loadAndCheckImages(out, f, record, f.spec, givenImages(flags, 'upgrade'), log.did);
  const config = await readKeptConfig(layout.configYaml);
  const secrets = await out.step('existing secrets', async () => existingSecrets(podman, layout.credentials, config.text));
  log.did(S.secrets);
  const { planned, changes, resuming } = await planFiles(f, spec, secrets, config.kept);
  if (resuming) out.info('mreg: resuming an upgrade that stopped after writing the unit files');
  if (changes.length === 0) return reportNothingToChange(out, Date.now() - started, log.ran);
  await out.step('validate units with podman\'s Quadlet generator', () => validateUnits(podman, planned, spec));
  log.did(S.validate);
  // An install an older mreg made has :Z labels with some old container's categories: relabel
  // while the old containers (whose level dominates s0) still serve.
  if (planned.selinuxLabels.length > 0) {
    await out.step(SELINUX_STEP, () => labelBindPaths(planned, spec.scope, layout, out));
    log.did(...planned.selinuxLabels.map(S.selinuxLabel));
  }
  // Connects to the scope's systemd (main closes it); only now, after every check.
  const { systemd, journalTail } = await host.actionPorts(f.target);
  const ports = { systemd, podman, files: host.files, journalTail, waitForHealth: f.look.waitForHealth };
  const ep: RegistryEndpoint = { hostname: spec.hostname, port: spec.port, ca: await readHealthCas(spec.tls.kind, layout) };
  const switched = await switchOver(out, ports, log, { changes, recorded: record.spec.images, images: spec.images, root: layout.root, ep, timeoutMs, started });
  const updated: InstallRecord = { ...record, mregVersion: VERSION, updatedAt: new Date().toISOString(), spec: { ...record.spec, images: spec.images }, pgData };
  if (spec.imageArchive) updated.spec.imageArchive = spec.imageArchive;
  await writeIfChanged(layout.record, serializeRecord(updated), 0o600);
  log.did(S.record);
  reportUpgraded(out, switched, { changed: changes.map(c => c.file.path), images: imageChanges(record.spec.images, spec.images), durationMs: Date.now() - started, steps: log.ran });
}
