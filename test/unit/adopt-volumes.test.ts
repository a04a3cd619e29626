// mirror-registry 1.3 creates pg-storage and quay-storage even for an install on folders; adopt offers the
// ones nothing mounts and that hold nothing (a stand-in `podman` on PATH lists the dangling volumes).
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEmptyVolumes, findLeftovers } from '../../src/adopt/leftovers.js';
import { fakePodman } from '../support/fake-podman.js';

const dir = mkdtempSync(join(tmpdir(), 'mreg-adopt-volumes-'));
const vol = (n: string) => join(dir, 'volumes', n, '_data');
for (const n of ['pg-storage', 'quay-storage', 'mine']) mkdirSync(vol(n), { recursive: true });
writeFileSync(join(vol('quay-storage'), 'sha256'), 'a blob'); // something was stored there
// `podman volume ls --filter dangling=true`: all three are dangling; `volume rm` logs and succeeds.
const { calls } = fakePodman(t, dir, `[ "$2" = ls ] && for n in pg-storage quay-storage mine; do printf '%s\\t${dir}/volumes/%s/_data\\n' $n $n; done
exit 0
`);

t.test('only the named candidates that nothing mounts and that are empty', async t => {
  t.same(await findEmptyVolumes(['pg-storage', 'quay-storage']), ['pg-storage'], 'quay-storage holds a file: kept; mine is not a candidate');
  t.same(calls(), ['volume ls --filter dangling=true --format {{.Name}}\t{{.Mountpoint}}']);
  t.same(await findEmptyVolumes([]), [], 'no candidates: podman is not asked');
  t.equal(calls().length, 1);
});

t.test('offered as a leftover after the key and the tars, removed without --force', async t => {
  const home = mkdtempSync(join(tmpdir(), 'mreg-home-'));
  const root = mkdtempSync(join(tmpdir(), 'mreg-quayroot-'));
  writeFileSync(join(root, 'quay.tar'), 'q');
  const found = await findLeftovers(home, root, ['pg-storage']);
  t.same(found.map(l => [l.what, l.path]), [['image-tar', join(root, 'quay.tar')], ['volume', 'pg-storage']]);
  t.equal(found[1]!.text, 'mirror-registry\'s volume pg-storage (empty)');
  t.equal(found[1]!.byHand, 'podman volume rm pg-storage');
  await found[1]!.remove();
  t.equal(calls().pop(), 'volume rm pg-storage');
});
