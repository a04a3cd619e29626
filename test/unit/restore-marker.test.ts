// The marker an unfinished restore leaves: until the database is back, only the same restore may go on
// (an up would start Quay on an empty or partial database and drop the marker, so the restore could not
// resume); once it is back, an up of its own may finish the job.
import t from 'tap';
import { markerText, parseMarker, unfinishedRestoreProblem } from '../../src/backup/restored.js';
import { HostError } from '../../src/errors.js';
import { refuseUnfinishedRestore } from '../../src/up/record.js';

const ROOT = '/srv/quay';
const started = markerText({ id: 'b1', taken: [], archives: ['/mnt/usb/full.tar', '/mnt/usb/incr.tar'] });

t.test('before the database is back: refused, naming the restore to run again; after: nothing to refuse', async t => {
  t.same(unfinishedRestoreProblem(started, ROOT), {
    message: 'a restore into /srv/quay did not finish: the registry\'s database and blobs are not all back',
    hint: 'run mreg restore /mnt/usb/full.tar /mnt/usb/incr.tar again (with the same flags): it resumes; nothing was changed',
  });
  t.equal(unfinishedRestoreProblem(markerText({ ...parseMarker(started)!, dataRestored: true }), ROOT), undefined);
  t.equal(unfinishedRestoreProblem(undefined, ROOT), undefined, 'no marker');
  t.match(unfinishedRestoreProblem('{"id":"b0","taken":[]}\n', ROOT)?.hint, /^run the same mreg restore again/, 'a marker of an older mreg names no archive');
});

t.test('up: HostError before anything, when the marker says so', async t => {
  const look = (text?: string) => ({ readFile: async (p: string) => (p === `${ROOT}/restore-in-progress.json` ? text : undefined) });
  await t.rejects(refuseUnfinishedRestore(look(started), ROOT), HostError);
  await t.resolves(refuseUnfinishedRestore(look(undefined), ROOT));
});
