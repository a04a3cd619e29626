// mreg restore FILE: the registry a backup holds, on this host (after down --purge) or a new one.
// The whole archive is checked first; then the install's files and secrets go back, `up` installs
// and starts it over them, and with quay-app stopped the blobs and the database go back before it
// serves again. Nothing an existing install holds is replaced: restore refuses instead.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HEALTH_TIMEOUT_MS } from '../install-spec/defaults.js';
import { UnitFailedError, UsageError } from '../errors.js';
import { DUMP_MEMBER, planChain, QUAY_ROOT_PREFIX, RESTORE_MEMBERS, SECRETS_MEMBER } from '../backup/manifest.js';
import { restoreDbSnapshot } from '../apply/db-snapshot.js';
import { appCrashWatch } from '../apply/crash-watch.js';
import type { ArchiveSource } from '../actions/ports.js';
import { defaultQuayRoot } from '../model/scope.js';
import { UNITS } from '../model/views.js';
import { quayRootLayout } from '../install-spec/layout.js';
import { parseRecord, serializeRecord } from '../install-spec/record.js';
import { meaningfulEntries, takenDir, takeProblem, type TakenDir } from '../install-spec/taken-dirs.js';
import { executeLocked, readPassphraseFlag, stringFlag } from './common.js';
import { imageArchiveProblem } from '../apply/image-archive.js';
import { loadImageArchive } from '../apply/image-archive.js';
import { parseQuayRootFlag, parseS3FileFlags, parseStorageFlag, parseUpOptions } from '../install-spec/options.js';
import { checkObjectStorage, withS3Inputs } from '../apply/object-storage.js';
import { storageText } from '../model/views.js';
import type { ObjectStorage, QuayStorage, Storage } from '../install-spec/spec.js';
import { up } from './up.js';
import { markerPath, readMarker, restoredRecord } from '../backup/restored.js';
import { planDown } from '../plan/down.js';

/**
 * The blob storage the restored install gets: the backup's, or --quayStorage for a local one. An
 * object-storage install keeps its bucket (its blobs are there, not in the archive), with the key pair
 * and CA files wherever this host keeps them.
 */
function objectStorageOnThisHost(backedUp: QuayStorage, flag: Storage | undefined, files: { credentialsFile?: string; caBundle?: string }): QuayStorage {
  if (backedUp.kind !== 's3') {
    const given = Object.keys(files).map(k => `--s3${k[0]!.toUpperCase()}${k.slice(1)}`);
    if (given.length > 0) throw new UsageError(`${given.join(', ')}: the backed-up install keeps its blobs in ${storageText(backedUp)}, not in object storage`, 'leave it out');
    return flag ?? backedUp;
  }
  if (flag) throw new UsageError(`--quayStorage: the backed-up install keeps its blobs in ${storageText(backedUp)}, and the backup holds none of them`, 'leave it out: the restored registry uses the same bucket');
  return { ...backedUp, ...files };
}

export async function restore(ctx: CommandContext): Promise<void> {
  const { out, flags, args, host } = ctx;
  if (!args[0]) throw new UsageError('mreg restore needs the backup file: mreg restore FILE', 'see: mreg restore --help');
  // A chain: the full backup first, then each incremental one in order; the last is the state restored.
  const archives = args.map(a => resolve(a));
  const archive = archives[archives.length - 1]!;
  const hostname = stringFlag(flags, 'quayHostname', 'restore');
  const probe = await host.probe();
  // The flags first: bad input is one line before the archive is read.
  const env = { scope: probe.scope, fqdn: probe.fqdn, home: probe.home };
  const quayRootFlag = flags.quayRoot !== undefined ? parseQuayRootFlag(flags.quayRoot, env) : undefined;
  const quayStorage = flags.quayStorage !== undefined ? parseStorageFlag('quayStorage', flags.quayStorage, env) : undefined;
  const pgStorage = flags.pgStorage !== undefined ? parseStorageFlag('pgStorage', flags.pgStorage, env) : undefined;
  if (hostname !== undefined) parseUpOptions({ quayHostname: hostname }, env); // up's rules, before anything is read
  const s3Files = parseS3FileFlags({ s3CredentialsFile: stringFlag(flags, 's3CredentialsFile', 'restore'), s3CaBundle: stringFlag(flags, 's3CaBundle', 'restore') }, env);
  const passphraseFile = await readPassphraseFlag(flags, 'restore');
  const imageArchive = stringFlag(flags, 'imageArchive', 'restore');
  const archiveProblem = imageArchive === undefined ? undefined : await imageArchiveProblem(imageArchive);
  if (archiveProblem) throw new UsageError(archiveProblem);
  const sources = new Map<string, ArchiveSource>();
  for (const file of archives) sources.set(file, await host.archive.source(file, passphraseFile));
  const source = (file: string) => sources.get(file)!;
  const chain = [];
  for (const file of archives) chain.push({ file, ...await out.step(`verify ${file}`, () => host.archive.verify(source(file))) });
  const planned = planChain(chain);
  if (Array.isArray(planned)) throw new UsageError(planned, 'give the full backup first, then each incremental one in the order they were made; nothing was changed');
  const verified = chain[chain.length - 1]!;
  const m = verified.manifest;
  const work = await mkdtemp(join(tmpdir(), 'mreg-restore-'));
  try {
    await host.archive.extractSmallMembers(source(archive), work, RESTORE_MEMBERS);
    const backedUp = parseRecord(await readFile(join(work, QUAY_ROOT_PREFIX, 'mreg-install.json'), 'utf8'), `${archive}: ${QUAY_ROOT_PREFIX}mreg-install.json`);
    const quayRoot = quayRootFlag ?? (m.scope === probe.scope ? m.quayRoot : defaultQuayRoot(probe.scope, probe.home));
    // Another host's disks: the storage may go elsewhere (the backup's folders may not exist or be in use here).
    backedUp.spec.quayStorage = objectStorageOnThisHost(backedUp.spec.quayStorage, quayStorage, s3Files);
    backedUp.spec.pgStorage = pgStorage ?? backedUp.spec.pgStorage;
    // An object-storage install's key pair (and CA) must be readable here and open its bucket: checked
    // before anything changes, as up does.
    if (backedUp.spec.quayStorage.kind === 's3') {
      const read = await withS3Inputs(backedUp.spec).catch((err: unknown) => {
        // The path came from the backup, not from a flag: say where else the files may come from.
        if (err instanceof UsageError && s3Files.credentialsFile === undefined && s3Files.caBundle === undefined) {
          throw new UsageError(err.problems, 'the backed-up install read them there; put them there, or give --s3CredentialsFile FILE (and --s3CaBundle FILE); nothing was changed');
        }
        throw err;
      });
      const s3 = read.quayStorage as ObjectStorage; // the keys read once, for the check
      await out.step(`object storage ${storageText(s3)}`, () => checkObjectStorage(s3, false));
    }
    const podman = host.podman();
    const look = host.inspect(probe);

    // A restore of this same backup that was interrupted (kill, power cut) is resumed, not refused:
    // every step below can be run again over what the earlier run did.
    const layout = quayRootLayout(quayRoot);
    const marker = await readMarker(layout.root);
    const resuming = marker?.id === m.id;
    if (resuming) out.info(`mreg: resuming the interrupted restore of this backup into ${quayRoot}`);
    const problems: string[] = [];
    const existing = resuming ? undefined : await host.findRecordedInstall(probe.scope, probe.home) ?? await host.readRecordAt(quayRoot);
    if (existing && !flags.force) {
      const what = existing.record.removedAt ? `an install removed by mreg down whose data was kept` : 'a registry';
      throw new UsageError(`this host already has ${what} at ${existing.layout.root} (${probe.scope}); mreg restore never replaces one`,
        `to replace it and delete its data, add --force (or first: mreg down --purge${existing.layout.root === quayRoot ? '' : ` --quayRoot ${existing.layout.root}`}); or restore on another host`);
    }
    // Images next: a --force must not delete an install for a restore that cannot start.
    if (imageArchive !== undefined) {
      const loaded = await out.step(`load images from ${imageArchive}`, () => loadImageArchive(podman, imageArchive, {}));
      for (const l of loaded.lines) out.info(`    ${l}`);
    }
    // The pod's infra image (adopt keeps mirror-registry's) is no reason to refuse: podman's own serves.
    const infra = backedUp.spec.infraImage;
    const found = await podman.missingImages([m.images.quay, m.images.postgres, m.images.redis, ...(infra === undefined ? [] : [infra])]);
    const missing = found.filter(ref => ref !== infra);
    if (infra !== undefined && found.includes(infra)) {
      out.info(`mreg: the backup's pod ran the infra image ${infra}, which this host lacks: the pod uses podman's own`);
      delete backedUp.spec.infraImage;
    }
    if (missing.length > 0) {
      throw new UsageError(`image not present on this host: ${missing.join(', ')}; the backup's registry ran ${missing.length === 1 ? 'it' : 'them'}`,
        `${imageArchive === undefined ? 'give an' : 'give another'} image archive that holds ${missing.length === 1 ? 'it' : 'them'}: mreg restore -i ARCHIVE ...; nothing was changed`);
    }
    const taken: TakenDir[] = resuming ? marker.taken : [];
    if (!resuming) {
      // Every refusal before the first change.
      if (existing) {
        // The explicit flag: the install there goes first, data and all, as `mreg down --purge --yes` does it.
        const gone = planDown({ record: existing.record, layout: existing.layout, facts: probe, purge: true, quayRootGiven: true });
        out.warn(`--force: replacing the ${probe.scope} registry at ${existing.layout.root}; deleting ${gone.data.join(', ')} and every image in them`);
        await executeLocked(host, probe, gone.actions, { out, unitFailedHint: 'fix the cause and run mreg restore --force again' });
      }
      const checkDir = async (flag: string, path: string, isQuayRoot: boolean) => {
        const state = await look.dirState(path);
        const problem = takeProblem({ flag, path, state, recorded: false, isQuayRoot, home: probe.home })
          ?? (state.kind === 'dir' && meaningfulEntries(state.entries).length > 0 ? `${flag} ${path}: is not empty; restore writes only into a new or empty folder` : undefined);
        if (problem) problems.push(problem);
        const t = takenDir(path, state);
        if (t) taken.push(t);
      };
      await checkDir('--quayRoot', quayRoot, true);
      for (const [name, s] of [['quayStorage', backedUp.spec.quayStorage], ['pgStorage', backedUp.spec.pgStorage]] as const) {
        if (s.kind === 'path') await checkDir(`the backup's ${name}`, s.path, false);
        else if (s.kind === 'volume' && await podman.volumeExists(s.name)) problems.push(`podman volume ${s.name} (the backup's ${name}) exists; restore writes only into a new one: check what it holds, then \`podman volume rm ${s.name}\``);
      }
    }
    if (problems.length > 0) throw new UsageError(problems, 'nothing was changed');

    await out.step(`install files and secrets into ${quayRoot}`, async () => {
      await host.files.makeDir(quayRoot, 0o700);
      await host.files.write(markerPath(quayRoot), `${JSON.stringify({ id: m.id, taken })}\n`, 0o600);
      await host.files.copyInto(join(work, QUAY_ROOT_PREFIX), quayRoot, `copying the install files into ${quayRoot}`);
      await host.files.write(layout.record, serializeRecord(restoredRecord(backedUp, probe.scope, quayRoot, taken, probe.now)), 0o600);
      const secrets = JSON.parse(await readFile(join(work, SECRETS_MEMBER), 'utf8')) as Record<string, string>;
      for (const [name, value] of Object.entries(secrets)) await podman.secretCreate(name, value, { replace: true });
    });

    // up installs over the restored quayRoot (its CA, secrets and first user); the data goes back before the report.
    const upFlags: Record<string, unknown> = { quayRoot, ...(hostname ? { quayHostname: hostname } : {}) };
    await up({ ...ctx, flags: { ...upFlags, verbose: flags.verbose, json: flags.json } }, {
      beforeReport: async ({ systemd, spec, endpoint }) => out.step('restore the blobs and the database', async () => {
        const app = UNITS.app;
        const stopped = await systemd.stopUnit(app);
        if (stopped !== 'done' && stopped !== 'skipped') throw new UnitFailedError(app, stopped, [], 'run the same mreg restore again: it resumes');
        // An object store kept its blobs (a backup of such an install holds none).
        if (spec.quayStorage.kind !== 's3') {
          const root = await look.storagePath(spec.quayStorage, 'the blob storage');
          for (const [file, members] of planned.blobsFrom) await host.archive.extractStorageMembers(source(file), root, members, spec.scope, work);
          await host.archive.extractStorage(source(archive), root, spec.scope);
        }
        await restoreDbSnapshot(podman, { path: join(work, DUMP_MEMBER) });
        const started = await systemd.startUnit(app);
        if (started !== 'done' && started !== 'skipped') throw new UnitFailedError(app, started, [], `see: mreg logs ${app}`);
        await look.waitForHealth(endpoint, HEALTH_TIMEOUT_MS, { intervalMs: 200, giveUp: appCrashWatch(systemd) });
        const inherited = m.inherited?.length ?? 0;
        out.info(`    restored ${verified.files} files${inherited ? ` and ${inherited} blobs from ${chain.length - 1} earlier backup${chain.length > 2 ? 's' : ''}` : ''} from the backup made ${m.createdAt} on ${m.hostname}`);
        await host.files.remove(markerPath(quayRoot));
      }),
    });
  } finally {
    await host.files.remove(work);
  }
}
