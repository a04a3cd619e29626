// A restore that failed before its end leaves restore-in-progress.json, so a rerun of it resumes. An up of
// its own that brings the registry to health removes it (commands/up.ts, unless it is restore's own up:
// up-before-app.test.ts):
// after that a restore of the same backup is refused without --force instead of resuming over live data.
import t from 'tap';
import { markerPath } from '../../src/backup/restored.js';
import { forgetRestoreMarker } from '../../src/up/record.js';
import { createFakeHost } from '../support/fake-host.js';
import { probe, ROOT, runningInstall } from '../support/running-install.js';

t.test('forgetRestoreMarker: removes a marker that is there, and asks nothing more when none is', async t => {
  const state = runningInstall();
  state.files[markerPath(ROOT)] = { content: '{"id":"full-1","taken":[]}\n', mode: 0o600 };
  const host = createFakeHost({ probe, state });
  await forgetRestoreMarker(host, host.inspect(probe), ROOT);
  t.notOk(host.state.files[markerPath(ROOT)], 'gone');
  t.same(host.calls, [`remove ${markerPath(ROOT)}`]);
  const clean = createFakeHost({ probe, state: runningInstall() });
  await forgetRestoreMarker(clean, clean.inspect(probe), ROOT);
  t.same(clean.calls, [], 'no change when there is none');
});

