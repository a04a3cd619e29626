// The change `mreg cert rotate` makes, under the lock: the new pair and record written, quay-app alone
// restarted, its health and the served fingerprint checked; on any failure there, the previous pair and
// record go back, quay-app restarts on them, and the run fails (exit 1) saying whether that worked.
import type { CommandContext } from '../cli.js';
import type { HostProbe } from '../actions/ports.js';
import { healthCas, readHostBundle } from '../apply/health-ca.js';
import { installCa, installPair, parseKeptPair, previousPair, rotateFailure, type KeptPair, type NewPair, type RollbackResult } from '../apply/cert-rotate.js';
import { HostError, UnitFailedError } from '../errors.js';
import { HEALTH_TIMEOUT_MS } from '../install-spec/defaults.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { serializeRecord, type InstallRecord } from '../install-spec/record.js';
import { systemctlCommand } from '../model/scope.js';
import { UNITS } from '../model/views.js';
import { CERT_STEP as S, probesHealth } from '../plan/cert-steps.js';
import type { StepLog } from '../ui/step-log.js';

const RESTART_TIMEOUT_MS = 10 * 60_000;
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
  await out.step('install the new certificate', async () => {
    if (before && before !== kept) await host.files.write(keptPath, `${JSON.stringify(before)}\n`, 0o600);
    if (pair.newCa) await installCa(host.files, layout, pair.newCa);
    await installPair(host.files, layout, pair);
    did(S.writePair);
    // The CA files are the record's once mreg made them: down --purge removes them.
    const files = pair.newCa ? [...new Set([...record.files, layout.caCert, layout.caKey])].sort() : record.files;
    const updated: InstallRecord = { ...record, files, updatedAt: probe.now.toISOString(), spec: { ...spec, tls: pair.tls } };
    await host.files.write(layout.record, serializeRecord(updated), 0o600);
    did(S.record);
  });
  try {
    await restartApp(ctx, probe);
    did(S.restart);
    if (probesHealth(pair.tls)) {
      await waitHealthy(ctx, s, { servedPem: pair.certPem, caPem: pair.caPem });
      did(S.health);
    }
    await out.step('registry serves the new certificate', () => checkServed(servedFingerprint, spec.hostname, spec.port, s.fingerprint, layout));
    did(S.served);
    await host.files.remove(keptPath);
  } catch (err) {
    const failure = firstLine(err);
    if (!before) throw rotateFailure(failure, { ok: false, noPrevious: true }, layout, probe.scope);
    out.warn(`the new certificate failed (${failure}); restoring the previous one`);
    let rollback: RollbackResult = { ok: true };
    try {
      await out.step('restore the previous certificate', async () => {
        if (before.ca !== undefined) await installCa(host.files, layout, before.ca);
        await installPair(host.files, layout, before);
        await host.files.write(layout.record, serializeRecord({ ...record, spec: { ...spec, tls: before.tls } }), 0o600);
        await host.files.remove(keptPath); // the pair it held is the one on disk again
      });
      await restartApp(ctx, probe);
      if (probesHealth(before.tls)) await waitHealthy(ctx, s, { servedPem: before.certPem, caPem: await readFile(layout.caCert) });
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

/** Restarts quay-app only (postgres and redis keep running); its job ends when the container is healthy. */
async function restartApp(ctx: CommandContext, probe: HostProbe): Promise<void> {
  await ctx.out.step(`restart ${UNITS.app}`, async () => {
    const { systemd, journalTail } = await ctx.host.actionPorts(probe);
    // A failed start leaves the unit "failed"; clear it so the restart is a fresh start.
    await systemd.resetFailed(UNITS.app).catch(() => undefined);
    const result = await systemd.restartUnit(UNITS.app, { timeoutMs: RESTART_TIMEOUT_MS });
    if (result !== 'done') {
      throw new UnitFailedError(UNITS.app, result, await journalTail(UNITS.app), `see: ${systemctlCommand(probe.scope)} status ${UNITS.app}`);
    }
  });
}

/** /health/instance, verified with the pair's own chain (and mreg's CA, the host's bundle). */
async function waitHealthy(ctx: CommandContext, s: PairSwitch, files: { servedPem: string; caPem?: string }): Promise<void> {
  const { hostname, port } = s.record.spec;
  const ca = healthCas('provided', { ...files, hostBundle: await readHostBundle() });
  await ctx.out.step('registry health', () => ctx.host.inspect(s.probe).waitForHealth({ hostname, port, ca }, HEALTH_TIMEOUT_MS, { intervalMs: 250 }));
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
