// -H/--targetHostname (mirror-registry's flag): whether a command runs here or on that host over ssh.
// The runner (run.ts) is loaded only when another host is named.
import type { CommandContext } from '../cli.js';
import { UsageError } from '../errors.js';
import { parseQuayRootFlag } from '../install-spec/options.js';
import type { RemoteCommand } from './argv.js';

/**
 * A command that runs only where it is typed (upgrade's aliases of adopt and cert rotate), given -H naming
 * another host: a UsageError before anything here is looked at, never a run on this host instead.
 */
export async function refuseOnTarget(flags: Record<string, unknown>, what: string, instead: (host: string) => string): Promise<void> {
  if (flags.targetHostname === undefined) return;
  const { remoteTarget } = await import('./run.js');
  const target = await remoteTarget(flags);
  if (target) throw new UsageError(`${what} does not run over -H (${target.hostname}): it acts on the host it runs on`, instead(target.hostname));
}

/**
 * -H/--targetHostname naming another host: `check` validates the flags here (exit 2 before any ssh),
 * `confirm` asks what must be asked locally, then the command runs there over ssh (src/remote/run.ts).
 * Resolves true when it ran remotely (the caller is done), false to carry on on this host.
 */
export async function runOnTarget(command: RemoteCommand, ctx: CommandContext,
  hooks: { check?: (targetHostname: string) => void; confirm?: (targetHostname: string) => Promise<void> } = {}): Promise<boolean> {
  if (ctx.flags.targetHostname === undefined) {
    refuseOtherUserHere(ctx);
    return false;
  }
  const { remoteTarget, runRemote } = await import('./run.js');
  const target = await remoteTarget(ctx.flags);
  if (!target) return false;
  hooks.check?.(target.hostname);
  if (hooks.confirm) await hooks.confirm(target.hostname);
  await runRemote(command, target, ctx, { confirmed: hooks.confirm !== undefined });
  return true;
}

/** --quayRoot as the target's mreg will read it (status, down, upgrade, backup): exit 2 here, before any ssh. */
export function checkQuayRootForTarget(flags: Record<string, unknown>, host: string): void {
  if (flags.quayRoot !== undefined) parseQuayRootFlag(flags.quayRoot, remoteOptionEnv(flags, host));
}

/** How the target's mreg will see the flags (root there is rootful), for checking them here. */
export function remoteOptionEnv(flags: Record<string, unknown>, host: string): { scope: 'rootful' | 'rootless'; fqdn: string; home: string } {
  const user = typeof flags.targetUsername === 'string' ? flags.targetUsername : process.env.USER;
  return user === 'root' ? { scope: 'rootful', fqdn: host, home: '/root' } : { scope: 'rootless', fqdn: host, home: `/home/${user ?? 'user'}` };
}

/**
 * -u without -H: mirror-registry's -H defaulted to this host, so `-u root` there went over ssh to root's
 * install; mreg acts on this host as the user running it. Another user's name would act on the wrong
 * install (alice's, for `mreg down --purge -u root`): refused, naming both ways to mean it.
 */
export function refuseOtherUserHere(ctx: CommandContext): void {
  const user = ctx.flags.targetUsername;
  if (user === undefined) return;
  const me = ctx.host.identify().user;
  if (user === me) return;
  throw new UsageError(`--targetUsername ${String(user)}: without -H mreg acts on this host as the user running it (${me}), not as ${String(user)}`,
    `run it as that user (${user === 'root' ? 'sudo mreg …' : `sudo -iu ${String(user)} mreg …`}), or add -H localhost to go over ssh as ${String(user)}`);
}
