// One mreg at a time per scope: the lock file under /run or the user's runtime folder.
import { dirname } from 'node:path';
import { lockPath } from '../model/scope.js';
import type { HostProbe } from './facts.js';
import { acquireLock, makeDirIfMissing } from './fs.js';

/** Takes the scope's lock (one mreg at a time per scope); resolves with the function that releases it. */
export async function lockScope(probe: Pick<HostProbe, 'scope' | 'home' | 'runtimeDir'>): Promise<() => Promise<void>> {
  const lock = lockPath(probe.scope, probe.home, probe.runtimeDir);
  // /run, or the user's XDG_RUNTIME_DIR (systemd makes it 0700; chmodding it 0755 would expose the user's sockets).
  await makeDirIfMissing(dirname(lock), probe.scope === 'rootful' ? 0o755 : 0o700);
  return acquireLock(lock);
}
