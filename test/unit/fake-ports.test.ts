// The fake host's file ports against the real ones (src/ports.ts over host/fs.ts and cp), scenario by
// scenario on a temporary folder: both fail, or both leave the same tree. The command tests trust the
// fake to fail where the host would (a write into a missing folder, a copy from one); until 2026-12 it
// wrote and copied anyway. Also the fake's systemd for a unit it does not know, and fake-fs's ensureDir.
import t from 'tap';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { FilePorts } from '../../src/actions/ports.js';
import { HostError } from '../../src/errors.js';
import * as realFs from '../../src/host/fs.js';
import { createHostPorts } from '../../src/ports.js';
import { createOutput } from '../../src/ui/output.js';
import { createFakeHost, type FakeHost } from '../support/fake-host.js';
import { fakeFsMocks } from '../support/fake-fs.js';
import { probe } from '../support/running-install.js';

const FAKE = '/home/alice/t';
const emptyState = () => ({ units: {}, files: {}, dirs: { [FAKE]: { mode: 0o700, uid: 1000, gid: 1000 } }, secrets: [], volumes: [], containers: [], pods: [], linger: false });

/** Files and folders under `root` as "path mode [content]" lines, on the disk or in the fake's state. */
async function realTree(root: string): Promise<string[]> {
  const lines: string[] = [];
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    const mode = ((await lstat(p)).mode & 0o7777).toString(8);
    lines.push(e.isDirectory() ? `${relative(root, p)}/ ${mode}` : `${relative(root, p)} ${mode} ${await readFile(p, 'utf8')}`);
  }
  return lines.sort();
}
function fakeTree(host: FakeHost): string[] {
  const under = (p: string) => p.startsWith(`${FAKE}/`);
  return [
    ...Object.entries(host.state.dirs).filter(([p]) => under(p)).map(([p, d]) => `${relative(FAKE, p)}/ ${d.mode.toString(8)}`),
    ...Object.entries(host.state.files).filter(([p]) => under(p)).map(([p, f]) => `${relative(FAKE, p)} ${f.mode.toString(8)} ${f.content}`),
  ].sort();
}

interface Scenario {
  what: string;
  /** What is there first (folders 0755 unless `mode` says, files 0644). */
  before?: Array<{ dir: string; mode?: number } | { file: string; content: string }>;
  act: (files: FilePorts, root: string) => Promise<unknown>;
  /** What a failure says, on both (the text after the path); undefined: both must succeed. */
  fails?: RegExp;
}

const SCENARIOS: Scenario[] = [
  { what: 'write into a missing folder', act: (f, r) => f.write(`${r}/no/file`, 'x', 0o600), fails: /^cannot write \S+: ENOENT/ },
  { what: 'write under a file', before: [{ file: 'f', content: 'x' }], act: (f, r) => f.write(`${r}/f/file`, 'x', 0o600), fails: /^cannot write \S+: ENOTDIR/ },
  { what: 'write over a folder', before: [{ dir: 'd' }, { file: 'd/keep', content: 'k' }], act: (f, r) => f.write(`${r}/d`, 'x', 0o600), fails: /^cannot write \S+: EISDIR/ },
  { what: 'write into an existing folder', before: [{ dir: 'd' }], act: (f, r) => f.write(`${r}/d/file`, 'new', 0o600) },
  { what: 'makeDir makes the missing levels with the mode, leaves an existing one', before: [{ dir: 'a' }],
    act: (f, r) => f.makeDir(`${r}/a/b/c`, 0o700) },
  { what: 'makeDir where a file is', before: [{ file: 'f', content: 'x' }], act: (f, r) => f.makeDir(`${r}/f`, 0o700), fails: /^cannot create directory \S+: EEXIST/ },
  { what: 'makeDir under a file', before: [{ file: 'f', content: 'x' }], act: (f, r) => f.makeDir(`${r}/f/d`, 0o700), fails: /^cannot create directory \S+: ENOTDIR/ },
  { what: 'copyInto from a missing folder', before: [{ dir: 'into' }], act: (f, r) => f.copyInto(`${r}/none`, `${r}/into`, 'copying it'), fails: /^copying it failed: cp -a/ },
  { what: 'copyInto a new name (cp makes it, as a copy of the folder)', before: [{ dir: 'from' }, { file: 'from/x', content: 'x' }], act: (f, r) => f.copyInto(`${r}/from`, `${r}/new`, 'copying it') },
  { what: 'copyInto under a missing folder', before: [{ dir: 'from' }, { file: 'from/x', content: 'x' }], act: (f, r) => f.copyInto(`${r}/from`, `${r}/none/new`, 'copying it'), fails: /^copying it failed: cp -a/ },
  { what: 'copyInto from a file', before: [{ file: 'f', content: 'x' }, { dir: 'into' }], act: (f, r) => f.copyInto(`${r}/f`, `${r}/into`, 'copying it'), fails: /^copying it failed: cp -a/ },
  { what: 'copyInto copies the tree, modes kept', before: [{ dir: 'from' }, { dir: 'from/sub' }, { file: 'from/sub/x', content: 'x' }, { file: 'from/y', content: 'y' }, { dir: 'into' }],
    act: (f, r) => f.copyInto(`${r}/from/`, `${r}/into`, 'copying it') },
  { what: 'copyInto an existing folder: it takes the mode of the folder copied', before: [{ dir: 'from', mode: 0o700 }, { file: 'from/x', content: 'x' }, { dir: 'into' }],
    act: (f, r) => f.copyInto(`${r}/from`, `${r}/into`, 'copying it') },
  { what: 'ensureMode of a folder', before: [{ dir: 'd' }], act: (f, r) => f.ensureMode(`${r}/d`, 0o700) },
  { what: 'ensureMode of a missing path', act: (f, r) => f.ensureMode(`${r}/none`, 0o700) },
];

async function outcome(act: () => Promise<unknown>, root: string): Promise<{ error?: string }> {
  try {
    await act();
    return {};
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    // The path as the error names it is the scenario's root; the rest is what the test compares.
    return { error: err.message.split(root).join('ROOT') };
  }
}

const realFiles = createHostPorts({ env: {}, out: createOutput({ env: {} }) }).files;

for (const sc of SCENARIOS) {
  t.test(`${sc.what}: the fake does what the real port does`, async t => {
    const root = await mkdtemp(join(tmpdir(), 'mreg-fake-ports-'));
    t.teardown(() => rm(root, { recursive: true, force: true }));
    await chmod(root, 0o700);
    const host = createFakeHost({ probe, state: emptyState() });
    for (const b of sc.before ?? []) {
      if ('dir' in b) {
        await mkdir(join(root, b.dir));
        await chmod(join(root, b.dir), b.mode ?? 0o755);
        host.state.dirs[`${FAKE}/${b.dir}`] = { mode: b.mode ?? 0o755, uid: 1000, gid: 1000 };
      } else {
        await writeFile(join(root, b.file), b.content);
        await chmod(join(root, b.file), 0o644);
        host.state.files[`${FAKE}/${b.file}`] = { content: b.content, mode: 0o644 };
      }
    }
    const real = await outcome(() => sc.act(realFiles, root), root);
    const fake = await outcome(() => sc.act(host.files, FAKE), FAKE);
    if (sc.fails) {
      t.match(real.error, sc.fails, 'the real port rejects with HostError', { real });
      t.match(fake.error, sc.fails, 'the fake rejects with HostError too', { fake });
    } else {
      t.same(real, {}, 'the real port resolves');
      t.same(fake, {}, 'the fake resolves');
    }
    t.same(fakeTree(host), await realTree(root), 'the same files, folders and modes afterwards');
  });
}

t.test('fake-fs ensureDir sets the mode of a folder that exists, as host/fs.ts does', async t => {
  const root = await mkdtemp(join(tmpdir(), 'mreg-fake-ports-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'd'), { mode: 0o755 });
  await chmod(join(root, 'd'), 0o755);
  await realFs.ensureDir(join(root, 'd'), 0o700);
  await realFs.ensureDir(join(root, 'n/e/w'), 0o750);
  const host = createFakeHost({ probe, state: emptyState() });
  host.state.dirs[`${FAKE}/d`] = { mode: 0o755, uid: 1000, gid: 1000 };
  const fs = fakeFsMocks(host, '/home/alice')['../../src/host/fs.js'] as typeof realFs;
  await fs.ensureDir(`${FAKE}/d`, 0o700);
  await fs.ensureDir(`${FAKE}/n/e/w`, 0o750);
  // mkdir's levels above the last get the mode masked by the umask on the disk; compare the ones ensureDir sets.
  const pick = (tree: string[]) => tree.filter(l => /^(d|n\/e\/w)\/ /.test(l));
  t.same(pick(fakeTree(host)), pick(await realTree(root)), 'd and n/e/w get their modes in both');
  t.same(pick(fakeTree(host)), ['d/ 700', 'n/e/w/ 750']);
});

t.test('the fake systemd: a start or restart of a unit it does not know rejects as host/systemd.ts maps NoSuchUnit', async t => {
  const host = createFakeHost({ probe, state: { ...emptyState(), units: { 'known.service': 'inactive' } } });
  const { systemd } = await host.actionPorts(probe);
  for (const [verb, run] of [['start', () => systemd.startUnit('quay-nope.service')], ['restart', () => systemd.restartUnit('quay-nope.service')]] as const) {
    await t.rejects(run(), { constructor: HostError, message: `cannot ${verb} quay-nope.service: Unit quay-nope.service not found.`, hint: /the generator may have skipped its file/ }, `${verb}: NoSuchUnit, not a "failed" job`);
  }
  t.equal(await systemd.stopUnit('quay-nope.service'), 'done', 'a stop of it is done: the unit is already stopped');
  t.equal(await systemd.startUnit('known.service'), 'done', 'a known unit starts');
  t.equal(host.state.units['known.service'], 'active');
});
