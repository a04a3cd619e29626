// Up's files: the plan rendered with the install's secrets, bind folders, SELinux labels, the record of every
// file, then the files, and the units podman no longer uses removed (the generator judged them in the checks).
import { action } from '../actions/action.js';
import { executeActions } from '../actions/execute.js';
import { labelBindPaths, SELINUX_STEP } from '../apply/selinux-step.js';
import type { InstallSecrets } from '../install-spec/spec.js';
import { ownedKeyResets, type KeptConfig } from '../plan/config-keep.js';
import { staleUnits, unitDirs } from '../plan/layout-move.js';
import { factsFor, plan as makePlan, type Plan } from '../plan/plan.js';
import { recordedConfigRender } from '../plan/quay-config.js';
import { bindMounts, UP_STEP } from '../plan/up-steps.js';
import { planWrites } from '../plan/writes.js';
import { isFresh, writeRecord } from './record.js';
import type { UpRun } from './run.js';

export interface Written {
  planned: Plan;
  /** Every planned file's path. */
  files: string[];
  /** The planned files this run wrote (new or different). */
  changed: string[];
  /** Unit files of the old layout this run removed. */
  stale: string[];
}

/** `secretStore` goes into the record written before the files; `config` is config.yaml as the checks read it. */
export async function writeFiles(run: UpRun, secrets: InstallSecrets, config: { text?: string; kept: KeptConfig }, secretStore: string | undefined): Promise<Written> {
  const { out, did, spec, layout, probe, previous } = run;
  const S = UP_STEP;
  const planned = makePlan(spec, factsFor(probe), secrets, config.kept);
  // A hand edit of a key mreg writes is set back: said key by key, not silently.
  const rendered = planned.files.find(f => f.path === layout.configYaml)?.content;
  const recordedRender = recordedConfigRender(spec, previous, secrets, config.kept);
  const resets = rendered === undefined ? [] : ownedKeyResets(config.text, rendered, layout.configYaml, { recordedRender });
  for (const line of resets) out.info(`mreg: ${line}`);
  if (resets.length > 0) out.info('    mreg writes these keys on every run: change them with its flags; every other key stays as you set it');
  await out.step('storage', async () => {
    // A bind folder: Quay must write its blob folder (the model's owner); Postgres data gets :U from the unit.
    for (const { mount, path } of bindMounts(spec)) {
      await run.host.prepareBindDir(path, mount.mode, spec.scope, mount.owner);
      did(S.bindDir(path));
    }
  });
  if (planned.selinuxLabels.length > 0) {
    await out.step(SELINUX_STEP, () => labelBindPaths(planned, spec.scope, layout, out));
    did(...planned.selinuxLabels.map(S.selinuxLabel));
  }
  // Every file is recorded before it is written, so down removes it even if this run is killed
  // (a run resumed after one killed before this point still has the early record's short list).
  const files = planned.files.map(f => f.path);
  if (isFresh(previous) || files.some(f => !previous!.files.includes(f))) {
    await writeRecord(run, { updatedAt: probe.now.toISOString(), files, volumes: planned.volumes, mountpoints: previous?.volumeMountpoints, secretStore });
    did(S.recordFiles);
  }

  // After a move to podman 5 the plain pod unit would shadow the generated one: it goes before the reload.
  const stale = previous ? staleUnits(previous.files, files, unitDirs(probe)) : [];
  const podmanVersion = probe.podmanVersion?.join('.');
  const removals = stale.map(path => action({ kind: 'remove-file', path }, `remove the units podman ${podmanVersion} does not use`));
  // Files alone need no systemd: D-Bus is connected only if a later step asks (issue 19).
  const ports = { files: run.host.files, connect: run.connect };
  const { written: changed } = await executeActions(planWrites(planned.files, layout, 'write units and config'), ports, { out });
  did(...files.map(S.write));
  if (removals.length > 0) {
    await executeActions(removals, ports, { out });
    for (const f of stale) out.info(`    removed ${f} (not one of the units for podman ${podmanVersion})`);
    did(...stale.map(S.removeStale));
  }
  return { planned, files, changed, stale };
}
