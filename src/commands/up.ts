// mreg up: preflight → TLS → secrets → plan → validate → write → start → health → first user → report.
// Safe to run again: it reuses the CA, secrets and credentials and restarts only what changed.
import type { CommandContext } from '../cli.js';
import { parseUpOptions, type RawUpFlags } from '../install-spec/options.js';
import { quayRootLayout } from '../install-spec/layout.js';
import { DEFAULT_HOSTNAME_ENV, HEALTH_TIMEOUT_MS } from '../install-spec/defaults.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { readStoredSecretsAt } from '../apply/secrets-step.js';
import { UP_STEP } from '../plan/up-steps.js';
import { ensureInitUser } from '../apply/first-user.js';
import { checkInputFiles, givenImages, printDryRun, remoteOptionEnv, runOnTarget, stringFlag } from './common.js';
import { outdatedFiles, startUnits } from '../apply/units-step.js';
import type { Podman, RegistryEndpoint } from '../actions/ports.js';
import { appCrashWatch, withJournalTail } from '../apply/crash-watch.js';
import { withS3Inputs } from '../apply/object-storage.js';
import { readHealthCas } from '../apply/health-ca.js';
import { stepLog } from '../ui/step-log.js';
import { checkUp, type CheckedUp } from '../up/checks.js';
import { planDryRun } from '../up/dry-run.js';
import { checkHost, readUnitStates } from '../up/host-checks.js';
import { isFresh, writeRecord } from '../up/record.js';
import { reportUp } from '../up/report.js';
import type { Systemd, UpContext, UpRun } from '../up/run.js';
import { makeTlsAndSecrets } from '../up/tls-secrets.js';
import { writeFiles } from '../up/write.js';

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

/** What another command (restore) does inside up's run, with the registry healthy and the lock held. */
export interface UpHooks {
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
  const { ran, did } = stepLog(out);
  const S = UP_STEP;
  try {
    const started = Date.now();
    for (const c of review.changes) { out.info(`mreg: changing ${c}`); did(S.change(c)); }
    // Reading the stored secrets changes nothing: asked now, beside the checks, used in the secrets step.
    // From podman's files when the record names the folder it confirmed, else one podman process.
    const stored = readStoredSecretsAt(podman, previous?.secretStore);
    stored.catch(() => undefined); // its failure is reported by the secrets step, after every check
    const context: UpContext = { out, did, host: ctx.host, look, podman, probe, target, layout, spec: checked.spec, previous, manager };
    const checks = await checkHost(context, { givenImages: givenImages(flags, 'up'), createBucket: flags.s3CreateBucket === true });
    const { spec, pgData, lingerEnabledByMreg, shown: shownEarly } = checks;
    const { text: configYaml, kept } = checks.config;
    const run: UpRun = { ...context, spec, taken, pgData, lingerEnabledByMreg };

    let mountpoints = previous?.volumeMountpoints;
    // A first install records itself (and the folders it takes) before it creates anything, so an
    // interrupted run is resumed by up, or removed by down, and --purge knows what is mreg's.
    if (isFresh(previous)) {
      await ctx.host.files.makeDir(layout.root, 0o700);
      await writeRecord(ctx.host.files, run, { updatedAt: probe.now.toISOString(), files: [], volumes: [], mountpoints: previous?.volumeMountpoints });
      did(S.firstRecord);
    }

    const made = await makeTlsAndSecrets(run, stored, configYaml);
    const { tls, secrets, missing, previousCreds } = made;

    const w = await writeFiles(run, secrets, kept, made.secretStore);
    const { planned, stale } = w;
    const written = [...tls.changed, ...w.changed, ...stale];
    // Unchanged files an earlier, interrupted run wrote but never restarted their service for.
    // The units as they run now: which run an older file, and whether any is down. Read again only when
    // this run wrote a file (NeedDaemonReload changes with it); else preflight's read answers (issue 19).
    const before = written.length === 0 && shownEarly ? shownEarly : await readUnitStates(look);
    const outdated = (await outdatedFiles(before, [...w.files, layout.sslCert, layout.sslKey])).filter(f => !written.includes(f));
    for (const f of outdated) out.debug(`${f} is newer than its running service: restarting it`);
    const changed = [...written, ...outdated];
    for (const f of changed) out.debug(`changed ${f}`);

    const ep: RegistryEndpoint = { hostname: spec.hostname, port: spec.port, ca: spec.tls.kind === 'generate' ? tls.caPem : await readHealthCas('provided', layout) };
    const states = planned.services.map(s => before.get(s)!);
    const allActive = states.every(s => s.activeState === 'active');
    let nothingChanged = changed.length === 0 && missing.length === 0 && allActive;

    if (!nothingChanged || states.some(s => s.needDaemonReload)) {
      const sd = await manager();
      await out.step('reload systemd (runs the Quadlet generator)', () => sd.reload());
      did(S.reload);
      const wasActive = new Set(states.filter(st => st.activeState === 'active').map(st => st.name));
      await out.step('start registry units', () => startUnits(sd, planned, changed, wasActive, spec, out));
      did(...planned.services.map(S.start));
    }
    // While Quay starts, podman says where the volumes are (once: a re-run keeps what was recorded).
    const known = planned.volumes.every(v => mountpoints?.[v]);
    const asking = known ? undefined : look.volumeMountpoints(planned.volumes).then(m => Object.fromEntries(m)).catch(() => undefined);
    const waited = await out.step('registry health', () => look.waitForHealth(ep, HEALTH_TIMEOUT_MS, { intervalMs: 200, giveUp: appCrashWatch({ unitState: async name => (await manager()).unitState(name) }) })
      .catch(err => withJournalTail(err, spec.scope)));
    if (asking) mountpoints = await asking;
    out.debug(`healthy after ${waited} ms of probing`);
    did(S.health);

    const creds = await out.step('first user', () => ensureInitUser(ctx.host, ep, spec, secrets, previousCreds, layout, tls.caPath, previous !== undefined));
    if (creds.created) nothingChanged = false;
    did(previousCreds?.username === spec.initUser ? S.keepFirstUser : S.firstUser);

    if (hooks.beforeReport) await hooks.beforeReport({ systemd: await manager(), spec, endpoint: ep, podman });
    const finalUpdatedAt = nothingChanged && previous ? previous.updatedAt : probe.now.toISOString();
    await writeRecord(ctx.host.files, run, { updatedAt: finalUpdatedAt, files: w.files, volumes: planned.volumes, dropped: stale, mountpoints, secretStore: made.secretStore });
    did(S.record);

    reportUp(out, spec, creds.credentials, tls.caPath, { unchanged: nothingChanged, userCreated: creds.created, steps: ran }, Date.now() - started);
  } finally {
    // A connection still being made is settled first, so main's close() finds it.
    await connecting?.catch(() => undefined);
    await release();
  }
}
