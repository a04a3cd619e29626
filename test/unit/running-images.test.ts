// plan/running-images.ts: a re-run of up skips podman's image check only when the install's units show
// the images are here (issue 19); every other case still asks podman.
import t from 'tap';
import { imagesShownRunning, runningUnitFiles, type RunningUnit } from '../../src/plan/running-images.js';
import { RECORD_SCHEMA_VERSION, type InstallRecord } from '../../src/install-spec/record.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';

const DIR = '/etc/containers/systemd';
const images = { quay: 'q:1', postgres: 'p:15', redis: 'r:7' };
const spec: Pick<InstallSpec, 'images' | 'infraImage'> = { images };
const files = ['quay.pod', 'quay-app.container', 'quay-postgres.container', 'quay-redis.container'].map(f => `${DIR}/${f}`);
const record: InstallRecord = {
  schemaVersion: RECORD_SCHEMA_VERSION, mregVersion: '0', createdAt: 'x', updatedAt: 'x',
  spec: {
    scope: 'rootful', hostname: 'h', port: 8443, quayRoot: '/q', quayStorage: { kind: 'volume', name: 'quay-storage' },
    pgStorage: { kind: 'volume', name: 'pg-storage' }, tls: { kind: 'generate' }, initUser: 'init', images,
  },
  files: [...files, '/q/quay-config/config.yaml'], secrets: [], volumes: [], lingerEnabledByMreg: false,
};
const unit = (file: string, over: Partial<RunningUnit> = {}): RunningUnit => ({
  name: file, activeState: 'active', needDaemonReload: false, fragmentPath: `/run/systemd/generator/${file}`, sourcePath: file, ...over,
});
const running = files.map(f => unit(f));

t.test('the four units active from the recorded files, with the recorded images: no podman call needed', async t => {
  t.equal(imagesShownRunning(record, spec, running), true);
  t.same(runningUnitFiles(running), files);
  // podman 4.x: the pod is a plain unit, its file is the fragment.
  const plainPod = [unit('', { fragmentPath: '/etc/systemd/system/quay-pod.service' }), ...running.slice(1)];
  t.equal(imagesShownRunning({ ...record, files: [...record.files, '/etc/systemd/system/quay-pod.service'] }, spec, plainPod), true);
  t.same(runningUnitFiles(plainPod)[0], '/etc/systemd/system/quay-pod.service');
});

t.test('podman is asked whenever the units do not show it', async t => {
  t.equal(imagesShownRunning(undefined, spec, running), false, 'a new install');
  t.equal(imagesShownRunning({ ...record, removedAt: 'x' }, spec, running), false, 'after mreg down');
  for (const key of ['quay', 'postgres', 'redis'] as const) {
    t.equal(imagesShownRunning(record, { images: { ...images, [key]: 'other:1' } }, running), false, `a new ${key} image`);
  }
  t.equal(imagesShownRunning(record, { images, infraImage: 'pause:1' }, running), false, 'a new infra image');
  for (const [i, over] of [{ activeState: 'failed' }, { activeState: 'activating' }, { needDaemonReload: true }, { sourcePath: '/etc/containers/systemd/other.container' }].entries()) {
    const units = running.map((u, j) => (j === i ? { ...u, ...over } : u));
    t.equal(imagesShownRunning(record, spec, units), false, `one unit ${JSON.stringify(over)}`);
  }
  t.equal(imagesShownRunning(record, spec, [...running.slice(1), undefined]), false, 'a unit systemd did not answer for');
  t.equal(imagesShownRunning(record, spec, []), false, 'no unit at all');
});
