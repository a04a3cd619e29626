// mreg upgrade over the in-memory host (issue 14): an image podman does not hold is refused before
// anything on the host changes, since mreg never pulls (air-gapped) and a unit naming it could not start.
import t from 'tap';
import { upgrade } from '../../src/commands/upgrade.js';
import { HostError } from '../../src/errors.js';
import { parseRecord } from '../../src/install-spec/record.js';
import { createFakeHost, fakeContext, recordFile } from '../support/fake-host.js';
import { probe, ROOT, runningInstall } from '../support/running-install.js';

const IMAGES = { quay: 'localhost/mreg-test/quay:v1', postgres: 'localhost/mreg-test/postgres:15', redis: 'localhost/mreg-test/redis:7' };

/** runningInstall() with image references upgrade's flag checks accept. */
function installed() {
  const state = runningInstall();
  const path = `${ROOT}/mreg-install.json`;
  const record = parseRecord(state.files[path]!.content, path);
  state.files[path] = recordFile({ ...record, spec: { ...record.spec, images: IMAGES } });
  return state;
}

t.test('an image podman does not hold: refused before any file is written or unit restarted', async t => {
  const state = installed();
  const host = createFakeHost({ probe, state, images: Object.values(IMAGES) });
  const c = fakeContext(host, { quayImage: 'localhost/mreg-test/quay:v2' });
  const err = await upgrade(c.ctx).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof HostError && err.exitCode === 1, 'HostError, exit 1');
  t.match(err, {
    message: 'image not present on this host: --quayImage localhost/mreg-test/quay:v2',
    hint: 'load them with --image-archive FILE; nothing was changed and mreg never pulls (air-gapped)',
  });
  t.same(host.calls, ['probe'], 'nothing written, reloaded, restarted or removed');
  t.same(host.state, state, 'the host is as it was');
  t.notOk(host.isLocked(), 'the lock is given back');
});
