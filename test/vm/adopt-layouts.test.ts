// The other four of mirror-registry's rendered layouts adopted, two per scope, beside adopt.test.ts's two
// (which also test refusals, rollbacks, leftovers and config keys): as root 1.2.9 (1.2's units, its data in
// folders under /etc/quay-install, literal passwords) and 1.3.10 (1.3's system units before podman secrets,
// volumes); rootless 1.3.10 (1.3's user units before podman secrets) and 1.3.11 (podman secrets, volumes).
// Two rounds of one fixture per scope side by side, the second from the clean guest again (adopt-rendered.ts).
import t from 'tap';
import { adoptInEachScope } from './adopt-rendered.js';
import { fromClean } from './snapshot.js';

t.before(fromClean);

adoptInEachScope(t, 'adopt another mirror-registry layout in each scope', { rootful: ['1.2.9-rootful', '1.3.10-rootful'], rootless: ['1.3.10-rootless', '1.3.11-rootless'] });
