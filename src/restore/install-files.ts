// restore's first change: the marker (so a rerun resumes), the backup's install files, this host's
// install record, and the podman secrets, all into quayRoot before up installs over them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QUAY_ROOT_PREFIX, SECRETS_MEMBER } from '../backup/manifest.js';
import { markerPath, markerText, restoredRecord, type RestoreMarker } from '../backup/restored.js';
import { quayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import { action } from '../actions/action.js';
import { executeActions, filesOnly } from '../actions/execute.js';
import { RESTORE_STEP as S } from '../plan/restore-steps.js';
import type { RestoreRun } from './run.js';

export async function putInstallFiles(run: RestoreRun, a: { quayRoot: string; work: string; backedUp: InstallRecord; marker: RestoreMarker }): Promise<void> {
  const { host, probe } = run;
  const { quayRoot, work } = a;
  const secrets = JSON.parse(await readFile(join(work, SECRETS_MEMBER), 'utf8')) as Record<string, string>;
  // The marker first, so a rerun resumes; the secrets over any of those names (the backup's values win).
  const step = `install files and secrets into ${quayRoot}`;
  const actions = [
    action({ kind: 'make-dir', path: quayRoot, mode: 0o700 }, step),
    action({ kind: 'write-file', path: markerPath(quayRoot), content: markerText(a.marker), mode: 0o600 }, step),
    action({ kind: 'copy-into', from: join(work, QUAY_ROOT_PREFIX), into: quayRoot, what: `copying the install files into ${quayRoot}` }, step),
    action({ kind: 'write-record', path: quayRootLayout(quayRoot).record, record: restoredRecord(a.backedUp, probe.scope, quayRoot, a.marker.taken, probe.now) }, step),
    ...Object.entries(secrets).map(([name, value]) => action({ kind: 'create-secret', name, value, replace: true }, step)),
  ];
  await executeActions(actions, { ...filesOnly(host.files), podman: host.podman() }, { out: run.out });
  run.log.did(S.installFiles);
}
