// knownVolumeMountpoints (src/host/storage.ts): what status uses for the volumes' free space. A folder up
// recorded that is still there costs no podman process; a missing one is asked of podman (a stand-in on PATH).
import t from 'tap';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knownVolumeMountpoints } from '../../src/host/storage.js';
import { fakePodman } from '../support/fake-podman.js';

const dir = mkdtempSync(join(tmpdir(), 'mreg-volumes-'));
const { calls } = fakePodman(t, dir, `shift 4
for n in "$@"; do printf '%s\\t/var/lib/containers/storage/volumes/%s/_data\\n' "$n" "$n"; done
`);

t.test('every volume recorded and still there: no podman process', async t => {
  const a = join(dir, 'a'); const b = join(dir, 'b');
  mkdirSync(a); mkdirSync(b);
  const got = await knownVolumeMountpoints(['quay-storage', 'pg-storage'], { 'quay-storage': a, 'pg-storage': b });
  t.same(Object.fromEntries(got), { 'quay-storage': a, 'pg-storage': b });
  t.same(calls(), []);
});

t.test('a recorded folder that is gone (the store moved), or none recorded: podman is asked for those only', async t => {
  const a = join(dir, 'a');
  const got = await knownVolumeMountpoints(['quay-storage', 'pg-storage'], { 'quay-storage': a, 'pg-storage': join(dir, 'gone') });
  t.equal(got.get('quay-storage'), a);
  t.equal(got.get('pg-storage'), '/var/lib/containers/storage/volumes/pg-storage/_data');
  t.same(calls(), ['volume inspect --format {{.Name}}\t{{.Mountpoint}} pg-storage']);
  const none = await knownVolumeMountpoints(['x']);
  t.equal(none.get('x'), '/var/lib/containers/storage/volumes/x/_data');
});
