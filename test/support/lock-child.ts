// A child process for lock.test.ts: waits until the given instant (so several start their attempt within
// a millisecond of each other), tries the lock, holds it a while, and prints "held" or "refused".
import { acquireLock } from '../../src/host/fs.js';

const [lockPath, goAt] = process.argv.slice(2) as [string, string];
while (Date.now() < Number(goAt)) { /* spin: a timer would add milliseconds of jitter */ }
try {
  const release = await acquireLock(lockPath);
  await new Promise(r => setTimeout(r, 300));
  await release();
  console.log('held');
} catch {
  console.log('refused');
}
