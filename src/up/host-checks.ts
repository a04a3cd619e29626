// Up's checks under the lock, before its first change: the host (preflight), the images (loaded from an
// archive first), PostgreSQL data of another major, the units (Quadlet's generator), the object store, linger,
// and config.yaml.
import type { InspectPorts, ShownState } from '../actions/ports.js';
import { readKeptConfig } from '../apply/kept-config.js';
import { loadArchiveStep } from '../apply/image-archive.js';
import { requireImages } from '../apply/images.js';
import { checkObjectStorage, refuseForeignBlobs } from '../apply/object-storage.js';
import { generateSecrets } from '../apply/secrets-step.js';
import { outdatedFiles, quadletFilesDiffer, validateUnits } from '../apply/units-step.js';
import { allInOrder } from '../concurrent.js';
import { HostError, UsageError } from '../errors.js';
import type { PgVerified } from '../install-spec/pg-version.js';
import { unrecordedVolumes, volumeTakeProblem } from '../install-spec/taken-dirs.js';
import type { InstallRecord } from '../install-spec/record.js';
import { preflight } from '../plan/preflight.js';
import type { Images, InstallSpec } from '../install-spec/spec.js';
import { ALL_UNITS, storageText, UNITS } from '../model/views.js';
import { accessRuleChanges, type KeptConfig } from '../plan/config-keep.js';
import { factsFor, plan as makePlan } from '../plan/plan.js';
import { imagesShownRunning, runningUnitFiles } from '../plan/running-images.js';
import { checksPgData, UP_STEP } from '../plan/up-steps.js';
import { imageChanges } from '../plan/upgrade-steps.js';
import type { UpContext } from './run.js';

export interface HostChecked {
  /** The spec with the images an archive brought. */
  spec: InstallSpec;
  pgData?: PgVerified;
  lingerEnabledByMreg: boolean;
  /** Every unit's state as preflight read it; undefined when systemd did not answer. */
  shown?: Map<string, ShownState>;
  /** config.yaml as it is on disk, and what of it the render keeps. */
  config: { text?: string; kept: KeptConfig };
}

/** Every unit's state by name, in one `systemctl show`: read in preflight, and again only by a run that wrote a file. */
export async function readUnitStates(look: Pick<InspectPorts, 'unitStates'>): Promise<Map<string, ShownState>> {
  return new Map((await look.unitStates(ALL_UNITS)).map(st => [st.name, st] as const));
}

/** Rejects with HostError (nothing changed) at the first check that fails; only linger, the last, changes the host. */
export async function checkHost(c: UpContext, opts: { givenImages: Partial<Images>; createBucket: boolean }): Promise<HostChecked> {
  const { out, did, look, podman, probe, previous } = c;
  const S = UP_STEP;
  let spec = c.spec;
  let lingerEnabledByMreg = previous && !previous.removedAt ? previous.lingerEnabledByMreg : false;

  // config.yaml is read and parsed (CPU) while preflight waits on its processes (issue 19); one that is
  // not YAML is still refused after the other checks fail or pass, and before linger, the one change.
  const config = readKeptConfig(c.layout.configYaml);
  config.catch(() => undefined);

  let shownEarly: Map<string, ShownState> | undefined;
  const preflightStep = () => out.step('preflight', async () => {
    let sdError: string | undefined;
    // Independent questions, asked at once.
    const [shown, portFree, resolves, diskFree] = await Promise.all([
      readUnitStates(look).catch((err: unknown) => { sdError = err instanceof Error ? err.message : String(err); return undefined; }),
      look.portFree(spec.port).catch(() => true),
      look.resolves(spec.hostname).catch(() => false),
      look.diskFree(spec.quayStorage.kind === 'path' ? spec.quayStorage.path : spec.quayRoot),
    ]);
    shownEarly = shown;
    const appState = shownEarly?.get(UNITS.app);
    const podState = shownEarly?.get(UNITS.pod);
    // An interrupted earlier run may have left our pod up and holding the port: that is ours to restart.
    const ourPodUp = podState !== undefined && ['active', 'activating', 'reloading'].includes(podState.activeState)
      && podState.sourcePath.startsWith(`${probe.quadletDir}/`);
    const result = preflight(spec, {
      ...probe,
      systemdReachable: shown !== undefined,
      systemdError: sdError,
      portFree,
      portOwnedByInstall: (previous?.spec.port === spec.port && appState?.activeState === 'active') || ourPodUp,
      hostnameResolves: resolves,
      diskFreeBytes: diskFree,
    });
    for (const w of result.warnings) out.warn(w);
    if (result.errors.length > 0) {
      throw new HostError(result.errors.join('\nmreg: error: '), 'nothing was changed; fix the above and run mreg up again');
    }
  });

  // Images and existing PostgreSQL data of another major are checked before anything is written
  // (after loading an archive, which brings the images). The data check is skipped when this
  // install already runs that image.
  const imagesStep = () => out.step('images present', () => requireImages(podman, spec, 'load them with --image-archive FILE, or `podman pull` them on a connected host and `podman save` them here; mreg never pulls (air-gapped)'));
  // Asked again once an archive named the images it brought.
  let checkPg = checksPgData(spec, previous);
  const pgStep = async () => (checkPg ? out.step('PostgreSQL data version', () => c.host.inspect(c.target).assertPgMajorCompatible(spec.pgStorage, spec.images.postgres, previous?.pgData, previous?.volumeMountpoints))
    : previous?.pgData);
  let pgData: PgVerified | undefined;
  // The units running unchanged from the recorded files with the recorded images (plan/running-images.ts).
  const imagesRunning = async () => {
    const units = ALL_UNITS.map(n => shownEarly?.get(n));
    if (!shownEarly || !imagesShownRunning(previous, spec, units)) return false;
    return (await outdatedFiles(shownEarly, runningUnitFiles(units as ShownState[]))).length === 0;
  };
  // podman's Quadlet generator judges the units before anything is made: their text holds no secret's value
  // (plan.test.ts), so new values stand in for the install's, which are settled once the checks pass.
  let validated = false;
  const validateStep = async () => {
    const planned = makePlan(spec, factsFor(probe), generateSecrets());
    // Unchanged Quadlet files are the ones systemd already runs: the generator has nothing new to judge.
    if (!(await quadletFilesDiffer(planned))) return out.debug('Quadlet files unchanged: not validated again');
    await out.step('validate units with podman\'s Quadlet generator', () => validateUnits(podman, planned, spec));
    validated = true;
  };
  if (spec.imageArchive) {
    await preflightStep();
    await volumesStep(look, spec, previous);
    spec = await loadArchiveStep(out, podman, spec, spec.imageArchive, opts.givenImages);
    refuseArchiveSwitch(spec, previous);
    checkPg = checksPgData(spec, previous);
    await imagesStep();
    pgData = await pgStep();
    await validateStep();
    did(S.preflight, S.loadImages, S.images);
  } else {
    // The checks only read, and each waits on its own podman, quadlet or systemctl process: asked at once
    // (about a second each under emulation). A failure is reported in this order, whichever ends first.
    // A re-run of a live install asks podman only when its units do not show the images are here.
    const checked = preflightStep();
    const images = previous && !previous.removedAt ? checked.then(async () => {
      if (await imagesRunning()) out.debug('images present: the install\'s units run them');
      else await imagesStep();
    }) : imagesStep();
    [, , , pgData] = await allInOrder([checked, volumesStep(look, spec, previous), images, pgStep(), validateStep()]);
    did(S.preflight, S.images);
  }
  if (checkPg) did(S.pgData);
  if (validated) did(S.validate);

  // The bucket last: its write check (and --s3CreateBucket) touch the object store, so only once the host passed.
  const s3 = spec.quayStorage;
  if (s3.kind === 's3') {
    const created = await out.step(`object storage ${storageText(s3)}`, async () => {
      const recorded = previous?.spec.quayStorage;
      await refuseForeignBlobs(s3, recorded?.kind === 's3' ? recorded : undefined);
      return checkObjectStorage(s3, opts.createBucket);
    });
    if (created === 'created') out.info(`    created bucket ${s3.bucket}`);
    did(S.objectStorage);
  }

  // The config.yaml on disk keeps its settings and foreign keys through the render.
  const { text, kept } = await config;
  if (text !== undefined) for (const change of accessRuleChanges(kept, spec.accessRules)) out.info(`mreg: changing ${change}`);

  // Linger is the one check that changes the host: only once everything else passed.
  if (spec.scope === 'rootless' && !probe.lingerEnabled) {
    try {
      await c.host.enableLinger(probe.uid);
      lingerEnabledByMreg = true;
      out.info(`    enabled linger for ${probe.user} so the registry runs without a login session`);
      did(S.linger);
    } catch {
      // polkit may refuse self-linger (Debian 13 without polkit does); an admin must do it once.
      throw new HostError(`linger is off for ${probe.user} and this user may not turn it on; run \`sudo loginctl enable-linger ${probe.user}\`, then mreg up again`,
        'nothing was changed');
    }
  }

  return { spec, pgData, lingerEnabledByMreg, shown: shownEarly, config: { text, kept } };
}

/**
 * The storage volumes this install's record does not name must be new or empty (taken-dirs.ts): one podman
 * process on a fresh install, none on a re-run. Rejects with UsageError naming each flag.
 */
async function volumesStep(look: Pick<InspectPorts, 'volumeMountpoints' | 'dirState'>, spec: InstallSpec, previous: InstallRecord | undefined): Promise<void> {
  const fresh = unrecordedVolumes(spec, previous);
  if (fresh.length === 0) return;
  const mounts = await look.volumeMountpoints(fresh.map(v => v.name));
  const problems: string[] = [];
  for (const v of fresh) {
    const mount = mounts.get(v.name);
    const problem = volumeTakeProblem({ ...v, state: mount === undefined ? undefined : await look.dirState(mount) });
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) throw new UsageError(problems, 'nothing was changed; see: mreg up --help');
}

/**
 * mirror-registry's archive names its images only as it is loaded: on a running install, an archive that
 * brings other images than the ones it runs is a switch of images, which is upgrade's job (a database
 * snapshot, a rollback), as the image flags are (install-spec/rerun.ts).
 */
function refuseArchiveSwitch(spec: InstallSpec, previous: InstallRecord | undefined): void {
  if (!previous || previous.removedAt || !spec.imageArchive) return;
  const switched = imageChanges(previous.spec.images, spec.images);
  if (switched.length === 0) return;
  throw new UsageError(`--image-archive ${spec.imageArchive}: holds other images than this install runs (${switched.join('; ')}); switch images with \`mreg upgrade --image-archive ${spec.imageArchive}\`, which rolls back if the new ones are unhealthy`,
    'nothing was changed but the archive\'s images, now loaded into podman\'s store; to repair the install without switching, leave --image-archive out');
}
