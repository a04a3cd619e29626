// `mreg up --image-archive` on a running install: mirror-registry's archive names its images only as it
// is loaded, after up compared the flags' images with the record, so up checks the loaded names against
// the ones the install runs: other images are upgrade's switch (a database snapshot, a rollback).
import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { importedName } from '../../src/apply/image-archive.js';
import { UsageError } from '../../src/errors.js';
import { givenImages } from '../../src/install-spec/flags.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { parseRecord, serializeRecord } from '../../src/install-spec/record.js';
import type { Images } from '../../src/install-spec/spec.js';
import { hashTarMember } from '../../src/host/tar.js';
import { checkUp } from '../../src/up/checks.js';
import { rawUpFlags } from '../../src/up/flags.js';
import { checkHost } from '../../src/up/host-checks.js';
import { createFakeHost, fakeContext } from '../support/fake-host.js';
import { probe, ROOT, runningInstall } from '../support/running-install.js';

const RECORD = `${ROOT}/mreg-install.json`;
const RUNNING: Images = { quay: 'registry.example.com/quay/quay:v1', postgres: 'registry.example.com/pg:10', redis: 'registry.example.com/redis:6' };

/** A mirror-registry image-archive.tar whose members' content depends on `tag`. */
async function mirrorRegistryArchive(tag: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mreg-up-archive-'));
  const members = ['quay.tar', 'redis.tar', 'postgres.tar'];
  for (const m of members) {
    await writeFile(join(d, `${m}.rootfs`), `root filesystem of ${m}, ${tag}\n`);
    await execa('tar', ['-cf', join(d, m), '-C', d, `${m}.rootfs`]);
  }
  await execa('tar', ['-cf', join(d, 'image-archive.tar'), '-C', d, ...members]);
  return join(d, 'image-archive.tar');
}

/** up's checks on the running install (recorded with `images`), given `--image-archive archive`. */
async function upChecks(images: Images, archive: string) {
  const state = runningInstall();
  const rec = parseRecord(state.files[RECORD]!.content, RECORD);
  rec.spec.images = images;
  rec.pgData = { imageId: 'pg-image-id', major: '10' };
  state.files[RECORD] = { content: serializeRecord(rec), mode: 0o600 };
  const host = createFakeHost({ probe, state, quadletDryRun: { ok: true, output: '', units: {} } });
  const pgChecks: string[] = [];
  const look = { ...host.inspect(probe), resolves: async () => true, portFree: async () => true,
    assertPgMajorCompatible: async (_s: unknown, image: string) => { pgChecks.push(image); return rec.pgData!; } };
  const flags = { imageArchive: archive };
  const checked = await checkUp({ host, look }, rawUpFlags(flags), probe, async () => 'registry.example.com');
  const imported: string[] = [];
  const podman = { ...host.podman(), imageExists: async () => false, missingImages: async () => [],
    importImage: async (_a: string, member: string, name: string) => void imported.push(`${member} ${name}`) };
  const c = fakeContext(host, flags);
  const result = await checkHost({ out: c.ctx.out, did: () => undefined, host: { ...host, inspect: () => look } as never, look: look as never,
    podman: podman as never, probe, target: probe, layout: quayRootLayout(ROOT), spec: checked.spec, previous: checked.previous,
    connect: async () => { throw new Error('no systemd job in the checks'); } },
  { givenImages: givenImages(flags, 'up'), createBucket: false }).then(r => r, (e: unknown) => e);
  return { result, imported, pgChecks, stderr: c.stderr };
}

t.test('an archive of other images on a running install: refused, naming upgrade; no PostgreSQL image of theirs is judged', async t => {
  const archive = await mirrorRegistryArchive('new');
  const { result, imported, pgChecks } = await upChecks(RUNNING, archive);
  t.type(result, UsageError);
  const err = result as UsageError;
  t.match(err.message, new RegExp(`^--image-archive ${archive}: holds other images than this install runs \\(quay: ${RUNNING.quay} → localhost/mirror-registry/quay:`));
  t.match(err.message, /switch images with `mreg upgrade --image-archive .*`, which rolls back/);
  t.match(err.hint, /^nothing was changed but the archive's images/);
  t.equal(imported.length, 3, 'the archive was loaded (its names are known only then)');
  t.same(pgChecks, [], 'the refusal comes before the data check');
});

t.test('the archive the install runs, given again: a repair, nothing switched', async t => {
  const archive = await mirrorRegistryArchive('same');
  const names = {
    quay: importedName('quay', await hashTarMember(archive, 'quay.tar')),
    postgres: importedName('postgres', await hashTarMember(archive, 'postgres.tar')),
    redis: importedName('redis', await hashTarMember(archive, 'redis.tar')),
  };
  const { result, pgChecks } = await upChecks(names, archive);
  t.notOk(result instanceof Error, `no error: ${String(result)}`);
  t.same((result as { spec: { images: Images } }).spec.images, names, 'the recorded images');
  t.same(pgChecks, [], 'the install already runs that PostgreSQL image: no data check');
});

t.test('an image flag naming an image podman has: the archive\'s member is never imported over it, the image is used as it is', async t => {
  const { loadImageArchive } = await import('../../src/apply/image-archive.js');
  const archive = await mirrorRegistryArchive('pg10');
  const imported: string[] = [];
  const present = new Set(['registry.redhat.io/rhel9/postgresql-15:latest']);
  const podman = {
    imageExists: async (ref: string) => present.has(ref),
    importImage: async (_a: string, member: string, name: string) => { imported.push(`${member} ${name}`); present.add(name); },
  } as never;
  const running = { postgres: 'registry.redhat.io/rhel9/postgresql-15:latest' };
  const r = await loadImageArchive(podman, archive, running);
  t.notOk(imported.some(l => l.startsWith('postgres.tar')), 'the image in use is not replaced');
  t.ok(r.lines.includes('postgres.tar: not imported; --pgImage registry.redhat.io/rhel9/postgresql-15:latest is used as podman has it'));
  t.notOk('postgres' in r.images, 'the spec keeps the flag\'s image');
  t.ok(imported.some(l => l.startsWith('quay.tar localhost/mirror-registry/quay:')), 'the other members are imported');
});
