// restore's first change: the marker (so a rerun resumes), the backup's install files, this host's
// install record, and the podman secrets, all into quayRoot before up installs over them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QUAY_ROOT_PREFIX, SECRETS_MEMBER } from '../backup/manifest.js';
import { markerPath, markerText, restoredRecord, type RestoreMarker } from '../backup/restored.js';
import { quayRootLayout } from '../install-spec/layout.js';
import { serializeRecord, type InstallRecord } from '../install-spec/record.js';
import { RESTORE_STEP as S } from '../plan/restore-steps.js';
import type { RestoreRun } from './run.js';

export async function putInstallFiles(run: RestoreRun, a: { quayRoot: string; work: string; backedUp: InstallRecord; marker: RestoreMarker }): Promise<void> {
  const { host, probe } = run;
  const { quayRoot, work } = a;
  await run.out.step(`install files and secrets into ${quayRoot}`, async () => {
    await host.files.makeDir(quayRoot, 0o700);
    await host.files.write(markerPath(quayRoot), markerText(a.marker), 0o600);
    await host.files.copyInto(join(work, QUAY_ROOT_PREFIX), quayRoot, `copying the install files into ${quayRoot}`);
    await host.files.write(quayRootLayout(quayRoot).record, serializeRecord(restoredRecord(a.backedUp, probe.scope, quayRoot, a.marker.taken, probe.now)), 0o600);
    const secrets = JSON.parse(await readFile(join(work, SECRETS_MEMBER), 'utf8')) as Record<string, string>;
    const podman = host.podman();
    for (const [name, value] of Object.entries(secrets)) await podman.secretCreate(name, value, { replace: true });
  });
  run.log.did(S.installFiles);
}
