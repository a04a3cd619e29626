// Every golden unit set must pass podman's own Quadlet generator (podman 5.4 in the VM): a key the
// generator does not know would make systemd silently lose the unit on a real host.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, user, requireVm, describe } from './guest.js';

requireVm();
t.setTimeout(10 * 60_000);

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '../golden');
const QUADLET = '/usr/libexec/podman/quadlet';

/** The folder of a golden set that holds its Quadlet files, relative to the set. */
function unitDir(set: string): string {
  const facts = JSON.parse(readFileSync(join(GOLDEN, set, 'facts.json'), 'utf8')) as { quadletDir: string };
  return join('files', facts.quadletDir);
}

const sets = readdirSync(GOLDEN, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name);
t.ok(sets.length >= 2, `golden sets found: ${sets.join(', ')}`);

for (const set of sets) {
  const scope = (JSON.parse(readFileSync(join(GOLDEN, set, 'spec.json'), 'utf8')) as { scope: string }).scope;
  t.test(`${set} (${scope}) passes quadlet -dryrun`, async t => {
    const dir = `/opt/mreg/test/golden/${set}/${unitDir(set)}`;
    const run = scope === 'rootless' ? user : root;
    const r = await run(`QUADLET_UNIT_DIRS=${dir} ${QUADLET} -dryrun ${scope === 'rootless' ? '-user' : ''}`);
    t.equal(r.exitCode, 0, `generator exit code`, { output: describe(r) });
    t.notMatch(r.stderr, /unsupported|error|invalid/i, 'no complaint on stderr');
    for (const unit of ['quay-pod.service', 'quay-postgres.service', 'quay-redis.service', 'quay-app.service']) {
      t.match(r.stdout, `---${unit}---`, `${unit} generated`);
    }
  });
}
