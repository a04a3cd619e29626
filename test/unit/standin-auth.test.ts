// The Quay stand-in (test/images/quay/standin) must not turn a database failure into "wrong password":
// real Quay retries the query once and then fails the request with a 500 (test/README.md cites it).
import t from 'tap';
// @ts-expect-error plain ESM module of the stand-in image, no types
import { verifyUser } from '../images/quay/standin/backends.mjs';

t.test('a database that does not answer is a server error, not a 401', async t => {
  // Port 1 on localhost refuses at once (and on this host the image's psql path may not exist at all):
  // either way every query fails.
  const db = { host: '127.0.0.1', port: 1, user: 'quay', password: 'x', database: 'quay' };
  await t.rejects(verifyUser(db, 'init', 'some-password'), /database error/);
});
