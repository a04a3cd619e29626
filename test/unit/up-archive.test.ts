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
    manager: async () => { throw new Error('no systemd job in the checks'); } },
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

t.test('an image flag naming an image podman has: the archive\'s member is never imported over it; the same member again is kept', async t => {
  const { loadImageArchive } = await import('../../src/apply/image-archive.js');
  const archive = await mirrorRegistryArchive('pg10');
  const sha = await hashTarMember(archive, 'postgres.tar');
  const imported: string[] = [];
  const labels = new Map<string, string | undefined>([['registry.redhat.io/rhel9/postgresql-15:latest', undefined]]);
  const podman = {
    imageExists: async (ref: string) => labels.has(ref),
    imageLabel: async (ref: string) => labels.get(ref),
    importImage: async (_a: string, member: string, name: string, changes: readonly string[]) => {
      imported.push(`${member} ${name} ${changes.at(-1)}`);
      labels.set(name, sha);
    },
  } as never;
  const running = { postgres: 'registry.redhat.io/rhel9/postgresql-15:latest' };
  const err = await loadImageArchive(podman, archive, running).then(() => undefined, (e: unknown) => e);
  t.type(err, UsageError);
  t.match((err as UsageError).message, /^--pgImage registry\.redhat\.io\/rhel9\/postgresql-15:latest: podman already has an image of that name, not .*'s postgres\.tar; mreg does not import over it/);
  t.notOk(imported.some(l => l.startsWith('postgres.tar')), 'the image in use is not replaced');

  imported.length = 0;
  const fresh = { postgres: 'registry.example.com/pg:from-archive' };
  await loadImageArchive(podman, archive, fresh);
  t.ok(imported.includes(`postgres.tar registry.example.com/pg:from-archive LABEL io.mreg.archive-member-sha256=${sha}`), 'a new name: imported, labelled with the member');
  imported.length = 0;
  const again = await loadImageArchive(podman, archive, fresh);
  t.notOk(imported.some(l => l.startsWith('postgres.tar')), 'the same member under the same name: not imported again');
  t.ok(again.lines.includes('postgres.tar: registry.example.com/pg:from-archive (already imported)'));
});
