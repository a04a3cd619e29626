// The change `mreg cert rotate` makes, under the lock: the new pair and record written, quay-app alone
// restarted, its health and the served fingerprint checked; on any failure there, the previous pair and
// record go back, quay-app restarts on them, and the run fails (exit 1) saying whether that worked.
import type { CommandContext } from '../cli.js';
import { action, type Action } from '../actions/action.js';
import { executeActions, filesOnly } from '../actions/execute.js';
import type { HostProbe } from '../actions/ports.js';
import { healthCas, readHostBundle } from '../apply/health-ca.js';
import { parseKeptPair, planCaWrites, planPairWrites, previousPair, rotateFailure, type KeptPair, type NewPair, type RollbackResult } from '../apply/cert-rotate.js';
import { HostError } from '../errors.js';
import { HEALTH_TIMEOUT_MS } from '../install-spec/defaults.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { TlsSource } from '../install-spec/spec.js';
import { systemctlCommand } from '../model/scope.js';
import { UNITS } from '../model/views.js';
import { CERT_STEP as S, probesHealth } from '../plan/cert-steps.js';
import { healthUrl } from '../plan/up-steps.js';
import type { StepLog } from '../ui/step-log.js';

/** How long a registry gets to show that the pair a stopped rotation left works. */
const STALE_CHECK_MS = 20_000;

export interface PairSwitch {
  probe: HostProbe;
  layout: QuayRootLayout;
  record: InstallRecord;
  pair: NewPair;
  /** The new leaf's SHA-256 fingerprint, which the registry must present at the end. */
  fingerprint: string;
}

/** Resolves once the registry serves the new pair; rejects with rotateFailure's HostError after a rollback. */
export async function switchPair(ctx: CommandContext, s: PairSwitch, did: StepLog['did']): Promise<void> {
  const { out, host } = ctx;
  const { probe, layout, record, pair } = s;
  const { readFile, servedFingerprint } = host.inspect(probe);
  const spec = record.spec;
  // If Quay does not come back with the new pair, the old one goes back: kept on disk until this run ends,
  // so a run after one killed midway puts back the pair from before that one, not the pair it left.
  const keptPath = layout.certRotatePrevious;
  const onDisk = previousPair(await readFile(layout.sslCert), await readFile(layout.sslKey));
  const kept = await keptFromStoppedRotation(ctx, s, keptPath, onDisk);
  // --new-ca replaces quay-rootCA too: the CA there (or none) is kept with the pair, also beside a pair an
  // earlier stopped rotation kept (it changed no CA, so the one on disk is still the one to put back).
  const caBefore = pair.newCa ? previousPair(await readFile(layout.caCert), await readFile(layout.caKey)) ?? null : undefined;
  const withCa = (p: KeptPair): KeptPair => (caBefore !== undefined && p.ca === undefined ? { ...p, ca: caBefore } : p);
  const before: KeptPair | undefined = kept ? withCa(kept) : onDisk && withCa({ ...onDisk, tls: spec.tls });
  // The CA files are the record's once mreg made them: down --purge removes them.
  const files = pair.newCa ? [...new Set([...record.files, layout.caCert, layout.caKey])].sort() : record.files;
  const updated: InstallRecord = { ...record, files, updatedAt: probe.now.toISOString(), spec: { ...spec, tls: pair.tls } };
  const install = 'install the new certificate';
  const steps = new Map([[`write-file:${layout.sslCert}`, S.writePair], [`write-record:${layout.record}`, S.record],
    [`start-unit:${UNITS.app}`, S.restart], [`wait-health:${healthUrl(spec)}`, S.health]]);
  const done = (a: Action) => { const id = steps.get(a.id); if (id) did(id); };
  await executeActions([
    ...(before && before !== kept ? [action({ kind: 'write-file', path: keptPath, content: `${JSON.stringify(before)}\n`, mode: 0o600 }, install)] : []),
    ...(pair.newCa ? planCaWrites(layout, pair.newCa, install) : []),
    ...planPairWrites(layout, pair, install),
    action({ kind: 'write-record', path: layout.record, record: updated }, install),
  ], filesOnly(host.files), { out, done });
  try {
    await restartHealthy(ctx, s, pair.tls, { servedPem: pair.certPem, caPem: pair.caPem }, done);
    await out.step('registry serves the new certificate', () => checkServed(servedFingerprint, spec.hostname, spec.port, s.fingerprint, layout));
    did(S.served);
    await host.files.remove(keptPath);
  } catch (err) {
    const failure = firstLine(err);
    if (!before) throw rotateFailure(failure, { ok: false, noPrevious: true }, layout, probe.scope);
    out.warn(`the new certificate failed (${failure}); restoring the previous one`);
    let rollback: RollbackResult = { ok: true };
    try {
      const restore = 'restore the previous certificate';
      await executeActions([
        ...(before.ca !== undefined ? planCaWrites(layout, before.ca, restore) : []),
        ...planPairWrites(layout, before, restore),
        action({ kind: 'write-record', path: layout.record, record: { ...record, spec: { ...spec, tls: before.tls } } }, restore),
        action({ kind: 'remove-file', path: keptPath }, restore), // the pair it held is the one on disk again
      ], filesOnly(host.files), { out });
      await restartHealthy(ctx, s, before.tls, { servedPem: before.certPem, caPem: await readFile(layout.caCert) });
    } catch (err2) {
      rollback = { ok: false, error: firstLine(err2) };
    }
    throw rotateFailure(failure, rollback, layout, probe.scope);
  }
}

/**
 * The pair an earlier rotation kept (it stopped midway), if the registry does not serve well with the pair
 * that rotation left: then that pair failed, and a failure now must go back further. A registry healthy on
 * the pair on disk makes the kept one stale (the stopped rotation's pair worked): it is removed.
 */
async function keptFromStoppedRotation(ctx: CommandContext, s: PairSwitch, keptPath: string, onDisk: Pick<NewPair, 'certPem'> | undefined): Promise<KeptPair | undefined> {
  const { readFile, waitForHealth } = ctx.host.inspect(s.probe);
  const kept = parseKeptPair(await readFile(keptPath));
  if (!kept) return undefined;
  const { hostname, port } = s.record.spec;
  const ca = healthCas('provided', { servedPem: onDisk?.certPem ?? '', caPem: await readFile(s.layout.caCert), hostBundle: await readHostBundle() });
  const healthy = onDisk !== undefined && await ctx.out.step('registry health with the pair on disk', () => waitForHealth({ hostname, port, ca }, STALE_CHECK_MS, { intervalMs: 500 }))
    .then(() => true, () => false);
  if (healthy) {
    await ctx.host.files.remove(keptPath);
    ctx.out.info(`mreg: an earlier cert rotate stopped midway, but the registry serves well with the pair it left: ${keptPath} removed`);
    return undefined;
  }
  ctx.out.info(`mreg: an earlier cert rotate stopped midway, and the pair it left does not serve: a failure now restores the pair from before it (${keptPath})`);
  return kept;
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/**
 * quay-app alone restarted (postgres and redis keep running; the executor clears a failed state first), then,
 * when `tls` is probed, /health/instance verified with the pair's own chain (and mreg's CA, the host's bundle).
 */
async function restartHealthy(ctx: CommandContext, s: PairSwitch, tls: TlsSource, files: { servedPem: string; caPem?: string }, done?: (a: Action) => void): Promise<void> {
  const { hostname, port } = s.record.spec;
  const health = async (ms: number | undefined) => ctx.host.inspect(s.probe).waitForHealth(
    { hostname, port, ca: healthCas('provided', { ...files, hostBundle: await readHostBundle() }) }, ms ?? HEALTH_TIMEOUT_MS, { intervalMs: 250 });
  await executeActions([
    action({ kind: 'start-unit', unit: UNITS.app, restart: true }, `restart ${UNITS.app}`),
    ...(probesHealth(tls) ? [action({ kind: 'wait-health', url: healthUrl(s.record.spec) }, 'registry health')] : []),
  ], { files: ctx.host.files, connect: () => ctx.host.actionPorts(s.probe), health },
  { out: ctx.out, done, unitFailedHint: `see: ${systemctlCommand(s.probe.scope)} status ${UNITS.app}` });
}

/** The health probe passed; now the handshake must present exactly the new leaf. */
async function checkServed(served: (hostname: string, port: number) => Promise<string>, hostname: string, port: number, want: string, layout: QuayRootLayout): Promise<void> {
  let got = '';
  for (let i = 0; i < 10; i++) {
    got = await served(hostname, port).catch((e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`);
    if (got === want) return;
    await new Promise(r => setTimeout(r, 500));
  }
  throw new HostError(`127.0.0.1:${port} serves a different certificate (${got}) than ${layout.sslCert} (${want})`,
    'check for another listener on the port, then: mreg logs quay-app');
}
