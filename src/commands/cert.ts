// mreg cert rotate | trust: replace the served certificate without touching the other units
// (src/cert/rotate.ts), and make podman/skopeo on this host trust the registry's CA (src/cert/trust.ts).
import type { CommandContext } from '../cli.js';
import { HostError, UsageError } from '../errors.js';
import { rotate } from '../cert/rotate.js';
import { trust } from '../cert/trust.js';
import { flagSpelling } from '../options-table.js';
import { refuseNewCaWithFiles } from '../apply/cert-rotate.js';

export const CERT_ACTIONS = ['rotate', 'trust'] as const;

export async function cert(ctx: CommandContext): Promise<void> {
  const action = ctx.args[0];
  if (action !== 'rotate' && action !== 'trust') {
    throw new UsageError(action === undefined ? 'mreg cert needs an action: rotate or trust' : `unknown cert action "${action}": valid actions are rotate and trust`,
      'see: mreg cert --help, man mreg-cert');
  }
  if (ctx.args.length > 1) throw new UsageError(`mreg cert ${action} takes no further arguments (got "${ctx.args.slice(1).join(' ')}")`);
  // trust installs the CA the install serves from; a pair given to it would be silently ignored.
  const pairFlags = ['sslCert', 'sslKey', 'sslCheckSkip', 'newCa'].filter(k => ctx.flags[k] !== undefined && ctx.flags[k] !== false);
  if (action === 'trust' && pairFlags.length > 0) {
    throw new UsageError(`mreg cert trust takes no ${pairFlags.map(flagSpelling).join(', ')}: it trusts the CA of the certificate the registry serves`,
      'to serve another certificate: mreg cert rotate --sslCert FILE --sslKey FILE, then mreg cert trust');
  }
  if (action === 'rotate') refuseNewCaWithFiles({ newCa: Boolean(ctx.flags.newCa), certPath: ctx.flags.sslCert as string | undefined, keyPath: ctx.flags.sslKey as string | undefined });
  // cert takes no -H; its one caller with -H, upgrade's --sslCert alias, refuses another host first.
  const probe = await ctx.host.probe();
  const found = await ctx.host.findInstall(ctx.flags, probe.scope, probe.home);
  if (found.record.removedAt) {
    throw new HostError(`the registry at ${found.layout.root} was removed by mreg down on ${found.record.removedAt}`, 'run mreg up to install it again');
  }
  if (action === 'rotate') await rotate(ctx, probe, found.layout, found.record);
  else await trust(ctx, probe, found.layout, found.record);
}

// Flags of `mreg upgrade` that are not about the certificate; the alias refuses to mix the two jobs.
const UPGRADE_ONLY = ['quayImage', 'pgImage', 'redisImage', 'imageArchive', 'timeout', 'fromMirrorRegistry'];

/**
 * `mreg upgrade --sslCert F --sslKey K [--sslCheckSkip]` is `mreg cert rotate` with those files.
 * Resolves false (upgrade goes on) when no certificate flag is given; throws UsageError when one is
 * mixed with image flags, since a rollback of one would have to undo the other.
 */
export async function upgradeCertAlias(ctx: CommandContext): Promise<boolean> {
  const { flags } = ctx;
  if (flags.sslCert === undefined && flags.sslKey === undefined && !flags.sslCheckSkip) return false;
  const mixed = UPGRADE_ONLY.filter(k => flags[k] !== undefined && flags[k] !== false);
  if (mixed.length > 0) {
    throw new UsageError(`mreg upgrade --sslCert/--sslKey replaces the certificate only; it cannot be combined with ${mixed.map(flagSpelling).join(', ')}`,
      'run mreg upgrade with the image flags, then mreg cert rotate --sslCert FILE --sslKey FILE');
  }
  if (flags.sslCert === undefined && flags.sslKey === undefined) {
    throw new UsageError('--sslCheckSkip applies to --sslCert/--sslKey only', 'mreg upgrade --sslCert FILE --sslKey FILE --sslCheckSkip');
  }
  if (flags.sslCert === undefined || flags.sslKey === undefined) {
    throw new UsageError(`${flags.sslCert === undefined ? '--sslKey' : '--sslCert'} given alone: mreg upgrade needs --sslCert FILE and --sslKey FILE together`,
      'to reissue the certificate from mreg\'s CA, run mreg cert rotate');
  }
  await cert({ ...ctx, args: ['rotate'] });
  return true;
}
