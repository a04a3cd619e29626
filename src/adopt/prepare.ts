// Adopt's steps before mirror-registry stops: everything that can fail without touching the running
// registry comes first, then what putting it back would need.
import type { InspectPorts, Podman } from '../actions/ports.js';
import { takeDbSnapshot } from '../apply/db-snapshot.js';
import { loadImageArchive } from '../apply/image-archive.js';
import { requireImages } from '../apply/images.js';
import { labelBindPaths, SELINUX_STEP } from '../apply/selinux-step.js';
import { validateUnits } from '../apply/units-step.js';
import { HostError } from '../errors.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { HostFacts, Images, InstallSecrets, InstallSpec } from '../install-spec/spec.js';
import { describeConfigChange, type ConfigChange, type KeptConfig } from '../plan/config-keep.js';
import { plan as makePlan } from '../plan/plan.js';
import type { Output } from '../ui/output.js';
import { configDiff, keptNote } from './config-yaml.js';
import type { FoundLegacy } from './find.js';
import { saveFiles, type AdoptState } from './rollback.js';
import type { Adoption } from './spec.js';

/** What adopt knows before it changes anything: the old install and the spec, secrets and config mreg runs it with. */
export interface BeforeStop {
  found: FoundLegacy;
  adoption: Adoption;
  spec: InstallSpec;
  layout: QuayRootLayout;
  facts: HostFacts;
  secrets: InstallSecrets;
  kept: KeptConfig;
  newCa: boolean;
}

/**
 * Checks the images, the PostgreSQL data and the rendered units, labels bind folders for SELinux, then
 * keeps what a put-back needs. Resolves with the state the switch works from (its spec with the images
 * as loaded) and the config.yaml changes; rejects with HostError while mirror-registry still serves.
 */
export async function prepareSwitch(out: Output, ports: { podman: Podman; look: Pick<InspectPorts, 'assertPgMajorCompatible'> },
  b: BeforeStop, givenImages: Partial<Images>): Promise<{ state: AdoptState; configChanged: ConfigChange[] }> {
  const { podman, look } = ports;
  const { found, layout } = b;
  let spec = b.spec;
  const planned = await out.step('check images and units', async () => {
    if (spec.imageArchive) {
      const loaded = await loadImageArchive(podman, spec.imageArchive, givenImages);
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
    const p = makePlan(spec, b.facts, b.secrets, b.kept);
    await validateUnits(podman, p, spec);
    return p;
  });
  const configChanged = configDiff(found, layout, planned);
  out.info(`mreg: ${keptNote(b.kept)}`);
  for (const c of configChanged) out.info(`mreg: ${describeConfigChange(c)}`);

  // mirror-registry's :Z left its containers' categories; its running containers can still use s0.
  if (planned.selinuxLabels.length > 0) await out.step(SELINUX_STEP, () => labelBindPaths(planned, spec.scope, layout, out));

  // What adopt may overwrite in quayRoot, kept in memory for putting mirror-registry back.
  const saved = await saveFiles([layout.configYaml, layout.sslCert, layout.sslKey,
    ...planned.files.map(f => f.path).filter(p => p.startsWith(`${layout.root}/`) && p !== layout.configYaml)]);
  const relabel = !(spec.pgStorage.kind === 'path' && planned.selinuxLabels.includes(spec.pgStorage.path));
  // A new Quay image migrates the database at its first start; the old Quay cannot run on the result.
  const fromQuay = b.adoption.previousQuayImage;
  const snapshot = spec.images.quay === fromQuay ? undefined
    : await out.step('database snapshot (a rollback puts it back)', () => takeDbSnapshot(podman, layout.root, fromQuay, spec.images.quay).catch((e: unknown) => {
      if (!(e instanceof HostError)) throw e;
      throw new HostError(`could not dump the database before adopting: ${e.message}`, 'mirror-registry\'s quay-postgres must be running, and quayRoot needs room for the dump; nothing was stopped');
    }));
  const state: AdoptState = { found, spec, planned, layout, saved, pgUser: b.adoption.pgUser, roleRenamed: false, newCa: b.newCa, relabel, snapshot };
  return { state, configChanged };
}
