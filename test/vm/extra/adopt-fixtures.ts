// By hand, not in CI (about 3.5 minutes): the two rendered mirror-registry installs that neither
// adopt.test.ts nor adopt-layouts.test.ts adopts get a first user and an image, are adopted, and must
// then serve the same image to the same password, healthy.
//   MREG_VM=$PWD/test/vm/vm.sh PORT=2240 npx tap --disable-coverage --jobs=1 --timeout=3600 test/vm/extra/adopt-fixtures.ts
// on a VM prepared as test/run.mjs does (a `clean` snapshot with the release executable installed).
import t from 'tap';
import { sideBySide, SCOPES, type Scope } from '../guest.js';
import { adoptRendered } from '../adopt-rendered.js';
import { fromClean } from '../snapshot.js';

const FIXTURE: Record<Scope['name'], string> = { rootful: '1.3.10-rootful', rootless: '1.3.11-rootless' };

t.before(fromClean);

sideBySide(t, 'adopt the other rendered installs', SCOPES, (t, scope) => {
  t.test(FIXTURE[scope.name], t => adoptRendered(t, scope, FIXTURE[scope.name]));
});
