// host/storage.ts giveBackDir on real folders (rootful: find and rm run as they are): `only` deletes those
// top-level names, `spare` all but those; a folder mreg created goes only once nothing is left in it.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { giveBackDir } from '../../src/host/storage.js';

const ids = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

function folder(t: Test, names: string[]): string {
  const dir = join(t.testdir(), 'root');
  mkdirSync(dir);
  for (const n of names) { mkdirSync(join(dir, n)); writeFileSync(join(dir, n, 'f'), n); }
  return dir;
}

t.test('spare: everything but the spared names goes, the folder mreg created stays while they are there', async t => {
  const dir = folder(t, ['config', 'quay-storage', 'pg-data', 'a[1]', 'lost+found']);
  const left = await giveBackDir({ path: dir, createdFrom: dir }, 'rootful', ids, undefined, ['quay-storage', 'a[1]']);
  t.same(left, ['a[1]', 'quay-storage'], 'what is left, named');
  t.same(readdirSync(dir).sort(), ['a[1]', 'lost+found', 'quay-storage'], 'a name with pattern characters matched as it is');
});

t.test('spare of names no longer there: the folder mreg created goes', async t => {
  const dir = folder(t, ['config']);
  t.same(await giveBackDir({ path: dir, createdFrom: dir }, 'rootful', ids, undefined, ['quay-storage']), []);
  t.notOk(existsSync(dir));
});

t.test('only: just those names go; the rest is listed and stays', async t => {
  const dir = folder(t, ['sha256', 'notes']);
  t.same(await giveBackDir({ path: dir, adopted: true }, 'rootful', ids, ['sha256']), ['notes']);
  t.same(readdirSync(dir), ['notes']);
});
