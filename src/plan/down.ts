// mreg down as a plan (pure): stop the units, remove exactly what the install record lists, and with
// --purge give back the data; without it keep secrets, the trusted CA and data, and mark the record removed.
import { action, type Action } from '../actions/action.js';
import { COMPONENTS } from '../model/components.js';
import { pointerPath } from '../model/scope.js';
import { CONTAINER_STOP_IDS, STOP_ORDER, STORAGE_MOUNTS, storageText } from '../model/views.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { Scope } from '../install-spec/spec.js';
import { systemFolderProblem, type TakenDir } from '../install-spec/taken-dirs.js';

export interface DownInput {
  record: InstallRecord;
  layout: { root: string; record: string };
  facts: { scope: Scope; home: string; user: string; uid: number; now: Date };
  /** What the scope's pointer file names, if it exists: --purge removes it only when it names this quayRoot. */
  pointer?: string;
  purge: boolean;
  /** --quayRoot was given: the delete hint repeats it. */
  quayRootGiven: boolean;
  /**
   * The marker of an adopt of this install killed after its record was written (apply/adopt-marker.ts), and
   * mirror-registry's podman secrets it names: what that adopt had left to do, done here.
   */
  adopted?: { marker: string; legacySecrets: readonly string[] };
}

export interface DownPlan {
  actions: Action[];
  /** quayRoot and each storage, as the user names them: what --purge deletes, else what stays. */
  data: string[];
  report: { text: string; json: { removed: true; purged: boolean; kept: string[] } };
}

export function planDown({ record, layout, facts, purge, quayRootGiven, pointer, adopted }: DownInput): DownPlan {
  const storages = [record.spec.quayStorage, record.spec.pgStorage, ...(record.migratedFrom ? [record.migratedFrom] : [])];
  const data = [layout.root, ...storages.map(storageText)];
  if (record.removedAt && !purge) {
    return { actions: [], data, report: { text: `mreg: the registry was already removed on ${record.removedAt}; data kept: ${data.join(', ')}`, json: { removed: true, purged: false, kept: data } } };
  }
  // Without --purge, what lets `mreg up` bring back the same registry stays: secrets, and the CA a
  // `mreg cert trust` installed for clients here (the CA itself is kept in quayRoot).
  const outside = record.files.filter(f => !f.startsWith(`${layout.root}/`));
  const removeFiles = purge ? outside : outside.filter(f => !isTrustFile(f));
  const keptFiles = outside.filter(f => !removeFiles.includes(f));
  const removing = purge ? 'remove units and secrets' : 'remove units';
  const actions: Action[] = [
    ...[...STOP_ORDER, ...record.volumes.map(v => `${v}-volume.service`)].map(unit => action({ kind: 'stop-unit', unit }, 'stop units')),
    ...removeFiles.map(path => action({ kind: 'remove-file', path }, removing)),
    action({ kind: 'daemon-reload' }, removing),
    // The units' stop commands remove containers and the pod; these catch leftovers of a crash.
    ...CONTAINER_STOP_IDS.map(id => action({ kind: 'remove-container', name: COMPONENTS[id].podmanName, unit: COMPONENTS[id].service }, removing)),
    action({ kind: 'remove-pod', name: COMPONENTS.pod.podmanName, unit: COMPONENTS.pod.service }, removing),
    ...(purge ? record.secrets.map(name => action({ kind: 'remove-secret', name }, removing))
      : [action({ kind: 'keep', what: `podman secrets ${record.secrets.join(', ')}` }, removing)]),
    ...keptFiles.map(f => action({ kind: 'keep', what: f }, removing)),
    ...(adopted ? [...adopted.legacySecrets.map(name => action({ kind: 'remove-secret', name }, 'finish the interrupted adopt')),
      action({ kind: 'remove-file', path: adopted.marker }, 'finish the interrupted adopt')] : []),
    ...(record.lingerEnabledByMreg ? [action({ kind: 'disable-linger', uid: facts.uid, user: facts.user }, 'disable linger (mreg enabled it)')] : []),
    ...(purge ? purgeData(record, layout.root, facts, pointer) : [
      action({ kind: 'keep', what: data.join(', ') }),
      // Kept, marked removed: `mreg down --purge` can still find the data, `mreg up` can reuse it.
      action({ kind: 'write-record', path: layout.record, record: { ...record, lingerEnabledByMreg: false, removedAt: facts.now.toISOString() } }),
    ]),
  ];
  const bucket = record.spec.quayStorage.kind === 's3' ? storageText(record.spec.quayStorage) : undefined;
  const kept = purge ? (bucket ? `all local data deleted; the blobs stay in ${bucket}` : 'all data deleted')
    : `data kept: ${data.join(', ')} (delete with: mreg down --purge --yes${quayRootGiven ? ` --quayRoot ${layout.root}` : ''})`;
  return { actions, data, report: { text: `mreg: registry removed; ${kept}`, json: { removed: true, purged: purge, kept: purge ? [] : data } } };
}

/** A CA file `mreg cert trust` installed for podman, skopeo and buildah (certs.d/HOST:PORT/ca.crt). */
function isTrustFile(file: string): boolean {
  return file.includes('/containers/certs.d/');
}

/**
 * What --purge deletes: the volumes, and of quayRoot and bind storage the folders mreg recorded taking,
 * given back as taken. An install recorded before mreg kept that list loses its folders whole, except a
 * system folder. quayRoot goes last, after the pointer: it holds the record, so an interrupted purge
 * can be run again up to there.
 */
function purgeData(record: InstallRecord, root: string, facts: DownInput['facts'], pointer: string | undefined): Action[] {
  const progress = 'delete data (--purge)';
  const storages = [record.spec.quayStorage, record.spec.pgStorage, ...(record.migratedFrom ? [record.migratedFrom] : [])];
  const paths = [root, ...storages.flatMap(s => (s.kind === 'path' ? [s.path] : []))];
  const give: TakenDir[] = [];
  const keep: string[] = [];
  for (const path of paths) {
    const taken = record.takenDirs ? record.takenDirs.find(d => d.path === path) : (systemFolderProblem(path, facts.home) ? undefined : { path, createdFrom: path });
    if (taken) give.push(taken);
    else keep.push(`${path} (mreg did not create it, so --purge leaves it)`);
  }
  const rootDir = give.filter(d => d.path === root);
  // A storage folder loses only what its container wrote there (the old blob place: what Quay wrote).
  const writes = (path: string) => [
    ...STORAGE_MOUNTS.filter(m => { const s = record.spec[m.spec]; return s.kind === 'path' && s.path === path; }),
    ...(record.migratedFrom?.kind === 'path' && record.migratedFrom.path === path ? [COMPONENTS.app.storage] : []),
  ].flatMap(m => m.writes);
  // A storage folder inside quayRoot (mirror-registry 1.2 kept its data there) is given back on its own
  // terms above: quayRoot's delete spares it, and quayRoot stays while it holds anything.
  const nested = [...new Set(paths.filter(p => p.startsWith(`${root}/`)).map(p => p.slice(root.length + 1).split('/')[0]!))].sort();
  const giveBack = (dir: TakenDir) => {
    const only = dir.path === root ? [] : [...new Set(writes(dir.path))];
    const spare = dir.path === root ? nested : [];
    return action({ kind: 'give-back-dir', dir, ...(only.length ? { only } : {}), ...(spare.length ? { spare } : {}) }, progress);
  };
  return [
    ...storages.flatMap(s => (s.kind === 'volume' ? [action({ kind: 'remove-volume', name: s.name }, progress)] : [])),
    // A bucket may be shared, versioned or replicated: emptying it is the object store's job.
    ...storages.flatMap(s => (s.kind === 's3' ? [action({ kind: 'keep', what: `${storageText(s)} (mreg never deletes objects in a bucket; empty it with the object store's tools)`, warn: true }, progress)] : [])),
    ...give.filter(d => d.path !== root).map(giveBack),
    ...keep.map(what => action({ kind: 'keep', what, warn: true }, progress)),
    // A pointer to another quayRoot (--quayRoot named an install the pointer does not) is that one's.
    ...(pointer === undefined || pointer === root ? [action({ kind: 'remove-file', path: pointerPath(facts.scope, facts.home) }, progress)] : []),
    ...rootDir.map(giveBack),
  ];
}
