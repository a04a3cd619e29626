// One golden unit set (test/golden/<set>) through the guest's own Quadlet generator: a key the generator
// does not know would make systemd silently lose the unit on a real host. Sets for podman 4.x also hold
// plain units (kind "unit" in plan.json, e.g. quay-pod.service): systemd-analyze verifies those together
// with what the generator made from the rest. Used on podman 5.4 (golden-dryrun) and 4.9 (podman49).
import type { Test } from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, user, describe } from './guest.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '../golden');
const QUADLET = '/usr/libexec/podman/quadlet';

export const goldenSets = (): string[] => readdirSync(GOLDEN, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name);

/** The folder of a golden set that holds its Quadlet files, relative to the set. */
function unitDir(set: string): string {
  const facts = JSON.parse(readFileSync(join(GOLDEN, set, 'facts.json'), 'utf8')) as { quadletDir: string };
  return join('files', facts.quadletDir);
}

/** Absolute paths of the set's plain (non-Quadlet) systemd units. */
function plainUnits(set: string): string[] {
  const plan = JSON.parse(readFileSync(join(GOLDEN, set, 'plan.json'), 'utf8')) as { files: { path: string; kind: string }[] };
  return plan.files.filter(f => f.kind === 'unit').map(f => f.path);
}

export function checkGoldenSet(parent: Test, set: string, generator: string): void {
  const scope = (JSON.parse(readFileSync(join(GOLDEN, set, 'spec.json'), 'utf8')) as { scope: string }).scope;
  parent.test(`${set} (${scope}) passes quadlet -dryrun of ${generator}`, async t => {
    const dir = `/opt/mreg/test/golden/${set}/${unitDir(set)}`;
    const run = scope === 'rootless' ? user : root;
    const userFlag = scope === 'rootless' ? '-user' : '';
    const version = await run(`${QUADLET} -version`);
    t.match(version.stdout, generator.replace(/^podman /, ''), `the guest's generator is ${generator}`, { output: describe(version) });
    const r = await run(`QUADLET_UNIT_DIRS=${dir} ${QUADLET} -dryrun ${userFlag}`);
    t.equal(r.exitCode, 0, `generator exit code`, { output: describe(r) });
    t.notMatch(r.stderr, /unsupported|error|invalid/i, 'no complaint on stderr');
    const plain = plainUnits(set);
    for (const unit of ['quay-pod.service', 'quay-postgres.service', 'quay-redis.service', 'quay-app.service']) {
      if (plain.some(p => basename(p) === unit)) t.notMatch(r.stdout, `---${unit}---`, `${unit} is a plain unit, not generated`);
      else t.match(r.stdout, `---${unit}---`, `${unit} generated`);
    }
    if (plain.length === 0) return;
    // Generate for real into a scratch dir, add the plain units, and let systemd check them all.
    const files = plain.map(p => `/opt/mreg/test/golden/${set}/files${p}`).join(' ');
    const v = await run(`d=$(mktemp -d) && QUADLET_UNIT_DIRS=${dir} ${QUADLET} ${userFlag} $d && cp ${files} $d/ && cd $d `
      + `&& SYSTEMD_UNIT_PATH=$d: systemd-analyze ${scope === 'rootless' ? '--user' : ''} verify $d/*.service; rc=$?; rm -rf $d; exit $rc`);
    t.equal(v.exitCode, 0, 'systemd-analyze verify of the plain and generated units', { output: describe(v) });
  });
}
