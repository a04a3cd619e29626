// mreg up: preflight → TLS → secrets → plan → validate → write → start → health → first user → report.
// Safe to run again: it reuses the CA, secrets and credentials and restarts only what changed.
// Its steps live in src/up/: checks, host-checks, tls-secrets, write, start, with record and report.
import type { CommandContext } from '../cli.js';
import type { Podman, RegistryEndpoint } from '../actions/ports.js';
import { ensureInitUser } from '../apply/first-user.js';
import { withS3Inputs } from '../apply/object-storage.js';
import { readStoredSecretsAt } from '../apply/secrets-step.js';
import { DEFAULT_HOSTNAME_ENV } from '../install-spec/defaults.js';
import { quayRootLayout } from '../install-spec/layout.js';
import { parseUpOptions, type RawUpFlags } from '../install-spec/options.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { UP_STEP } from '../plan/up-steps.js';
import { stepLog, type StepLog } from '../ui/step-log.js';
import { checkUp, type CheckedUp } from '../up/checks.js';
import { planDryRun } from '../up/dry-run.js';
import { askHealthEarly } from '../up/early-health.js';
import { checkHost } from '../up/host-checks.js';
import { isFresh, writeRecord } from '../up/record.js';
import { reportUp } from '../up/report.js';
import type { Systemd, UpContext, UpRun } from '../up/run.js';
import { startChanged, waitHealthy } from '../up/start.js';
import { makeTlsAndSecrets } from '../up/tls-secrets.js';
import { writeFiles } from '../up/write.js';
import { checkInputFiles } from '../apply/input-files.js';
import { givenImages, stringFlag } from '../install-spec/flags.js';
import { printDryRun } from '../ui/dry-run.js';
import { remoteOptionEnv, runOnTarget } from '../remote/on-target.js';

export function rawUpFlags(flags: Record<string, unknown>): RawUpFlags {
  const str = (k: string) => stringFlag(flags, k, 'up');
  return {
    quayHostname: str('quayHostname'), quayRoot: str('quayRoot'), quayStorage: str('quayStorage'),
    pgStorage: str('pgStorage'), sslCert: str('sslCert'), sslKey: str('sslKey'),
    sslCheckSkip: Boolean(flags.sslCheckSkip), initUser: str('initUser'), initPassword: str('initPassword'),
    imageArchive: str('imageArchive'), quayImage: str('quayImage'), pgImage: str('pgImage'), redisImage: str('redisImage'),
    infraImage: str('infraImage'), s3Endpoint: str('s3Endpoint'), s3CredentialsFile: str('s3CredentialsFile'), s3CaBundle: str('s3CaBundle'),
    s3CreateBucket: flags.s3CreateBucket === true ? true : undefined,
    anonymousAccess: str('anonymousAccess'), userCreation: str('userCreation'),
  };
}

/** What another command (restore, storage migrate) does inside up's run. */
export interface UpHooks {
  /** The caller's step log, which up continues: its report's `steps` are the caller's, then up's. */
  log?: StepLog;
  /** Runs with the registry healthy and the lock held, before up writes the record. */
  beforeReport?: (run: { systemd: Systemd; spec: InstallSpec; endpoint: RegistryEndpoint; podman: Podman }) => Promise<void>;
}

export async function up(ctx: CommandContext, hooks: UpHooks = {}): Promise<void> {
  const { out, flags } = ctx;
  // Another host: check the flags as that host's mreg will (named after it), then run it there.
  if (await runOnTarget('up', ctx, { check: host => { parseUpOptions(rawUpFlags({ quayHostname: host, ...flags, imageArchive: undefined }), remoteOptionEnv(flags, host)); } })) return;
  // The host's name is the default hostname of a new install only: asked when no flag and no record gives one.
  const probe = await ctx.host.probe({ fqdn: false });
  const look = ctx.host.inspect(probe);
  // Every check before the first change: flags, the existing install, folders, input files.
  // up -H names a new registry after the target (remoteEnv); an install's recorded name still wins.
  const named = ctx.env[DEFAULT_HOSTNAME_ENV];
  const found = await checkUp({ host: ctx.host, look }, rawUpFlags(flags), probe, named ? async () => named : () => ctx.host.hostFqdn());
  await checkInputFiles(found.spec, probe.now);
  const checked: CheckedUp = { ...found, spec: await withS3Inputs(found.spec) };
  const { previous, review, taken } = checked;
  const layout = quayRootLayout(checked.spec.quayRoot);
  const podman = ctx.host.podman();
  // The install's scope: its systemd and PostgreSQL data.
  const target = { ...probe, scope: checked.spec.scope };

  if (flags.dryRun) {
    const { files, steps } = await planDryRun(out, checked, probe, layout, flags.s3CreateBucket === true);
    const actions = steps.map(s => s.text);
    // `plan` carries each step's id, as down's does: `up --json` names the steps it took with them.
    if (out.json) out.resultJson({ dryRun: true, scope: checked.spec.scope, files, actions, plan: steps });
    else printDryRun(out, files, actions);
    return;
  }

  const release = await ctx.host.lock(probe);
  // Unit states come from one `systemctl show`; the D-Bus client connects only for a job (reload, start)
  // or a crash watch, so a run with nothing to change never loads it (issue 19). main closes it.
  let connecting: Promise<Systemd> | undefined;
  const manager = () => (connecting ??= ctx.host.actionPorts(target).then(p => p.systemd));
  // The ids of the steps this run took, in upSteps' order: `--json` reports them beside the dry run's.
  const { ran, did } = hooks.log ?? stepLog(out);
  const S = UP_STEP;
  try {
    const started = Date.now();
    for (const c of review.changes) { out.info(`mreg: changing ${c}`); did(S.change(c)); }
    // Reading the stored secrets changes nothing: asked now, beside the checks, used in the secrets step.
    // From podman's files when the record names the folder it confirmed, else one podman process.
    const stored = readStoredSecretsAt(podman, previous?.secretStore);
    stored.catch(() => undefined); // its failure is reported by the secrets step, after every check
    // Under the lock, so no other mreg changes the registry between this answer and the checks.
    const early = askHealthEarly(look, checked.spec, layout, previous, review.changes);
    const context: UpContext = { out, did, host: ctx.host, look, podman, probe, target, layout, spec: checked.spec, previous, manager };
    const checks = await checkHost(context, { givenImages: givenImages(flags, 'up'), createBucket: flags.s3CreateBucket === true });
    const run: UpRun = { ...context, spec: checks.spec, taken, pgData: checks.pgData, lingerEnabledByMreg: checks.lingerEnabledByMreg };
    const { spec } = run;
    // A first install records itself (and the folders it takes) before it creates anything, so an
    // interrupted run is resumed by up, or removed by down, and --purge knows what is mreg's.
    if (isFresh(previous)) {
      await ctx.host.files.makeDir(layout.root, 0o700);
      await writeRecord(ctx.host.files, run, { updatedAt: probe.now.toISOString(), files: [], volumes: [], mountpoints: previous?.volumeMountpoints });
      did(S.firstRecord);
    }

    const made = await makeTlsAndSecrets(run, stored, checks.config.text);
    const written = await writeFiles(run, made.secrets, checks.config.kept, made.secretStore);
    const { ep, unchanged } = await startChanged(run, written, made, checks.shown);
    const mountpoints = await waitHealthy(run, written.planned, ep, unchanged ? early : undefined);

    const creds = await out.step('first user', () => ensureInitUser(ctx.host, ep, spec, made.secrets, made.previousCreds, layout, made.tls.caPath, previous !== undefined));
    did(made.previousCreds?.username === spec.initUser ? S.keepFirstUser : S.firstUser);
    const nothingChanged = unchanged && !creds.created;

    if (hooks.beforeReport) await hooks.beforeReport({ systemd: await manager(), spec, endpoint: ep, podman });
    await writeRecord(ctx.host.files, run, {
      updatedAt: nothingChanged && previous ? previous.updatedAt : probe.now.toISOString(),
      files: written.files, volumes: written.planned.volumes, dropped: written.stale, mountpoints, secretStore: made.secretStore,
    });
    did(S.record);

    reportUp(out, spec, creds.credentials, made.tls.caPath, { unchanged: nothingChanged, userCreated: creds.created, steps: ran }, Date.now() - started);
  } finally {
    // A connection still being made is settled first, so main's close() finds it.
    await connecting?.catch(() => undefined);
    await release();
  }
}
