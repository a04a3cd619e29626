// podman's secrets from its own files (src/host/secret-store.ts), and the podman port's storedSecrets over
// a stand-in `podman` first on PATH: a confirmed folder costs no podman process; anything it cannot read
// whole (a missing name, another driver, a half-written file) falls back to `podman secret inspect`.
// The files are laid out as containers/common pkg/secrets writes them (secretsdb.go, filedriver.go);
// the VM suite (mreg.test.ts, podman49.test.ts) checks the same reader against real podman 5.4 and 4.9.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { learnSecretStore, readSecretStore } from '../../src/host/secret-store.js';
import { createPodman } from '../../src/host/podman.js';

const values: Record<string, string> = { 'quay-a': 'value a', 'quay-b': 'välue b\n' };

/** GRAPHROOT/secrets as podman leaves it after creating `values` with the file driver. */
function store(opts: { driver?: string; data?: string } = {}) {
  const graph = mkdtempSync(join(tmpdir(), 'mreg-graph-'));
  const dir = join(graph, 'secrets');
  const folder = join(dir, 'filedriver');
  mkdirSync(folder, { recursive: true });
  const names = Object.keys(values);
  const id = (n: string) => `${'0'.repeat(20)}${n.replace(/\W/g, '')}`;
  const db = {
    secrets: Object.fromEntries(names.map(n => [id(n), { name: n, id: id(n), driver: opts.driver ?? 'file', driverOptions: { path: folder } }])),
    nameToID: Object.fromEntries(names.map(n => [n, id(n)])),
    idToName: Object.fromEntries(names.map(n => [id(n), n])),
  };
  writeFileSync(join(dir, 'secrets.json'), JSON.stringify(db));
  const data = Object.fromEntries(names.map(n => [id(n), Buffer.from(values[n]!).toString('base64')]));
  writeFileSync(join(folder, 'secretsdata.json'), opts.data ?? JSON.stringify(data, null, 2));
  const inspected = names.map(n => ({ ID: id(n), Spec: { Name: n, Driver: { Name: opts.driver ?? 'file', Options: { path: folder } } }, SecretData: values[n] }));
  return { dir, folder, inspected };
}

t.test('readSecretStore: every value from the files, bytes as podman stored them', async t => {
  const s = store();
  t.same(Object.fromEntries((await readSecretStore(s.dir, ['quay-a', 'quay-b']))!), values);
});

t.test('readSecretStore: cannot tell (undefined) unless every name reads whole', async t => {
  const s = store();
  t.equal(await readSecretStore(s.dir, ['quay-a', 'quay-gone']), undefined, 'a removed secret');
  t.equal(await readSecretStore(store({ driver: 'pass' }).dir, ['quay-a']), undefined, 'another driver');
  t.equal(await readSecretStore(store({ data: '' }).dir, ['quay-a']), undefined, 'a data file caught mid-write');
  t.equal(await readSecretStore(store({ data: '{}' }).dir, ['quay-a']), undefined, 'an ID without data');
  t.equal(await readSecretStore(join(s.dir, 'nowhere'), ['quay-a']), undefined, 'no store there');
});

t.test('learnSecretStore: the folder only when its files give what podman printed', async t => {
  const s = store();
  const printed = new Map(Object.entries(values));
  t.equal(await learnSecretStore(s.inspected, printed), s.dir);
  t.equal(await learnSecretStore(s.inspected, new Map([...printed, ['quay-b', 'other']])), undefined, 'files disagree with podman');
  t.equal(await learnSecretStore(s.inspected.map(i => ({ ...i, Spec: { ...i.Spec, Driver: { Name: 'file', Options: { path: '/srv/vault' } } } })), printed),
    undefined, 'a driver path set in containers.conf: not under the secrets folder');
  t.equal(await learnSecretStore([], new Map()), undefined, 'nothing stored yet');
  t.equal(await learnSecretStore(s.inspected.slice(0, 1), printed), undefined, 'podman printed fewer than it was asked');
});

/** A stand-in `podman secret inspect` printing `inspected`, logging its argv. */
function standIn(inspected: unknown[]) {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-podman-'));
  const log = join(dir, 'calls');
  writeFileSync(join(dir, 'out.json'), JSON.stringify(inspected));
  writeFileSync(join(dir, 'podman'), `#!/bin/sh\necho "$*" >> ${log}\ncat ${join(dir, 'out.json')}\n`);
  chmodSync(join(dir, 'podman'), 0o755);
  return { dir, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

t.test('storedSecrets: a confirmed folder answers without a podman process; otherwise podman does, and the folder is learnt', async t => {
  const s = store();
  const p = standIn(s.inspected);
  const old = process.env.PATH;
  t.teardown(() => { process.env.PATH = old; });
  process.env.PATH = `${p.dir}:${old}`;
  const names = Object.keys(values);

  const first = await createPodman().storedSecrets(names, undefined);
  t.same(Object.fromEntries(first.values), values);
  t.equal(first.store, s.dir, 'learnt from podman\'s answer');
  t.same(p.calls(), ['secret inspect --showsecret quay-a quay-b']);

  const again = await createPodman().storedSecrets(names, first.store);
  t.same(Object.fromEntries(again.values), values);
  t.equal(again.store, s.dir);
  t.equal(p.calls().length, 1, 'no second podman process');

  const removed = await createPodman().storedSecrets([...names, 'quay-c'], first.store);
  t.equal(p.calls().length, 2, 'a name the files lack: podman is asked');
  t.same(Object.fromEntries(removed.values), values, 'the ones it holds');
  t.equal(removed.store, s.dir, 'the folder still confirmed by those it holds');
});
