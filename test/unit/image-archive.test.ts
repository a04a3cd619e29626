// --image-archive: mirror-registry's image-archive.tar (a tar of root filesystem tars, no manifest) is told
// from a `podman save` archive, and its members get the image config mirror-registry's installer gives them.
import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { archiveKind, IMPORT_CHANGES, importedName, loadArchiveStep, loadImageArchive } from '../../src/apply/image-archive.js';
import type { InstallSpec } from '../../src/install-spec/spec.js';
import { createOutput } from '../../src/ui/output.js';
import { hashTarMember, listTar } from '../../src/host/tar.js';
import type { Podman } from '../../src/host/podman.js';

t.test('the layout decides, not the file name', async t => {
  t.same(archiveKind(['quay.tar', 'redis.tar', 'postgres.tar', 'pause.tar']), { kind: 'mirror-registry', members: ['quay', 'redis', 'postgres'] }, 'mirror-registry 1.3.x');
  t.same(archiveKind(['quay.tar', 'redis.tar', 'pause.tar']), { kind: 'mirror-registry', members: ['quay', 'redis'] }, 'mirror-registry 2.x: no postgres');
  t.same(archiveKind(['manifest.json', 'repositories', 'abc/layer.tar']), { kind: 'podman-save' }, 'docker-archive');
  t.same(archiveKind(['oci-layout', 'index.json', 'blobs/sha256/ab']), { kind: 'podman-save' }, 'oci-archive');
  t.same(archiveKind(['manifest.json', 'quay.tar']), { kind: 'podman-save' }, 'a manifest wins');
});

t.test('the config each member gets (quay/mirror-registry v2.0.11 cmd/utils.go getImageMetadata)', async t => {
  const q = IMPORT_CHANGES.quay;
  t.ok(q.includes('ENTRYPOINT ["dumb-init","--","/quay-registry/quay-entrypoint.sh"]'));
  t.ok(q.includes('CMD ["registry"]') && q.includes('USER 1001') && q.includes('WORKDIR /quay-registry'));
  const path = q.find(c => c.startsWith('ENV PATH='))!;
  t.match(path, /\/opt\/app-root\/bin:/, 'dumb-init of Quay 3.12.14+');
  t.match(path, /\/app\/bin\/:/, 'dumb-init of older Quay');
  t.ok(IMPORT_CHANGES.redis.includes('ENTRYPOINT ["container-entrypoint"]') && IMPORT_CHANGES.redis.includes('CMD ["run-redis"]') && IMPORT_CHANGES.redis.includes('USER 1001'));
  t.ok(IMPORT_CHANGES.postgres.includes('CMD ["run-postgresql"]') && IMPORT_CHANGES.postgres.includes('USER 26'));
  t.equal(importedName('quay', 'ab'.repeat(32)), 'localhost/mirror-registry/quay:abababababab');
});

async function mirrorRegistryArchive(members: string[]): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mreg-mr-'));
  for (const m of members) {
    await writeFile(join(d, `${m}.rootfs`), `root filesystem of ${m}\n`);
    await execa('tar', ['-cf', join(d, m), '-C', d, `${m}.rootfs`]);
  }
  await execa('tar', ['-cf', join(d, 'image-archive.tar'), '-C', d, ...members]);
  return join(d, 'image-archive.tar');
}

function fakePodman(present: Set<string>): { podman: Podman; imported: string[]; loaded: string[] } {
  const imported: string[] = [];
  const loaded: string[] = [];
  const podman = {
    imageExists: async (ref: string) => present.has(ref),
    importImage: async (_a: string, member: string, name: string) => { imported.push(`${member} ${name}`); present.add(name); },
    load: async (a: string) => { loaded.push(a); return []; },
  } as unknown as Podman;
  return { podman, imported, loaded };
}

t.test('mirror-registry 2.x archive: named by content unless a flag names it; a re-run imports nothing', async t => {
  const archive = await mirrorRegistryArchive(['quay.tar', 'redis.tar', 'pause.tar']);
  t.same(await listTar(archive), ['quay.tar', 'redis.tar', 'pause.tar']);
  const quaySum = await hashTarMember(archive, 'quay.tar');
  t.match(quaySum, /^[0-9a-f]{64}$/);
  const fake = fakePodman(new Set());
  const first = await loadImageArchive(fake.podman, archive, { redis: 'registry.redhat.io/rhel8/redis-6:1-1766406130' });
  t.same(first.images, { quay: importedName('quay', quaySum) }, 'only the unnamed member replaces the spec image');
  t.same(fake.imported, [`quay.tar ${importedName('quay', quaySum)}`, 'redis.tar registry.redhat.io/rhel8/redis-6:1-1766406130'], 'pause.tar skipped, no postgres in 2.x');
  t.same(fake.loaded, [], 'not podman load');
  const again = await loadImageArchive(fake.podman, archive, {});
  t.equal(fake.imported.length, 3, 'redis imported once more under its content name, quay not at all');
  t.match(again.lines[0], /already imported/);
});

t.test('a podman save archive is loaded as it is', async t => {
  const d = await mkdtemp(join(tmpdir(), 'mreg-save-'));
  await writeFile(join(d, 'manifest.json'), '[]');
  await execa('tar', ['-cf', join(d, 'a.tar'), '-C', d, 'manifest.json']);
  const fake = fakePodman(new Set());
  const r = await loadImageArchive(fake.podman, join(d, 'a.tar'), {});
  t.same(fake.loaded, [join(d, 'a.tar')]);
  t.same(r.images, {});
  const stdin = await loadImageArchive(fake.podman, '-', {});
  t.equal(stdin.kind, 'podman-save', 'stdin (from -H) is podman load');
});

t.test('loadArchiveStep, up\'s and upgrade\'s one load step: a line per member, and the spec names what the archive brought', async t => {
  const archive = await mirrorRegistryArchive(['quay.tar', 'redis.tar', 'postgres.tar', 'pause.tar']);
  const quay = importedName('quay', await hashTarMember(archive, 'quay.tar'));
  const postgres = importedName('postgres', await hashTarMember(archive, 'postgres.tar'));
  const lines: string[] = [];
  const out = createOutput({ color: false, stderr: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
  const spec = { hostname: 'registry.example.com', images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' } } as InstallSpec;
  const fake = fakePodman(new Set([postgres]));
  const loaded = await loadArchiveStep(out, fake.podman, spec, archive, { redis: 'r:2' });
  t.same(loaded.images, { quay, postgres, redis: 'r:1' }, 'the members no flag named replace the spec\'s images; a named one keeps the flag\'s (already in the spec)');
  t.equal(loaded.hostname, spec.hostname, 'the rest of the spec as it was');
  t.same(spec.images, { quay: 'q:1', postgres: 'p:1', redis: 'r:1' }, 'the given spec is not changed');
  const text = lines.join('').replace(/ \(\d+\.\d+s\)$/gm, '');
  t.equal(text, [
    `==> load images from ${archive}`,
    `    ok load images from ${archive}`,
    `    quay.tar: imported as ${quay}`,
    '    redis.tar: imported as r:2',
    `    postgres.tar: ${postgres} (already imported)`,
    '',
  ].join('\n'), 'the step, then a line per member');
  t.same(fake.imported, [`quay.tar ${quay}`, 'redis.tar r:2']);
});

t.test('a dry run names the images a mirror-registry archive brings without loading it, as the run names them', async t => {
  const { archiveImagesUnloaded } = await import('../../src/apply/image-archive.js');
  const archive = await mirrorRegistryArchive(['quay.tar', 'redis.tar', 'pause.tar']);
  const spec = { images: { quay: 'q:1', postgres: 'p:1', redis: 'r:1' } } as never;
  const given = { redis: 'registry.example.com/redis:from-flag' };
  const unloaded = await archiveImagesUnloaded(spec, archive, given);
  const fake = fakePodman(new Set());
  const loaded = await loadImageArchive(fake.podman, archive, given);
  t.same((unloaded as { images: object }).images, { quay: loaded.images.quay, postgres: 'p:1', redis: 'r:1' }, 'the content names the run gives; flag-named members as the flags say');
  t.same(fake.imported.length, 2, 'only the run imported');
});
