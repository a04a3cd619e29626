// A command reads the install record before it takes the scope's lock (its checks, a --purge question)
// and later writes one built from that read. Another mreg that ran wholly in between would lose its
// change, or a second first `up` would install over the first: so the record is read again under the lock.
import { HostError } from '../errors.js';
import { serializeRecord, type InstallRecord } from '../install-spec/record.js';
import type { HostPorts, Identity } from './ports.js';

/** The record a command read before the lock: `record` undefined when quayRoot had none. */
export interface ReadBefore {
  quayRoot: string;
  record: InstallRecord | undefined;
}

/**
 * Takes `who`'s lock and resolves with its release once the record in quayRoot is still the one read
 * before; else releases it and rejects (nothing was changed), naming the command to run again.
 */
export async function lockAsRead(host: Pick<HostPorts, 'lock' | 'readRecordAt' | 'findRecordedInstall'>, who: Identity, read: ReadBefore, again: string): Promise<() => Promise<void>> {
  const release = await host.lock(who);
  try {
    // With none read, none may have appeared anywhere in the scope (a first up beside another).
    const now = (await host.readRecordAt(read.quayRoot))?.record ?? (read.record ? undefined : (await host.findRecordedInstall(who.scope, who.home))?.record);
    if (!sameRecord(now, read.record)) {
      const what = read.record ? `the install record in ${read.quayRoot} changed` : `a ${who.scope} install was made`;
      throw new HostError(`${what} while this mreg was reading it (another mreg ran meanwhile); nothing was changed`,
        `run ${again} again: it reads the install as it is now`);
    }
    return release;
  } catch (err) {
    await release();
    throw err;
  }
}

function sameRecord(a: InstallRecord | undefined, b: InstallRecord | undefined): boolean {
  return a === undefined || b === undefined ? a === b : serializeRecord(a) === serializeRecord(b);
}
