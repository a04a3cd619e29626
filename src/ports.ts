// The real ports, built once per run by main.ts (the one place that wires host/ to the commands).
import type { ActionPorts, ArchivePorts, FilePorts, HostPorts, InspectPorts } from './actions/ports.js';
import { readHealthCas } from './apply/health-ca.js';
import { findInstall, findRecordedInstall, readRecordAt } from './apply/install-lookup.js';
import { bucketProblem } from './apply/object-storage.js';
import type { Output } from './ui/output.js';
import { readDirState } from './host/dir-state.js';
import { runChecked } from './host/exec.js';
import { diskFreeBytes, gatherFacts, hostFqdn, identify, isPortFree, resolveHostname, type Identity } from './host/facts.js';
import { ensureMode, makeDirIfMissing, pathExists, readIfExists, removeIfExists, writeFileAtomic } from './host/fs.js';
import { httpsRequest, probeHealth, waitForHealth } from './host/http.js';
import { journalTail } from './host/journal.js';
import { lockScope } from './host/lock.js';
import { showJournal } from './host/journal-show.js';
import { disableLinger, enableLinger } from './host/linger.js';
import { createPodman, type Podman } from './host/podman.js';
import { servedFingerprint } from './host/served-cert.js';
import { checkPrivateModes, giveBackDir, knownVolumeMountpoints, prepareBindDir, removeTree, storageHostPath, storageSpace } from './host/storage.js';
import { connectSystemd, type Systemd } from './host/systemd.js';
import { showUnits } from './host/unit-show.js';

/** Nothing is opened until actionPorts(); the caller must await close() in a finally. */
export function createHostPorts(opts: { env: NodeJS.ProcessEnv; out: Output }): HostPorts {
  // One connection per run, however many callers ask at once; a failed connect is tried again by the next.
  let connecting: Promise<Systemd> | undefined;
  const connect = (who: Identity) => (connecting ??= connectSystemd(who.scope, opts.env).catch((err: unknown) => {
    connecting = undefined;
    throw err;
  }));
  let podman: Podman | undefined;
  const files: FilePorts = {
    remove: removeIfExists, read: readIfExists, write: writeFileAtomic, makeDir: makeDirIfMissing, exists: pathExists,
    // `DIR/.`: the folder's contents, dotfiles included, not the folder itself.
    copyInto: async (fromDir, intoDir, what) => { await runChecked('cp', ['-a', '--', `${fromDir.endsWith('/') ? fromDir : `${fromDir}/`}.`, `${intoDir}/`], { what }); },
    ensureMode: async (path, mode) => { await ensureMode(path, mode); },
  };
  // Loaded on first use: every command loads this file, only backup and restore read archives (issue 19).
  const tar = () => import('./host/backup-tar.js');
  const verify = () => import('./backup/verify.js');
  const archive: ArchivePorts = {
    source: async (file, passphrase) => (await verify()).archiveSource(file, passphrase),
    verify: async src => (await verify()).verifyArchive(src),
    readMemberText: async (src, member) => (await tar()).readMemberText(src, member),
    captureStorage: async (...a) => (await import('./backup/capture.js')).captureStorage(...a),
    create: async (a, scope) => (await tar()).createArchive(a, scope),
    removeStaging: removeTree,
    extractSmallMembers: async (...a) => (await tar()).extractSmallMembers(...a),
    extractStorage: async (...a) => (await tar()).extractStorage(...a),
    extractStorageMembers: async (...a) => (await tar()).extractStorageMembers(...a),
  };
  const inspect = (who: Identity): InspectPorts => ({
    unitStates: units => showUnits(who, units, opts.env),
    health: async (ep, tls, layout, o) => probeHealth({ ...ep, ca: await readHealthCas(tls, layout) }, o),
    readFile: readIfExists,
    exists: files.exists,
    storagePath: storageHostPath,
    privateModes: paths => checkPrivateModes(paths, who.uid),
    volumeMountpoints: knownVolumeMountpoints,
    space: storageSpace,
    diskFree: diskFreeBytes,
    portFree: port => isPortFree(port),
    resolves: async hostname => (await resolveHostname(hostname)).length > 0,
    bucketProblem,
    waitForHealth,
    servedFingerprint,
    dirState: readDirState,
    // Loaded on first use, as the archive port: only up, upgrade and adopt check PostgreSQL data (issue 19).
    assertPgMajorCompatible: async (storage, image, verified, mountpoints) =>
      (await import('./host/pg-data.js')).assertPgMajorCompatible(storage, image, who.scope, verified, mountpoints),
  });
  return {
    probe: o => gatherFacts({ env: opts.env, fqdn: o?.fqdn }),
    identify: () => ({ ...identify({ env: opts.env }), now: new Date() }),
    findInstall,
    findRecordedInstall,
    readRecordAt,
    lock: lockScope,
    inspect,
    files,
    archive,
    showJournal: (who, unit, lines, follow) => showJournal(unit, who.scope, lines, follow),
    hostFqdn,
    enableLinger,
    prepareBindDir,
    httpsRequest,
    podman: () => (podman ??= createPodman({ verbose: opts.out.verbose, log: opts.out.debug })),
    async actionPorts(who: Identity): Promise<ActionPorts> {
      const systemd = await connect(who);
      return {
        systemd,
        podman: (podman ??= createPodman({ verbose: opts.out.verbose, log: opts.out.debug })),
        files,
        disableLinger,
        giveBackDir: (dir, only, spare) => giveBackDir(dir, who.scope, who, only, spare),
        journalTail: unit => journalTail(unit, who.scope),
        removeTree: path => removeTree(path, who.scope),
      };
    },
    async close() {
      const c = connecting;
      connecting = undefined;
      await (await c?.catch(() => undefined))?.close();
    },
  };
}
