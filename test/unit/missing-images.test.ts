// missingImages (src/apply/images.ts) over the real podman port, with a stand-in `podman` first on PATH
// that logs its argv: all images there costs one process; a missing one is named with its flag.
import t from 'tap';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPodman } from '../../src/host/podman.js';
import { missingImages, requireImages } from '../../src/apply/images.js';

function standIn(missing: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-podman-'));
  const log = join(dir, 'calls');
  // `image inspect A B…` fails when any is missing (podman exits 125); `image exists A` exits 1.
  writeFileSync(join(dir, 'podman'), `#!/bin/sh
echo "$*" >> ${log}
miss="${missing.join(' ')}"
shift 2
for a in "$@"; do for m in $miss; do [ "$a" = "$m" ] && exit $([ "$a" = "$1" ] && [ $# = 1 ] && echo 1 || echo 125); done; done
exit 0
`);
  chmodSync(join(dir, 'podman'), 0o755);
  return { dir, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

t.test('all present: one `podman image inspect` of every image, nothing else', async t => {
  const s = standIn([]);
  const old = process.env.PATH;
  t.teardown(() => { process.env.PATH = old; });
  process.env.PATH = `${s.dir}:${old}`;
  const got = await missingImages(createPodman(), { images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' } });
  t.same(got, []);
  t.equal(s.calls().length, 1, 'one podman process');
  t.match(s.calls()[0], /^image inspect --format \{\{\.Id\}\} /);
  for (const ref of ['q:1', 'p:1', 'r:1']) t.ok(s.calls()[0]!.split(' ').includes(ref), `asks for ${ref}`);
});

t.test('one missing: named with its flag, after one `image exists` each', async t => {
  const s = standIn(['p:1']);
  const old = process.env.PATH;
  t.teardown(() => { process.env.PATH = old; });
  process.env.PATH = `${s.dir}:${old}`;
  const got = await missingImages(createPodman(), { images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' } });
  t.same(got, ['--pgImage p:1']);
  t.match(s.calls()[0], /^image inspect /);
  t.equal(s.calls().filter(c => c.startsWith('image exists ')).length, 3);
});

t.test('the pod\'s infra image, when the install names one, is asked for in the same process', async t => {
  const s = standIn(['i:1']);
  const old = process.env.PATH;
  t.teardown(() => { process.env.PATH = old; });
  process.env.PATH = `${s.dir}:${old}`;
  const got = await missingImages(createPodman(), { images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' }, infraImage: 'i:1' });
  t.same(got, ['--infraImage i:1']);
  t.ok(s.calls()[0]!.split(' ').includes('i:1'), 'the first inspect names it');
});

t.test('requireImages: a missing infra image is refused, or with infraOptional reported (adopt drops it)', async t => {
  const s = standIn(['i:1']);
  const old = process.env.PATH;
  t.teardown(() => { process.env.PATH = old; });
  process.env.PATH = `${s.dir}:${old}`;
  const spec = { images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' }, infraImage: 'i:1' };
  await t.rejects(requireImages(createPodman(), spec, 'load it'), { message: 'image not present on this host: --infraImage i:1' });
  t.equal(await requireImages(createPodman(), spec, 'load it', { infraOptional: true }), false);
  t.equal(await requireImages(createPodman(), { ...spec, infraImage: undefined }, 'load it', { infraOptional: true }), true, 'none named: nothing missing');
  const s2 = standIn(['q:1', 'i:1']);
  process.env.PATH = `${s2.dir}:${old}`;
  await t.rejects(requireImages(createPodman(), spec, 'load it', { infraOptional: true }), { message: 'image not present on this host: --quayImage q:1' },
    'the others are still refused, the infra image not named among them');
});
