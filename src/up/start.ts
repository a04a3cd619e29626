// Up's start: a reload, then what changed (or runs an older file than the one on disk) is restarted and
// what is down is started; then the wait for the registry's health.
import type { RegistryEndpoint, ShownState } from '../actions/ports.js';
import { appCrashWatch, withJournalTail } from '../apply/crash-watch.js';
import { readHealthCas } from '../apply/health-ca.js';
import type { TlsResult } from '../apply/tls-step.js';
import { outdatedFiles } from '../apply/units-step.js';
import { executeActions } from '../actions/execute.js';
import { planStart, startHints } from '../plan/start.js';
import { HEALTH_TIMEOUT_MS } from '../install-spec/defaults.js';
import type { Plan } from '../plan/plan.js';
import { UP_STEP } from '../plan/up-steps.js';
import { action } from '../actions/action.js';
import type { EarlyHealth } from './early-health.js';
import { readUnitStates } from './host-checks.js';
import type { UpRun } from './run.js';
import type { Written } from './write.js';

/**
 * `shown`: the units' states as preflight read them; `hold`: a service not to start (see plan/start.ts).
 * Resolves with the registry's endpoint and whether nothing changed (no file written, no secret
 * created, every service already active).
 */
export async function startChanged(run: UpRun, w: Written, made: { tls: TlsResult; missing: readonly string[] }, shown: Map<string, ShownState> | undefined, hold?: string): Promise<{ ep: RegistryEndpoint; unchanged: boolean }> {
  const { out, did, spec, layout } = run;
  const { tls } = made;
  const written = [...tls.changed, ...w.changed, ...w.stale];
  // Unchanged files an earlier, interrupted run wrote but never restarted their service for.
  // The units as they run now: which run an older file, and whether any is down. Read again only when
  // this run wrote a file (NeedDaemonReload changes with it); else preflight's read answers (issue 19).
  const before = written.length === 0 && shown ? shown : await readUnitStates(run.look);
  const outdated = (await outdatedFiles(before, [...w.files, layout.sslCert, layout.sslKey])).filter(f => !written.includes(f));
  for (const f of outdated) out.debug(`${f} is newer than its running service: restarting it`);
  const changed = [...written, ...outdated];
  for (const f of changed) out.debug(`changed ${f}`);

  const ep: RegistryEndpoint = { hostname: spec.hostname, port: spec.port, ca: spec.tls.kind === 'generate' ? tls.caPem : await readHealthCas('provided', layout) };
  const states = w.planned.services.map(s => before.get(s)!);
  const allActive = states.every(s => s.activeState === 'active');
  const unchanged = changed.length === 0 && made.missing.length === 0 && allActive;

  if (!unchanged || states.some(s => s.needDaemonReload)) {
    const ports = await run.connect();
    const opts = { out, ...startHints(spec.scope) };
    // Two runs, so the reload's step ends before the first job (the fault suite kills up between them).
    await executeActions([action({ kind: 'daemon-reload' }, 'reload systemd (runs the Quadlet generator)')], ports, opts);
    did(UP_STEP.reload);
    await executeActions(planStart({ before, services: w.planned.services, volumes: w.planned.volumes, changed, hold }), ports, opts);
    did(...w.planned.services.filter(s => s !== hold).map(UP_STEP.start));
  }
  return { ep, unchanged };
}

/**
 * Resolves with where podman keeps each volume: asked while Quay starts, once (a re-run keeps what was recorded).
 * `early`: the answer asked beside the checks, given only by a run that changed nothing; a 200 there is the health.
 * `instead`: the caller's own wait (restore's data, then quay-app's start and health), run in place of up's.
 */
export async function waitHealthy(run: UpRun, planned: Plan, ep: RegistryEndpoint, early?: EarlyHealth, instead?: () => Promise<void>): Promise<Record<string, string> | undefined> {
  const { out, look, spec } = run;
  const recorded = run.previous?.volumeMountpoints;
  const known = planned.volumes.every(v => recorded?.[v]);
  const asking = known ? undefined : look.volumeMountpoints(planned.volumes).then(m => Object.fromEntries(m)).catch(() => undefined);
  if (instead) {
    await instead();
    return asking ? await asking : recorded;
  }
  const answered = await early;
  const waited = await out.step('registry health', async () => answered?.ok ? undefined
    : look.waitForHealth(ep, HEALTH_TIMEOUT_MS, { intervalMs: 200, giveUp: appCrashWatch({ unitExits: async name => (await run.connect()).systemd.unitExits(name) }) })
      .catch(err => withJournalTail(err, spec.scope)));
  const mountpoints = asking ? await asking : recorded;
  if (answered?.ok) out.debug(`healthy: /health/instance answered 200 while up checked, ${Date.now() - answered.askedAt} ms ago`);
  else out.debug(`healthy after ${waited} ms of probing`);
  run.did(UP_STEP.health);
  return mountpoints;
}
