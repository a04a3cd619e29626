// mreg up: preflight → TLS → secrets → plan → validate → write → start → health → first user → report.
// Safe to run again: it reuses the CA, secrets and credentials and restarts only what changed.
// Its steps live in src/up/: read, checks, host-checks, tls-secrets, write, start, with record and report.
import { lockAsRead } from '../actions/lock-as-read.js';
import type { CommandContext } from '../cli.js';
import { ensureInitUser } from '../apply/first-user.js';
import { readStoredSecretsAt } from '../apply/secrets-step.js';
import { givenImages } from '../install-spec/flags.js';
import { UNITS } from '../model/views.js';
import { UP_STEP as S } from '../plan/up-steps.js';
import { runOnTarget } from '../remote/on-target.js';
import { stepLog } from '../ui/step-log.js';
import { printUpDryRun } from '../up/dry-run.js';
import { askHealthEarly } from '../up/early-health.js';
import { checkFlagsForTarget } from '../up/flags.js';
import { checkHost } from '../up/host-checks.js';
import { readUp } from '../up/read.js';
import { forgetRestoreMarker, refuseUnfinishedRestore, writeFirstRecord, writeRecord } from '../up/record.js';
import { reportUp } from '../up/report.js';
import type { ActionPorts } from '../actions/ports.js';
import type { HookRun, UpContext, UpHooks, UpRun } from '../up/run.js';
import { startChanged, waitHealthy } from '../up/start.js';
import { makeTlsAndSecrets } from '../up/tls-secrets.js';
import { writeFiles } from '../up/write.js';

export type { UpHooks } from '../up/run.js';

export async function up(ctx: CommandContext, hooks: UpHooks = {}): Promise<void> {
  const { out, flags } = ctx;
  // Another host: check the flags as that host's mreg will (named after it), then run it there.
  if (await runOnTarget('up', ctx, { check: host => checkFlagsForTarget(flags, host) })) return;
  const read = await readUp(ctx);
  const { probe, look, checked, layout, podman, target } = read;
  // restore's own up (beforeApp) is the one that finishes what its marker says.
  if (!hooks.beforeApp) await refuseUnfinishedRestore(look, layout.root);
  const { previous, review, taken } = checked;
  if (flags.dryRun) return printUpDryRun(out, read, flags.s3CreateBucket === true);

  const release = await lockAsRead(ctx.host, probe, { quayRoot: layout.root, record: previous }, 'mreg up');
  // Unit states come from one `systemctl show`; the D-Bus client connects only for a job (reload, start)
  // or a crash watch, so a run with nothing to change never loads it (issue 19). main closes it.
  let connecting: Promise<ActionPorts> | undefined;
  const connect = () => (connecting ??= ctx.host.actionPorts(target));
  // The ids of the steps this run took, in upSteps' order: `--json` reports them beside the dry run's.
  const { ran, did } = hooks.log ?? stepLog(out);
  const stopEarly = new AbortController();
  try {
    const started = Date.now();
    for (const c of review.changes) { out.info(`mreg: changing ${c}`); did(S.change(c)); }
    // Reading the stored secrets changes nothing: asked now, beside the checks, used in the secrets step.
    // From podman's files when the record names the folder it confirmed, else one podman process.
    const stored = readStoredSecretsAt(podman, previous?.secretStore);
    stored.catch(() => undefined); // its failure is reported by the secrets step, after every check
    // Under the lock, so no other mreg changes the registry between this answer and the checks.
    const early = askHealthEarly(look, checked.spec, layout, previous, review.changes, stopEarly.signal);
    const context: UpContext = { out, did, host: ctx.host, look, podman, probe, target, layout, spec: checked.spec, previous, connect };
    const checks = await checkHost(context, { givenImages: givenImages(flags, 'up'), createBucket: flags.s3CreateBucket === true });
    const run: UpRun = { ...context, spec: checks.spec, taken, pgData: checks.pgData, lingerEnabledByMreg: checks.lingerEnabledByMreg };
    const { spec } = run;
    await writeFirstRecord(run);

    const made = await makeTlsAndSecrets(run, stored, checks.config.text);
    const written = await writeFiles(run, made.secrets, checks.config, made.secretStore);
    const { beforeApp, beforeReport } = hooks;
    const { ep, unchanged } = await startChanged(run, written, made, checks.shown, beforeApp ? UNITS.app : undefined);
    const hookRun = async (): Promise<HookRun> => ({ systemd: (await connect()).systemd, spec, endpoint: ep, podman });
    const mountpoints = await waitHealthy(run, written.planned, ep, unchanged ? early : undefined, beforeApp && (async () => beforeApp(await hookRun())));

    const creds = await out.step('first user', () => ensureInitUser(ctx.host, ep, spec, made.secrets, made.previousCreds, layout, made.tls.caPath, previous !== undefined));
    did(made.previousCreds?.username === spec.initUser ? S.keepFirstUser : S.firstUser);
    const nothingChanged = unchanged && !creds.created;

    if (beforeReport) await beforeReport(await hookRun());
    await writeRecord(run, {
      updatedAt: nothingChanged && previous ? previous.updatedAt : probe.now.toISOString(),
      files: written.files, volumes: written.planned.volumes, dropped: written.stale, mountpoints, secretStore: made.secretStore,
    });
    did(S.record);
    if (!beforeApp) await forgetRestoreMarker(ctx.host, look, layout.root);

    reportUp(out, spec, creds.credentials, made.tls.caPath, { unchanged: nothingChanged, userCreated: creds.created, steps: ran }, Date.now() - started);
  } finally {
    stopEarly.abort(); // the early health answer, if still asked, is not read any more
    // A connection still being made is settled first, so main's close() finds it.
    await connecting?.catch(() => undefined);
    await release();
  }
}
