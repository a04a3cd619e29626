import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPodman } from '../../src/host/podman.js';
import { cachedPodmanVersion, findOnPath, versionCacheFile } from '../../src/host/podman-version.js';
import { fakePodman } from '../support/fake-podman.js';

const dir = mkdtempSync(join(tmpdir(), 'mreg-podman-version-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const fake = fakePodman(t, dir, 'echo "podman version 5.4.2"');
const cache = join(dir, 'run/mreg-podman-version.json');
const asked = () => fake.calls().filter(c => c === '--version').length;

t.test('asked once per binary; a replaced binary is asked again', async t => {
  t.same(await cachedPodmanVersion(createPodman(), join(dir, 'missing/cache.json')), [5, 4, 2], 'no cache folder: asked, no error');
  t.equal(asked(), 1);
  mkdirSync(join(dir, 'run'));
  t.same(await cachedPodmanVersion(createPodman(), cache), [5, 4, 2], 'asked and kept');
  t.same(await cachedPodmanVersion(createPodman(), cache), [5, 4, 2], 'from the cache');
  t.equal(asked(), 2, 'the second run started no podman');
  // The host moves to another podman (a package upgrade writes a new file over the old path).
  const bin = join(dir, 'bin/podman');
  writeFileSync(`${bin}.new`, `#!/bin/sh\necho "$*" >> ${join(dir, 'calls')}\necho "podman version 4.9.4"\n`);
  chmodSync(`${bin}.new`, 0o755);
  renameSync(`${bin}.new`, bin);
  t.same(await cachedPodmanVersion(createPodman(), cache), [4, 9, 4], 'the new binary is asked');
  t.equal(asked(), 3);
  writeFileSync(cache, '{"id": 1, "version": "garbage"');
  t.same(await cachedPodmanVersion(createPodman(), cache), [4, 9, 4], 'an unreadable cache is asked past');
  t.equal(asked(), 4);
});

t.test('no podman on PATH: the port says so, nothing is kept', async t => {
  const old = process.env.PATH;
  process.env.PATH = join(dir, 'empty');
  t.teardown(() => { process.env.PATH = old; });
  t.equal(await findOnPath('podman'), undefined);
  t.equal(await cachedPodmanVersion({ version: async () => undefined }, join(dir, 'run/none.json')), undefined);
});

t.test('root keeps it in /run, a user in the runtime folder', async t => {
  t.equal(versionCacheFile(0, '/run/user/0'), '/run/mreg-podman-version.json');
  t.equal(versionCacheFile(1000, '/run/user/1000'), '/run/user/1000/mreg-podman-version.json');
});
