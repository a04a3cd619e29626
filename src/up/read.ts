// Up's reads before the lock, every check before the first change: the flags against the existing
// install and its folders, then the files the flags name. Nothing changes.
import type { HostProbe, InspectPorts, Podman } from '../actions/ports.js';
import { checkInputFiles } from '../apply/input-files.js';
import { withS3Inputs } from '../apply/object-storage.js';
import type { CommandContext } from '../cli.js';
import { DEFAULT_HOSTNAME_ENV } from '../install-spec/defaults.js';
import { quayRootLayout, type QuayRootLayout } from '../install-spec/layout.js';
import { checkUp, type CheckedUp } from './checks.js';
import { rawUpFlags } from './flags.js';

export interface UpRead {
  probe: HostProbe;
  look: InspectPorts;
  checked: CheckedUp;
  layout: QuayRootLayout;
  podman: Podman;
  /** The install's scope: its systemd and PostgreSQL data. */
  target: HostProbe;
}

export async function readUp(ctx: CommandContext): Promise<UpRead> {
  // The host's name is the default hostname of a new install only: asked when no flag and no record gives one.
  const probe = await ctx.host.probe({ fqdn: false });
  const look = ctx.host.inspect(probe);
  // up -H names a new registry after the target (remoteEnv); an install's recorded name still wins.
  const named = ctx.env[DEFAULT_HOSTNAME_ENV];
  const found = await checkUp({ host: ctx.host, look }, rawUpFlags(ctx.flags), probe, named ? async () => named : () => ctx.host.hostFqdn());
  await checkInputFiles(found.spec, probe.now);
  const checked: CheckedUp = { ...found, spec: await withS3Inputs(found.spec) };
  const layout = quayRootLayout(checked.spec.quayRoot);
  const podman = ctx.host.podman();
  return { probe, look, checked, layout, podman, target: { ...probe, scope: checked.spec.scope } };
}
