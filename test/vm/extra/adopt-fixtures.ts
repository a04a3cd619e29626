// By hand, not in CI (about 3.5 minutes): the two rendered mirror-registry installs that neither
// adopt.test.ts nor adopt-layouts.test.ts adopts get a first user and an image, are adopted, and must
// then serve the same image to the same password, healthy.
//   MREG_VM=$PWD/test/vm/vm.sh PORT=2240 npx tap --disable-coverage --jobs=1 --timeout=3600 test/vm/extra/adopt-fixtures.ts
// on a VM prepared as test/run.mjs does (a `clean` snapshot with the release executable installed).
import t from 'tap';
import { adoptInEachScope } from '../adopt-rendered.js';
import { fromClean } from '../snapshot.js';

t.before(fromClean);

adoptInEachScope(t, 'adopt the other rendered installs', { rootful: '1.3.10-rootful', rootless: '1.3.11-rootless' });
