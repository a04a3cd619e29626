// The Quay stand-in (test/images/quay/standin) must not turn a database failure into "wrong password":
// real Quay retries the query once on a new connection and then fails the request with a 500
// (test/README.md cites it).
import t from 'tap';
// @ts-expect-error plain ESM module of the stand-in image, no types
import { verifyUser } from '../images/quay/standin/backends.mjs';

const failing = () => ({ query: async () => { throw new Error('server closed the connection'); }, close() {} });

t.test('a database that does not answer is a server error, not a 401', async t => {
  let reconnects = 0;
  const reconnect = async () => { reconnects += 1; return failing(); };
  await t.rejects(verifyUser(failing(), 'init', 'some-password', reconnect), /database error/);
  t.equal(reconnects, 1, 'asked once more, on a new connection');
  await t.rejects(verifyUser(failing(), 'init', 'some-password', async () => { throw new Error('ECONNREFUSED'); }), /database error/,
    'no new connection either: still a server error');
});

t.test('the retry on a new connection answers', async t => {
  let closed = false;
  const fresh = { query: async () => [], close() { closed = true; } };
  t.equal(await verifyUser(failing(), 'nobody', 'some-password', async () => fresh), false, 'unknown user: false, not an error');
  t.ok(closed, 'the retry connection is closed');
});
