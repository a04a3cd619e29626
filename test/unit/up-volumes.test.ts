// A fresh `mreg up` on a host that still has a podman volume of the default name (an earlier registry's,
// whose install record is gone): mreg takes a volume only new or empty, as it does a folder, so another
// install's data is never run under new keys, nor deleted by a later `down --purge`.
import t from 'tap';
import { UsageError } from '../../src/errors.js';
import { givenImages } from '../../src/install-spec/flags.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { parseRecord, serializeRecord } from '../../src/install-spec/record.js';
import { checkUp } from '../../src/up/checks.js';
import { rawUpFlags } from '../../src/up/flags.js';
import { checkHost } from '../../src/up/host-checks.js';
import { createFakeHost, fakeContext, type FakeHostState } from '../support/fake-host.js';
import { probe, ROOT, runningInstall } from '../support/running-install.js';

const RECORD = `${ROOT}/mreg-install.json`;
const data = (volume: string) => `/var/lib/containers/storage/volumes/${volume}/_data`;
const IMAGES = { quayImage: 'registry.example.com/q:1', pgImage: 'registry.example.com/p:1', redisImage: 'registry.example.com/r:1' };

/** up's checks with `flags` on `state`; the podman volume questions asked are counted. */
async function upChecks(state: FakeHostState, flags: Record<string, unknown> = {}) {
  const host = createFakeHost({ probe, state, quadletDryRun: { ok: true, output: '', units: {} }, images: [...Object.values(IMAGES), 'q:1', 'p:1', 'r:1'] });
  const asked: string[][] = [];
  const inspect = host.inspect(probe);
  const look = { ...inspect, resolves: async () => true, portFree: async () => true, assertPgMajorCompatible: async () => undefined,
    volumeMountpoints: (names: readonly string[], recorded?: Readonly<Record<string, string>>) => { asked.push([...names]); return inspect.volumeMountpoints(names, recorded); } };
  const all = state.files[RECORD] ? flags : { ...IMAGES, ...flags };
  const c = fakeContext(host, all);
  const result = await (async () => {
    const checked = await checkUp({ host, look }, rawUpFlags(all), probe, async () => 'registry.example.com');
    return checkHost({ out: c.ctx.out, did: () => undefined, host: { ...host, inspect: () => look } as never, look: look as never,
      podman: { ...host.podman(), missingImages: async () => [] } as never, probe, target: probe, layout: quayRootLayout(checked.spec.quayRoot), spec: checked.spec,
      previous: checked.previous, connect: async () => { throw new Error('no systemd job in the checks'); } },
    { givenImages: givenImages(all, 'up'), createBucket: false });
  })().then(r => r, (e: unknown) => e);
  return { result, asked, host };
}

const bare = (): FakeHostState => ({ units: {}, files: {}, dirs: {}, secrets: [], volumes: [], containers: [], pods: [], linger: true });

t.test('fresh install, the default volumes hold an earlier registry\'s data: refused, one line per flag, nothing changed', async t => {
  const state = bare();
  state.volumes = ['quay-storage', 'pg-storage'];
  state.files[`${data('quay-storage')}/sha256/ab/abcd`] = { content: 'blob', mode: 0o644 };
  state.files[`${data('pg-storage')}/userdata/PG_VERSION`] = { content: '15\n', mode: 0o600 };
  const { result, host } = await upChecks(state);
  t.type(result, UsageError);
  const err = result as UsageError;
  t.same(err.message.split('\n'), [
    '--pgStorage pg-storage: podman volume pg-storage exists, holds userdata, and is not an mreg install\'s (an earlier registry\'s data?); give another volume name, e.g. --pgStorage mreg-pg-storage, or check what it holds and remove it: podman volume rm pg-storage; mreg never takes over existing data',
    '--quayStorage quay-storage: podman volume quay-storage exists, holds sha256, and is not an mreg install\'s (an earlier registry\'s data?); give another volume name, e.g. --quayStorage mreg-quay-storage, or check what it holds and remove it: podman volume rm quay-storage; mreg never takes over existing data',
  ]);
  t.match(err.hint, /^nothing was changed/);
  t.same(host.calls, [], 'no action port was called');
  t.same(host.state.volumes, ['quay-storage', 'pg-storage'], 'the volumes are as they were');
});

t.test('fresh install: an empty volume an admin made (on another disk) is taken; a missing one is made later', async t => {
  const state = bare();
  state.volumes = ['quay-storage'];
  state.dirs[data('quay-storage')] = { mode: 0o755, uid: 0, gid: 0 };
  const { result, asked } = await upChecks(state);
  t.notOk(result instanceof Error, String(result));
  t.same(asked, [['pg-storage', 'quay-storage']], 'one podman question for both volumes');
});

t.test('a volume given by flag that holds data is refused; the other, new, passes', async t => {
  const state = bare();
  state.volumes = ['old-blobs'];
  state.files[`${data('old-blobs')}/uploads/u1`] = { content: 'x', mode: 0o644 };
  const { result } = await upChecks(state, { quayStorage: 'old-blobs' });
  t.type(result, UsageError);
  t.match((result as UsageError).message, /^--quayStorage old-blobs: podman volume old-blobs exists, holds uploads,/);
  t.notMatch((result as UsageError).message, /pgStorage/);
});

t.test('the install\'s own volumes (recorded, also after mreg down): no podman question, its data is its own', async t => {
  const state = runningInstall();
  const rec = parseRecord(state.files[RECORD]!.content, RECORD);
  rec.spec.images = { quay: IMAGES.quayImage, postgres: IMAGES.pgImage, redis: IMAGES.redisImage };
  state.files[RECORD] = { content: serializeRecord(rec), mode: 0o600 };
  state.files[`${data('quay-storage')}/sha256/ab/abcd`] = { content: 'blob', mode: 0o644 };
  const { result, asked } = await upChecks(state);
  t.notOk(result instanceof Error, String(result));
  t.same(asked, [], 'the record names both volumes');
});
