// The data, inside up's run in place of its health wait: up started the pod, PostgreSQL and Redis but
// not quay-app. The blobs and the database go back, then quay-app starts and the restore marker goes.
// The stop is for a resumed restore whose quay-app an earlier run had started.
import { join } from 'node:path';
import type { RegistryEndpoint } from '../actions/ports.js';
import { UnitFailedError } from '../errors.js';
import { appCrashWatch } from '../apply/crash-watch.js';
import { restoreDbSnapshot } from '../apply/db-snapshot.js';
import { DUMP_MEMBER } from '../backup/manifest.js';
import { markerPath, markerText, type RestoreMarker } from '../backup/restored.js';
import { HEALTH_TIMEOUT_MS } from '../install-spec/defaults.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { UNITS } from '../model/views.js';
import { RESTORE_STEP as S } from '../plan/restore-steps.js';
import type { Systemd } from '../up/run.js';
import type { Chain } from './chain.js';
import type { RestoreRun } from './run.js';

export async function restoreData(run: RestoreRun, chain: Chain, a: { archive: string; work: string; quayRoot: string; marker: RestoreMarker }, up: { systemd: Systemd; spec: InstallSpec; endpoint: RegistryEndpoint }): Promise<void> {
  const { out, host, log } = run;
  const { systemd, spec } = up;
  const look = host.inspect(run.probe);
  await out.step('restore the blobs and the database', async () => {
    const app = UNITS.app;
    const stopped = await systemd.stopUnit(app);
    if (stopped !== 'done' && stopped !== 'skipped') throw new UnitFailedError(app, stopped, [], 'run the same mreg restore again: it resumes');
    log.did(S.stopApp);
    // An object store kept its blobs (a backup of such an install holds none).
    if (spec.quayStorage.kind !== 's3') {
      const root = await look.storagePath(spec.quayStorage, 'the blob storage');
      for (const [file, members] of chain.blobsFrom) await host.archive.extractStorageMembers(chain.source(file), root, members, spec.scope, a.work);
      await host.archive.extractStorage(chain.source(a.archive), root, spec.scope);
      log.did(S.blobs);
    }
    await restoreDbSnapshot(host.podman(), { path: join(a.work, DUMP_MEMBER) });
    // The data is back: from here an up of its own may finish the job (a failed start, say).
    await host.files.write(markerPath(a.quayRoot), markerText({ ...a.marker, dataRestored: true }), 0o600);
    log.did(S.database);
    const started = await systemd.startUnit(app);
    if (started !== 'done' && started !== 'skipped') throw new UnitFailedError(app, started, [], `see: mreg logs ${app}`);
    log.did(S.startApp);
    await look.waitForHealth(up.endpoint, HEALTH_TIMEOUT_MS, { intervalMs: 200, giveUp: appCrashWatch(systemd) });
    log.did(S.health);
    const m = chain.manifest;
    const inherited = m.inherited?.length ?? 0;
    out.info(`    restored ${chain.files} files${inherited ? ` and ${inherited} blobs from ${chain.length - 1} earlier backup${chain.length > 2 ? 's' : ''}` : ''} from the backup made ${m.createdAt} on ${m.hostname}`);
    await host.files.remove(markerPath(a.quayRoot));
    log.did(S.marker);
  });
}
