// The executor's file actions (up's and adopt's writes, plan/writes.ts): a file that is the same is not
// written again (its service needs no restart) and the run says which it wrote; files alone never
// connect to systemd (a no-op up loads no D-Bus, issue 19); a start job after them connects once.
import t from 'tap';
import { action } from '../../src/actions/action.js';
import { executeActions, filesOnly } from '../../src/actions/execute.js';
import type { ActionPorts, FilePorts } from '../../src/actions/ports.js';
import { planRecordWrites, planWrites } from '../../src/plan/writes.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';

const out = { step: async (_: string, fn: () => Promise<void>) => fn(), info: () => {}, warn: () => {} } as never;
const layout = quayRootLayout('/home/u/quay-install');
const QD = '/home/u/.config/containers/systemd';

function memFiles(initial: Record<string, { content: string; mode: number }> = {}) {
  const files = { ...initial };
  const dirs = new Map<string, number>([['/home/u', 0o700], [QD, 0o700]]);
  const calls: string[] = [];
  const ports: FilePorts = {
    read: async p => files[p]?.content,
    write: async (p, content, mode) => { calls.push(`write ${p}`); files[p] = { content, mode }; },
    makeDir: async (p, mode) => { calls.push(`makeDir ${p}`); if (!dirs.has(p)) dirs.set(p, mode); },
    ensureMode: async (p, mode) => {
      const f = files[p];
      if (f && f.mode !== mode) { calls.push(`chmod ${p}`); f.mode = mode; }
      if (!f && dirs.has(p) && dirs.get(p) !== mode) { calls.push(`chmod ${p}`); dirs.set(p, mode); }
    },
    remove: async p => { calls.push(`remove ${p}`); delete files[p]; },
    exists: async p => p in files || dirs.has(p),
    copyInto: async () => { throw new Error('not used'); },
  };
  return { ports, files, dirs, calls };
}

const planned = [
  { path: `${QD}/quay-app.container`, content: '[Container]\n', mode: 0o644 },
  { path: `${QD}/quay-redis.container`, content: '[Container]\nredis\n', mode: 0o644 },
  { path: layout.configYaml, content: 'SERVER_HOSTNAME: x\n', mode: 0o640 },
] as never;

t.test('planWrites: quayRoot and quay-config with their modes, each other folder once and only if missing, then each file', async t => {
  const plan = planWrites(planned, layout, 'write units and config');
  t.same(plan.map(a => a.id), [
    'make-dir:/home/u/quay-install', 'make-dir:/home/u/quay-install/quay-config', `make-dir:${QD}`,
    `write-file:${QD}/quay-app.container`, `write-file:${QD}/quay-redis.container`, `write-file:${layout.configYaml}`,
  ]);
  t.same(plan.filter(a => a.kind === 'make-dir').map(a => a.kind === 'make-dir' && [a.mode.toString(8), Boolean(a.exact)]), [['700', true], ['750', true], ['755', false]]);
  t.ok(plan.every(a => a.progress === 'write units and config'), 'one progress line');
  t.ok(planWrites(planned, layout).every(a => a.progress === undefined), 'none when the caller has its own');
});

t.test('a new install writes every file and says so; files alone never connect to systemd', async t => {
  const m = memFiles();
  let connects = 0;
  const run = await executeActions(planWrites(planned, layout), { files: m.ports, connect: async () => { connects++; return {} as ActionPorts; } }, { out });
  t.same(run.written, [`${QD}/quay-app.container`, `${QD}/quay-redis.container`, layout.configYaml]);
  t.equal(m.dirs.get(QD), 0o700, "the user's Quadlet folder keeps its mode");
  t.equal(m.dirs.get(layout.configDir), 0o750);
  t.equal(connects, 0, 'no D-Bus for files');
});

t.test('the same file is not written again; a drifted mode is put back without counting as written', async t => {
  const m = memFiles({
    [`${QD}/quay-app.container`]: { content: '[Container]\n', mode: 0o600 },
    [`${QD}/quay-redis.container`]: { content: '[Container]\nold redis\n', mode: 0o644 },
    [layout.configYaml]: { content: 'SERVER_HOSTNAME: x\n', mode: 0o640 },
  });
  const run = await executeActions(planWrites(planned, layout), { files: m.ports, connect: async () => ({} as ActionPorts) }, { out });
  t.same(run.written, [`${QD}/quay-redis.container`], 'only the file that differed');
  t.same(m.calls.filter(c => !c.startsWith('makeDir')), [`chmod ${QD}/quay-app.container`, `write ${QD}/quay-redis.container`]);
  t.equal(m.files[`${QD}/quay-app.container`]!.mode, 0o644);
});

t.test('a job after the files connects once, when it runs', async t => {
  const m = memFiles();
  const seen: string[] = [];
  const systemd = {
    unitState: async () => ({ loadState: 'loaded', activeState: 'inactive' }),
    reload: async () => { seen.push('reload'); },
    startUnit: async (u: string) => { seen.push(`start ${u}`); return 'done'; },
  };
  let connects = 0;
  const connect = async () => { connects++; seen.push('connect'); return { systemd, files: m.ports } as unknown as ActionPorts; };
  const plan = [...planWrites(planned, layout), action({ kind: 'daemon-reload' }), action({ kind: 'start-unit', unit: 'quay-app.service' })];
  await executeActions(plan, { files: m.ports, connect }, { out });
  t.equal(connects, 1);
  t.same(seen, ['connect', 'reload', 'start quay-app.service'], 'connected after the writes, before the reload');
});

t.test('the record and its pointer: written when they differ, left alone when the same; file ports only', async t => {
  const record = { schemaVersion: 1, spec: { quayRoot: '/home/u/quay-install' } } as never;
  const plan = planRecordWrites(record, layout, '/home/u/.config/mreg/quayRoot');
  t.same(plan.map(a => a.id), [`write-record:${layout.record}`, 'make-dir:/home/u/.config/mreg', 'write-file:/home/u/.config/mreg/quayRoot']);
  const m = memFiles();
  await executeActions(plan, filesOnly(m.ports), { out });
  t.equal(m.files['/home/u/.config/mreg/quayRoot']!.content, '/home/u/quay-install\n');
  t.equal(m.files[layout.record]!.mode, 0o600);
  m.calls.length = 0;
  await executeActions(plan, filesOnly(m.ports), { out });
  t.same(m.calls.filter(c => !c.startsWith('makeDir')), [], 'the same record is not written again');
  await t.rejects(executeActions([action({ kind: 'daemon-reload' })], filesOnly(m.ports), { out }), /internal: an action beyond files/);
});
