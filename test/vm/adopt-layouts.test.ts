// Two more of mirror-registry's layouts adopted in CI, one per scope, beside adopt.test.ts's two (which
// also test refusals, rollbacks, leftovers and config keys): 1.2.9 as root (1.2's units, its data in
// folders under /etc/quay-install, literal passwords) and 1.3.10 rootless (1.3's user units before podman
// secrets). The other two rendered installs (1.3.10 as root, 1.3.11 rootless on volumes) run by hand:
// test/vm/extra/adopt-fixtures.ts.
import t from 'tap';
import { adoptInEachScope } from './adopt-rendered.js';
import { fromClean } from './snapshot.js';

t.before(fromClean);

adoptInEachScope(t, 'adopt another mirror-registry layout in each scope', { rootful: '1.2.9-rootful', rootless: '1.3.10-rootless' });
