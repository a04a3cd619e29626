// The install an upgrade changes, found before anything is planned or locked, with the ports into its scope.
import type { HostProbe, InspectPorts, Podman } from '../actions/ports.js';
import { withS3Inputs } from '../apply/object-storage.js';
import type { CommandContext } from '../cli.js';
import { HostError, UsageError } from '../errors.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { layoutProblem, unitDirs } from '../plan/layout-move.js';
import { upgradeSpec } from './spec.js';

export interface Upgrading {
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

/**
 * The install record and the spec to re-plan. Refused: an install `mreg down` removed, one whose unit layout
 * this host's podman no longer matches (layout-move.ts), a missing --image-archive.
 */
export async function readInstall(ctx: CommandContext): Promise<Upgrading> {
  const { flags, host } = ctx;
  const probe = await host.probe({ fqdn: false }); // the hostname is the record's
  const { layout, record } = await host.findInstall(flags, probe.scope, probe.home);
  if (record.removedAt) {
    throw new HostError(`the install at ${layout.root} was removed by \`mreg down\` on ${record.removedAt}`, 'run `mreg up` with the new image flags instead');
  }
  const moved = probe.podmanVersion && layoutProblem(record.files, probe.podmanVersion, unitDirs(probe));
  if (moved) throw new HostError(moved, 'nothing was changed');
  const spec = await withS3Inputs(upgradeSpec(record, flags, probe.home));
  const target = { ...probe, scope: spec.scope };
  const look = host.inspect(target);
  if (spec.imageArchive && spec.imageArchive !== '-' && !(await host.files.exists(spec.imageArchive))) {
    throw new UsageError(`--image-archive ${spec.imageArchive}: file not found; give the path of a \`podman save\` archive or of mirror-registry's image-archive.tar`);
  }
  return { probe, target, layout, record, spec, look, podman: host.podman() };
}

