// Finds an existing install from --quayRoot, the per-scope pointer, or the default quayRoot.
import { HostError, UsageError } from '../errors.js';
import { interruptedAdoptHint, readAdoptMarker } from './adopt-marker.js';
import { readIfExists } from '../host/fs.js';
import { defaultQuayRoot, pointerPath } from '../model/scope.js';
import { quayRootLayout, type QuayRootLayout } from '../install-spec/layout.js';
import { parseRecord, type InstallRecord } from '../install-spec/record.js';
import type { Scope } from '../install-spec/spec.js';
import { parseQuayRootFlag } from '../install-spec/options.js';

export interface FoundInstall {
  layout: QuayRootLayout;
  record: InstallRecord;
}

export async function locateQuayRoot(flags: Record<string, unknown>, scope: Scope, home: string): Promise<string> {
  if (flags.quayRoot !== undefined) return parseQuayRootFlag(flags.quayRoot, { scope, home, fqdn: '' });
  const pointer = (await readIfExists(pointerPath(scope, home)))?.trim();
  return pointer || defaultQuayRoot(scope, home);
}

/** Rejects with HostError when no record is there: nothing to act on. */
export async function findInstall(flags: Record<string, unknown>, scope: Scope, home: string): Promise<FoundInstall> {
  const root = await locateQuayRoot(flags, scope, home);
  const found = await readRecordAt(root);
  if (!found) {
    const adopting = await readAdoptMarker(scope, home);
    if (adopting) throw new HostError(`no ${scope} mreg install record at ${root} yet: an mreg adopt stopped midway`, interruptedAdoptHint(adopting));
    throw new HostError(`no ${scope} mreg install found at ${root} (no ${quayRootLayout(root).record})`,
      scope === 'rootful' ? 'pass --quayRoot DIR, or run as the user who installed it for a rootless install' : 'pass --quayRoot DIR, or run as root for a rootful install');
  }
  refuseOtherScope(found, scope);
  return found;
}

/**
 * An install of the other scope is not this run's to act on: root given a rootless user's quayRoot would
 * stop the system's units, delete root's own secrets and volumes of the same names, and leave the user's
 * containers running. Throws UsageError (exit 2, nothing read further).
 */
export function refuseOtherScope(found: FoundInstall, scope: Scope): void {
  const theirs = found.record.spec.scope;
  if (theirs === scope) return;
  throw new UsageError(`--quayRoot ${found.layout.root}: a ${theirs} install, and this mreg runs ${scope} (${scope === 'rootful' ? 'as root' : 'as a user'}); its units, secrets and volumes are ${theirs === 'rootful' ? 'root\'s' : 'its user\'s'}`,
    theirs === 'rootful' ? 'run mreg as root (sudo mreg …) for this install' : 'run mreg as the user who installed it (e.g. sudo -iu USER mreg …), not as root');
}

/** The recorded install of this scope (pointer, else the default quayRoot), or undefined when there is none. */
export async function findRecordedInstall(scope: Scope, home: string): Promise<FoundInstall | undefined> {
  const pointer = (await readIfExists(pointerPath(scope, home)))?.trim();
  for (const root of [...(pointer ? [pointer] : []), defaultQuayRoot(scope, home)]) {
    const found = await readRecordAt(root);
    if (found) return found;
  }
  return undefined;
}

/** The record at `root`, if mreg installed there (a quayRoot given by flag whose pointer was lost). */
export async function readRecordAt(root: string): Promise<FoundInstall | undefined> {
  const layout = quayRootLayout(root);
  const text = await readIfExists(layout.record);
  return text === undefined ? undefined : { layout, record: parseRecord(text, layout.record) };
}
