// allInOrder: steps run at once, but the error reported and the moment it is reported do not depend on timing.
import t from 'tap';
import { allInOrder } from '../../src/concurrent.js';

const after = <T>(ms: number, v: T, fail = false) => new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(new Error(String(v))) : resolve(v)), ms));

t.test('resolves with every value, in order', async t => {
  t.same(await allInOrder([after(20, 'a'), after(1, 2), after(5, true)]), ['a', 2, true]);
});

t.test('the first failure in the order given wins, even when a later one fails first', async t => {
  await t.rejects(allInOrder([after(30, 'preflight', true), after(1, 'images', true), after(5, 'pg')]), { message: 'preflight' });
});

t.test('a failure is thrown only after every step has ended', async t => {
  let slowEnded = false;
  const slow = after(40, 'slow').then(v => { slowEnded = true; return v; });
  await t.rejects(allInOrder([after(1, 'fast', true), slow]));
  t.ok(slowEnded, 'the slow step had ended (nothing left running behind the error)');
});
