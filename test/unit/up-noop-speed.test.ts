// Issue 19's two levers in a re-run of `mreg up`, over the in-memory host: the registry's health asked once
// beside the checks stands in for the wait at the end only when nothing changed, and config.yaml is read
// beside preflight yet still refused before linger, the one check that changes the host. The early probe
// is ended when up ends, so a registry that never answers cannot hold the process.
import t, { type Test } from 'tap';
import { up } from '../../src/commands/up.js';
import { HostError } from '../../src/errors.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { parseRecord } from '../../src/install-spec/record.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';
import { plan as makePlan } from '../../src/plan/plan.js';
import { stepLog } from '../../src/ui/step-log.js';
import { askHealthEarly } from '../../src/up/early-health.js';
import type { UpContext, UpRun } from '../../src/up/run.js';
import { waitHealthy } from '../../src/up/start.js';
import { createFakeHost, fakeContext, recordFile, type FakeHost } from '../support/fake-host.js';
import { fakeFsMocks } from '../support/fake-fs.js';
import { HOME, probe, ROOT, runningInstall } from '../support/running-install.js';

const RECORD = `${ROOT}/mreg-install.json`;
const layout = quayRootLayout(ROOT);
const IMAGES = { quay: 'q:1', postgres: 'p:1', redis: 'r:1' };

function install() {
  const state = runningInstall();
  const record = parseRecord(state.files[RECORD]!.content, RECORD);
  return { state, record, spec: record.spec as InstallSpec };
}

t.test('askHealthEarly: asked once, only for a live install that no flag changes', async t => {
  const { record, spec } = install();
  const asked: unknown[] = [];
  const look = { health: async (...a: unknown[]) => { asked.push(a[3]); return { ok: true, status: 200, error: null }; } };
  t.equal(askHealthEarly(look, spec, layout, undefined, []), undefined, 'a new install: nothing to ask');
  t.equal(askHealthEarly(look, spec, layout, { ...record, removedAt: '2026-02-01T00:00:00.000Z' }, []), undefined, 'removed by mreg down: nothing runs');
  t.equal(askHealthEarly(look, spec, layout, record, ['--quayHostname: a → b']), undefined, 'a flag changes the install');
  t.same(asked, [], 'none of those asked');
  t.match(await askHealthEarly(look, spec, layout, record, []), { ok: true });
  t.same(asked, [{ tries: 1, timeoutMs: 5_000 }], 'one try: a miss only means up waits as before');
  const failing = { health: async () => { throw new Error('ECONNREFUSED'); } };
  t.match(await askHealthEarly(failing, spec, layout, record, []), { ok: false }, 'a failed request is a "no", never a rejection');
});

/** waitHealthy's run, with the fake host's looks and the health waits it makes counted. */
function healthRun(host: FakeHost, spec: InstallSpec) {
  const c = fakeContext(host, {}, { verbose: true });
  const look = host.inspect(probe);
  let waits = 0;
  const counted = { ...look, waitForHealth: async (...a: Parameters<typeof look.waitForHealth>) => { waits++; return look.waitForHealth(...a); } };
  const log = stepLog(c.ctx.out);
  const record = parseRecord(host.state.files[RECORD]!.content, RECORD);
  const run = { out: c.ctx.out, did: log.did, look: counted, spec, previous: record, connect: async () => { throw new Error('no job expected'); } } as unknown as UpRun;
  return { run, waits: () => waits, stderr: c.stderr, ran: log.ran };
}

t.test('waitHealthy: an early 200 of a run that changed nothing is the health; anything else waits', async t => {
  const { state, spec } = install();
  const planned = { volumes: [] } as unknown as ReturnType<typeof makePlan>;
  const ep = { hostname: spec.hostname, port: spec.port };
  for (const [name, early, waits] of [
    ['answered 200', Promise.resolve({ ok: true, askedAt: Date.now() }), 0],
    ['answered otherwise', Promise.resolve({ ok: false, askedAt: Date.now() }), 1],
    ['not asked (something changed)', undefined, 1],
  ] as const) {
    const r = healthRun(createFakeHost({ probe, state }), spec);
    await waitHealthy(r.run, planned, ep, early);
    t.equal(r.waits(), waits, `${name}: ${waits} health wait(s)`);
    t.same(r.ran, ['health'], `${name}: the health step still ends`);
    t.match(r.stderr(), waits ? /healthy after \d+ ms of probing/ : /healthy: \/health\/instance answered 200 while up checked, \d+ ms ago/);
  }
});

/** up's host checks with config.yaml read from the fake host's files (kept-config reads the disk itself). */
async function loadCheckHost(t: Test, host: FakeHost) {
  const fs = fakeFsMocks(host, HOME);
  const mod = await t.mockImport<typeof import('../../src/up/host-checks.js')>('../../src/up/host-checks.js', {
    ...fs,
    '../../src/apply/kept-config.js': await t.mockImport<object>('../../src/apply/kept-config.js', fs),
    '../../src/apply/units-step.js': await t.mockImport<object>('../../src/apply/units-step.js', fs),
  });
  return mod.checkHost;
}

t.test('a config.yaml that is not YAML is refused before linger is turned on', async t => {
  const { state, record } = install();
  const spec = { ...record.spec, images: IMAGES } as InstallSpec;
  state.files[layout.configYaml] = { content: 'FEATURE_X: [unclosed\n', mode: 0o640 };
  const lingerOff = { ...probe, lingerEnabled: false };
  // The generator's check is among these, and passes: the refusal must be config.yaml's.
  const host = createFakeHost({ probe: lingerOff, state, images: Object.values(IMAGES), quadletDryRun: { ok: true, output: '', units: {} } });
  const checkHost = await loadCheckHost(t, host);
  const c = fakeContext(host, {});
  const look = { ...host.inspect(lingerOff), portFree: async () => true, resolves: async () => true };
  const context = {
    out: c.ctx.out, did: () => undefined, host, look, podman: host.podman(), probe: lingerOff, target: lingerOff, layout, spec,
    previous: { ...record, spec }, connect: async () => { throw new Error('no job expected'); },
  } as unknown as UpContext;
  const err = await checkHost(context, { givenImages: {}, createBucket: false }).then(() => undefined, (e: unknown) => e);
  t.type(err, HostError);
  t.match((err as Error).message, /config\.yaml is not valid YAML/);
  t.notOk(host.calls.some(call => call.startsWith('enableLinger')), 'linger was not turned on', { calls: host.calls });
  t.notOk(host.state.linger, 'linger is still off');
});

t.test('askHealthEarly passes its signal on, so up can end a probe nobody will read', async t => {
  const { record, spec } = install();
  let given: AbortSignal | undefined;
  const look = { health: async (_ep: unknown, _k: unknown, _l: unknown, o?: { signal?: AbortSignal }) => { given = o?.signal; return { ok: true, status: 200, error: null }; } };
  const stop = new AbortController();
  await askHealthEarly(look, spec, layout, record, [], stop.signal);
  t.equal(given, stop.signal);
});

t.test('up aborts its early health probe as it ends, even when a check stops it', async t => {
  const state = runningInstall();
  const record = parseRecord(state.files[RECORD]!.content, RECORD);
  state.files[RECORD] = recordFile({ ...record, spec: { ...record.spec, images: { quay: 'localhost/t/quay:1', postgres: 'localhost/t/postgres:15', redis: 'localhost/t/redis:7' } } });
  const host = createFakeHost({ probe, state });
  // The registry takes the connection and never answers: only the signal ends this probe.
  let signal: AbortSignal | undefined;
  const inspect = host.inspect.bind(host);
  host.inspect = (...a: Parameters<typeof host.inspect>) => ({
    ...inspect(...a),
    health: (_ep, _k, _l, o) => new Promise(resolve => {
      signal = o?.signal;
      signal?.addEventListener('abort', () => resolve({ ok: false, status: null, error: 'aborted' }));
    }),
  });
  const c = fakeContext(host, {});
  // The fake host resolves no name, so a host check stops this run: the probe must end all the same.
  await up(c.ctx).then(() => undefined, () => undefined);
  t.ok(signal, 'a live install with no flag change asked early');
  t.equal(signal?.aborted, true, 'and the probe was ended when up ended');
});
