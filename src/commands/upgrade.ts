// mreg upgrade: new images (or a newer mreg's units) for an existing install, restarting only what changed,
// and rolling back to the previous unit files when the new version does not become healthy in time.
// Its steps are plan/upgrade-steps.ts; the phases live in src/upgrade/.
import type { CommandContext } from '../cli.js';
import { action } from '../actions/action.js';
import { executeActions, filesOnly } from '../actions/execute.js';
import { lockAsRead } from '../actions/lock-as-read.js';
import type { RegistryEndpoint } from '../actions/ports.js';
import { refuseUnfinishedUpgrade } from '../apply/db-snapshot.js';
import { existingSecrets } from '../apply/existing-secrets.js';
import { readHealthCas } from '../apply/health-ca.js';
import { readKeptConfig } from '../apply/kept-config.js';
import { labelBindPaths, SELINUX_STEP } from '../apply/selinux-step.js';
import { validateUnits } from '../apply/units-step.js';
import { givenImages, parseTimeout } from '../install-spec/flags.js';
import type { InstallRecord } from '../install-spec/record.js';
import { imageChanges, UPGRADE_STEP as S } from '../plan/upgrade-steps.js';
import { refuseOnTarget, refuseOtherUserHere, runOnTarget } from '../remote/on-target.js';
import { stepLog } from '../ui/step-log.js';
import { movingText, reportNothingToChange, reportUpgraded } from '../ui/upgrade-report.js';
import { planFiles } from '../upgrade/files.js';
import { loadAndCheckImages } from '../upgrade/images.js';
import { readInstall } from '../upgrade/read.js';
import { checkUpgradeFlagsForTarget, unrecordedFiles, upgradedRecord } from '../upgrade/spec.js';
import { switchOver } from '../upgrade/switch.js';
import { upgradeDryRun } from '../upgrade/dry-run.js';
import { upgradeCertAlias } from './cert.js';

export async function upgrade(ctx: CommandContext): Promise<void> {
  const { out, flags, host } = ctx;
  // The aliases below return before runOnTarget: another user's -u is refused for them too.
  if (flags.targetHostname === undefined) refuseOtherUserHere(ctx);
  // mirror-registry 1.2/1.3 install, not yet mreg's: `mreg adopt` does the whole take-over.
  if (flags.fromMirrorRegistry) {
    await refuseOnTarget(flags, 'mreg upgrade --from-mirror-registry', h => `copy mreg to ${h} and run mreg adopt there`);
    await (await import('./adopt.js')).adopt(ctx);
    return;
  }
  if (flags.sslCert !== undefined || flags.sslKey !== undefined) {
    await refuseOnTarget(flags, 'mreg upgrade --sslCert/--sslKey', h => `copy mreg to ${h} and run mreg cert rotate --sslCert FILE --sslKey FILE there`);
  }
  if (await upgradeCertAlias(ctx)) return; // --sslCert/--sslKey: same as mreg cert rotate
  const timeoutMs = parseTimeout(flags.timeout);
  if (await runOnTarget('upgrade', ctx, { check: h => checkUpgradeFlagsForTarget(flags, h) })) return;
  const f = await readInstall(ctx);
  const { record, layout, podman } = f;
  if (flags.dryRun) return upgradeDryRun(out, f, givenImages(flags, 'upgrade'), timeoutMs);
  // Under the lock: every check that changes nothing, then the switch to the new files, then the record.
  const release = await lockAsRead(host, f.probe, { quayRoot: layout.root, record }, 'mreg upgrade');
  try {
    const started = Date.now();
    // The ids of the steps this run took, in upgradeSteps' order: `--json` reports them beside the dry run's plan.
    const log = stepLog(out);
    // Named before the load (by a flag, or no archive): another image than an unfinished upgrade's is refused before minutes of loading.
    if (!f.spec.imageArchive || givenImages(flags, 'upgrade').quay) await refuseUnfinishedUpgrade(f.look.readFile, layout.root, record.spec.images.quay, f.spec.images.quay);
    const { spec, pgData } = await loadAndCheckImages(out, f, record, f.spec, givenImages(flags, 'upgrade'), log.did);
    // An upgrade killed midway may be resumed, by its own target; any other change is refused.
    await refuseUnfinishedUpgrade(f.look.readFile, layout.root, record.spec.images.quay, spec.images.quay);
    const config = await readKeptConfig(layout.configYaml);
    const secrets = await out.step('existing secrets', async () => existingSecrets(podman, layout.credentials, config.text));
    log.did(S.secrets);
    const { planned, changes, resuming, moving } = await planFiles(f, spec, secrets, config.kept);
    if (resuming) out.info('mreg: resuming an upgrade that stopped after writing the unit files');
    if (moving) out.info(movingText(f.probe.podmanVersion));
    if (changes.length === 0) return reportNothingToChange(out, Date.now() - started, log.ran);
    await out.step('validate units with podman\'s Quadlet generator', () => validateUnits(podman, planned, spec));
    log.did(S.validate);
    // An install an older mreg made has :Z labels with some old container's categories: relabel
    // while the old containers (whose level dominates s0) still serve.
    if (planned.selinuxLabels.length > 0) {
      await out.step(SELINUX_STEP, () => labelBindPaths(planned, spec.scope, layout, out));
      log.did(...planned.selinuxLabels.map(S.selinuxLabel));
    }
    // Connects to the scope's systemd (main closes it); only now, after every check.
    const ports = { actions: await host.actionPorts(f.target), podman, waitForHealth: f.look.waitForHealth, diskFree: f.look.diskFree };
    const ep: RegistryEndpoint = { hostname: spec.hostname, port: spec.port, ca: await readHealthCas(spec.tls.kind, layout) };
    // quay.pod (the move) is recorded before it is written: down removes it even if this run is killed.
    const newFiles = unrecordedFiles(record, changes);
    const writeRecord = (r: InstallRecord) => executeActions([action({ kind: 'write-record', path: layout.record, record: r })], filesOnly(host.files), { out });
    if (newFiles.length > 0) await writeRecord({ ...record, files: [...record.files, ...newFiles] }).then(() => log.did(S.recordFiles));
    const switched = await switchOver(out, ports, log, { changes, resuming, recorded: record.spec.images, images: spec.images, root: layout.root, ep, timeoutMs, started });
    await writeRecord(upgradedRecord(record, spec, pgData, new Date(), changes));
    log.did(S.record);
    reportUpgraded(out, switched, { changed: changes.map(c => c.path), images: imageChanges(record.spec.images, spec.images), durationMs: Date.now() - started, steps: log.ran });
  } finally {
    await release();
  }
}
