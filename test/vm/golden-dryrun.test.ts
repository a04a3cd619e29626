// Every golden unit set must pass podman's own Quadlet generator, here podman 5.4 (Debian 13's); the
// podman-4.9 set also runs through the real 4.9.4 generator in podman49.test.ts.
import t from 'tap';
import { requireVm } from './guest.js';
import { checkGoldenSet, goldenSets } from './golden.js';
import { fromClean } from './snapshot.js';

requireVm();
t.setTimeout(10 * 60_000);
t.before(fromClean); // Debian's podman 5.4, whatever the suite before this one swapped in

const sets = goldenSets();
t.ok(sets.length >= 2, `golden sets found: ${sets.join(', ')}`);
for (const set of sets) checkGoldenSet(t, set, 'podman 5.4');
