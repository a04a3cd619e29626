// waitForHealth's timeout is an expected failure (exit 1 with a hint), not a bug report with a stack.
import t from 'tap';
import { createServer } from 'node:net';
import { waitForHealth } from '../../src/host/http.js';
import { HostError } from '../../src/errors.js';

t.test('a registry that never answers 200 ends in a HostError naming the URL and the last answer', async t => {
  // A port that refuses: listen, note the port, close.
  const port = await new Promise<number>(resolve => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
  const err = await waitForHealth({ hostname: 'localhost', port }, 0, { intervalMs: 10 }).catch((e: unknown) => e);
  t.type(err, HostError);
  t.match((err as HostError).message, new RegExp(`^https://localhost:${port}/health/instance did not answer 200 within 0 s \\(last: .*ECONNREFUSED`));
  t.match((err as HostError).hint, /mreg status.*mreg logs quay-app/);
});
