// A child process for lock.test.ts: waits until the given instant (so several start their attempt within
// a millisecond of each other), tries the lock, holds it a while, and prints "held FROM UNTIL" (ms) or "refused".
import { acquireLock } from '../../src/host/fs.js';

const [lockPath, goAt] = process.argv.slice(2) as [string, string];
while (Date.now() < Number(goAt)) { /* spin: a timer would add milliseconds of jitter */ }
try {
  const release = await acquireLock(lockPath);
  const from = Date.now();
  await new Promise(r => setTimeout(r, 300));
  const until = Date.now();
  await release();
  console.log(`held ${from} ${until}`);
} catch {
  console.log('refused');
}
