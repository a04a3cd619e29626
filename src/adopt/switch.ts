// The switch from mirror-registry to mreg's units: each step while the registry is down is timed for
// the report; a failure after the stop puts mirror-registry back (rollback.ts).
import type { ActionPorts } from '../actions/ports.js';
import { appCrashWatch, withJournalTail } from '../apply/crash-watch.js';
import { readHealthCas } from '../apply/health-ca.js';
import { planSecrets } from '../plan/secrets.js';
import { ensureTls } from '../apply/tls-step.js';
import { planWrites } from '../plan/writes.js';
import { executeActions } from '../actions/execute.js';
import { planStart, startHints } from '../plan/start.js';
import { HostError, UnitFailedError } from '../errors.js';
import { PG_USER } from '../install-spec/defaults.js';
import type { InstallSecrets } from '../install-spec/spec.js';
import { COMPONENTS } from '../model/components.js';
import { adoptMarkerPath } from '../model/scope.js';
import { ALL_SECRET_NAMES, CONTAINER_NAMES, STOP_ORDER } from '../model/views.js';
import type { Output } from '../ui/output.js';
import type { StepLog } from '../ui/step-log.js';
import { backupLegacyConfig, backupLegacyTls, backupLegacyUnits, tightenModes } from './find.js';
import { renamePgRole } from './pg-role.js';
import { removeAdoptMarker, writeAdoptMarker } from '../apply/adopt-marker.js';
import { putBack, putBackStateOf, type AdoptState, type PutBackPorts } from './rollback.js';

/** The ids --verbose prints as each step of the switch ends ("step ID"): the VM suite kills adopt on them. */
export const ADOPT_STEP = {
  secrets: 'adopt:secrets', marker: 'adopt:marker', stop: 'adopt:stop', pgRole: 'adopt:pg-role', moveUnits: 'adopt:move-units',
  tls: 'adopt:tls', write: 'adopt:write', reload: 'adopt:reload', start: 'adopt:start', health: 'adopt:health',
} as const;

/** How long the registry was down, and each step of that time (`downtimeSteps` in --json). */
export interface Downtime { ms: number; steps: Array<{ step: string; ms: number }> }

/**
 * Makes mreg's secrets, stops mirror-registry and starts mreg's registry in its place, healthy. Rejects
 * with the error putBack made when a step after the stop failed; `state.roleRenamed` says what it undid.
 */
export async function switchToMreg(out: Output, ports: PutBackPorts & ActionPorts, state: AdoptState,
  secrets: InstallSecrets, opts: { now: Date; timeoutMs: number; backup: string; home: string; legacySecrets: readonly string[]; did: StepLog['did'] }): Promise<Downtime> {
  const { systemd: sd, podman } = ports;
  const { found, spec, planned, layout, relabel, newCa } = state;
  const { backup, did } = opts;
  const S = ADOPT_STEP;
  // mreg's secrets are new names beside mirror-registry's, so they are made while it still serves
  // (issue 15: a short switch); a failure until the stop is done takes them away again, the put-back after it.
  const dropSecrets = async (err: unknown) => { await Promise.allSettled(ALL_SECRET_NAMES.map(n => podman.secretRemove(n))); throw err; };
  await out.step('podman secrets', () => executeActions(planSecrets(secrets, ALL_SECRET_NAMES, { replace: true }), ports, { out })).catch(dropSecrets);
  did(S.secrets);
  const downSince = Date.now();
  const downSteps: Downtime['steps'] = [];
  const downStep = async <T>(id: string, name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await out.step(name, fn).finally(() => downSteps.push({ step: name, ms: Date.now() - t0 }));
    did(id);
    return r;
  };
  // From here a kill leaves the old units moved and no record: the marker lets a re-run of adopt put them back.
  // The role is marked renamed at once: renaming back a role that was not renamed changes nothing.
  const mark = () => writeAdoptMarker(spec.scope, opts.home, { ...putBackStateOf(state), roleRenamed: state.pgUser !== PG_USER }, opts.legacySecrets, opts.now);
  await mark().catch(dropSecrets);
  did(S.marker);
  await downStep(S.stop, 'stop mirror-registry', () => stopLegacy(ports)).catch(async (err: unknown) => {
    await removeAdoptMarker(spec.scope, opts.home);
    return dropSecrets(err);
  });
  try {
    await downStep(S.pgRole, 'Postgres role for mreg', () => renamePgRole(spec.images.postgres, spec.pgStorage, state.pgUser, { relabel, log: out.debug }));
    state.roleRenamed = state.pgUser !== PG_USER;
    await downStep(S.moveUnits, `move old units to ${backup}`, async () => {
      await backupLegacyConfig(found);
      await backupLegacyTls(found, newCa);
      await backupLegacyUnits(found);
    });
    await downStep(S.tls, `TLS certificate (${newCa ? 'a new CA' : spec.tls.kind === 'generate' ? 'the old CA is kept' : 'the pair is kept'})`, async () => {
      await ensureTls(spec, layout, opts.now, undefined, { files: ports.files, out });
      await tightenModes([{ path: layout.sslKey, mode: 0o640 }, { path: layout.sslCert, mode: 0o640 }, { path: layout.caKey, mode: 0o600 }]);
    });
    await downStep(S.write, 'write mreg units and config', () => executeActions(planWrites(planned.files, layout), ports, { out }));
    await downStep(S.reload, 'reload systemd', () => sd.reload());
    // From the start on the new Quay may migrate the database: only now does a put-back need the dump.
    state.appStarted = true;
    if (state.snapshot) await mark();
    // Nothing of mreg's ran before: every service gets its start job (the step's own line is the progress).
    const jobs = planStart({ before: new Map(), services: planned.services, volumes: planned.volumes, changed: [] }).map(({ progress: _, ...a }) => a);
    await downStep(S.start, 'start registry units', () => executeActions(jobs, ports, { out, ...startHints(spec.scope) }));
    await downStep(S.health, 'registry health', async () => {
      const ca = await readHealthCas(spec.tls.kind, layout);
      await ports.waitForHealth({ hostname: spec.hostname, port: spec.port, ca }, opts.timeoutMs, { intervalMs: 200, giveUp: appCrashWatch(sd) })
        .catch(err => withJournalTail(err, spec.scope));
    });
  } catch (err) {
    if (!(err instanceof HostError || err instanceof UnitFailedError)) throw err;
    throw await putBack(out, ports, putBackStateOf(state), err, { backup, marker: adoptMarkerPath(spec.scope, opts.home) });
  }
  return { ms: Date.now() - downSince, steps: downSteps };
}

/**
 * Stops mirror-registry's units in order. When one does not stop, those already stopped are started again
 * (quay-app is the first to stop: the registry would otherwise stay down), and the error says which ran.
 */
export async function stopLegacy(ports: Pick<PutBackPorts, 'systemd' | 'podman'> & { journalTail: ActionPorts['journalTail'] }): Promise<void> {
  const { systemd, podman, journalTail } = ports;
  const stopped: string[] = [];
  for (const unit of STOP_ORDER) {
    const result = await systemd.stopUnit(unit);
    if (result !== 'done' && result !== 'skipped') {
      const tail = await journalTail(unit).catch(() => []);
      const notBack: string[] = [];
      for (const u of [...stopped].reverse()) {
        const again = await systemd.startUnit(u).catch(() => 'failed');
        if (again !== 'done') notBack.push(u);
      }
      throw new UnitFailedError(unit, result, tail, notBack.length === 0
        ? `mirror-registry${stopped.length ? ` (${stopped.join(', ')} started again)` : ''} runs as before and nothing else was changed; stop ${unit} by hand and run mreg adopt again`
        : `${notBack.join(', ')} did not start again: start ${notBack.length === 1 ? 'it' : 'them'} (systemctl start; --user for a rootless install; the old units are unchanged), then stop ${unit} by hand and run mreg adopt again`);
    }
    stopped.push(unit);
    await systemd.resetFailed(unit);
  }
  // The old ExecStop lines remove them; these catch a crashed or hand-started one (names are reused).
  await podman.containersRemove(CONTAINER_NAMES);
  await podman.podRemove(COMPONENTS.pod.podmanName);
}
