// mreg cert rotate | trust: replace the served certificate without touching the other units,
// and make podman/skopeo on this host trust the registry's CA.
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HEALTH_TIMEOUT_MS } from '../install-spec/defaults.js';
import { HostError, UnitFailedError, UsageError } from '../errors.js';
import { healthCas, readHostBundle } from '../apply/health-ca.js';
import {
  chooseNewPair, installPair, leafExpiry, leafFingerprint, previousPair, rotateFailure, servedFingerprint, trustAnchor,
  type RollbackResult,
} from '../apply/cert-rotate.js';
import type { HostProbe } from '../actions/ports.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { certsDDir, systemctlCommand } from '../model/scope.js';
import { UNITS } from '../model/views.js';
import { serializeRecord, type InstallRecord } from '../install-spec/record.js';
import { rejectRemoteTarget } from './common.js';

export const CERT_ACTIONS = ['rotate', 'trust'] as const;

const RESTART_TIMEOUT_MS = 10 * 60_000;

export async function cert(ctx: CommandContext): Promise<void> {
  const action = ctx.args[0];
  if (action !== 'rotate' && action !== 'trust') {
    throw new UsageError(action === undefined ? 'mreg cert needs an action: rotate or trust' : `unknown cert action "${action}": valid actions are rotate and trust`,
      'see: mreg cert --help, man mreg-cert');
  }
  if (ctx.args.length > 1) throw new UsageError(`mreg cert ${action} takes no further arguments (got "${ctx.args.slice(1).join(' ')}")`);
  const probe = await ctx.host.probe();
  rejectRemoteTarget(ctx.flags, probe.fqdn);
  const found = await ctx.host.findInstall(ctx.flags, probe.scope, probe.home);
  if (found.record.removedAt) {
    throw new HostError(`the registry at ${found.layout.root} was removed by mreg down on ${found.record.removedAt}`, 'run mreg up to install it again');
  }
  if (action === 'rotate') await rotate(ctx, probe, found.layout, found.record);
  else await trust(ctx, probe, found.layout, found.record);
}

// Flags of `mreg upgrade` that are not about the certificate; the alias refuses to mix the two jobs.
const UPGRADE_ONLY = ['quayImage', 'pgImage', 'redisImage', 'imageArchive', 'timeout', 'fromMirrorRegistry'];

/**
 * `mreg upgrade --sslCert F --sslKey K [--sslCheckSkip]` is `mreg cert rotate` with those files.
 * Resolves false (upgrade goes on) when no certificate flag is given; throws UsageError when one is
 * mixed with image flags, since a rollback of one would have to undo the other.
 */
export async function upgradeCertAlias(ctx: CommandContext): Promise<boolean> {
  const { flags } = ctx;
  if (flags.sslCert === undefined && flags.sslKey === undefined && !flags.sslCheckSkip) return false;
  const mixed = UPGRADE_ONLY.filter(k => flags[k] !== undefined && flags[k] !== false);
  if (mixed.length > 0) {
    throw new UsageError(`mreg upgrade --sslCert/--sslKey replaces the certificate only; it cannot be combined with ${mixed.map(k => `--${k}`).join(', ')}`,
      'run mreg upgrade with the image flags, then mreg cert rotate --sslCert FILE --sslKey FILE');
  }
  if (flags.sslCert === undefined && flags.sslKey === undefined) {
    throw new UsageError('--sslCheckSkip applies to --sslCert/--sslKey only', 'mreg upgrade --sslCert FILE --sslKey FILE --sslCheckSkip');
  }
  if (flags.sslCert === undefined || flags.sslKey === undefined) {
    throw new UsageError(`${flags.sslCert === undefined ? '--sslKey' : '--sslCert'} given alone: mreg upgrade needs --sslCert FILE and --sslKey FILE together`,
      'to reissue the certificate from mreg\'s CA, run mreg cert rotate');
  }
  await cert({ ...ctx, args: ['rotate'] });
  return true;
}

function str(flags: Record<string, unknown>, key: string): string | undefined {
  const v = flags[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${key} needs a file name`, 'see: mreg cert --help');
  return v;
}

async function rotate(ctx: CommandContext, probe: HostProbe, layout: QuayRootLayout, record: InstallRecord): Promise<void> {
  const { out, flags, host } = ctx;
  const { readFile, waitForHealth } = host.inspect(probe);
  const spec = record.spec;
  const started = Date.now();
  // Every check runs before anything changes, also for --dry-run.
  const pair = await chooseNewPair(record, layout, {
    certPath: str(flags, 'sslCert'), keyPath: str(flags, 'sslKey'), skipCheck: Boolean(flags.sslCheckSkip), now: probe.now,
  });
  const oldPem = await readFile(layout.sslCert);
  const previous = oldPem ? safeFingerprint(oldPem) : null;
  const fingerprint = leafFingerprint(pair.certPem);
  const summary = {
    source: pair.source, hostname: spec.hostname, port: spec.port, certificate: layout.sslCert,
    fingerprint256: fingerprint, previousFingerprint256: previous, expires: leafExpiry(pair.certPem),
  };

  if (flags.dryRun) {
    const actions = [
      pair.source === 'reissue' ? `issue a new server certificate for ${spec.hostname} from ${layout.caCert}` : `install ${pair.tls.kind === 'provided' ? pair.tls.certPath : ''} (checked)`,
      `write ${layout.sslKey} and ${layout.sslCert} (mode 0640)`,
      `record spec.tls in ${layout.record}`,
      `restart ${UNITS.app} only and wait for its job`,
      `wait for https://${spec.hostname}:${spec.port}/health/instance`,
      `check that 127.0.0.1:${spec.port} serves the new certificate`,
    ];
    if (out.json) out.resultJson({ dryRun: true, ...summary, actions });
    else { actions.forEach((a, i) => out.result(`${i + 1}. ${a}`)); out.info('dry run: nothing was changed'); }
    return;
  }

  const release = await host.lock(probe);
  try {
    // Kept in memory: if Quay does not come back with the new pair, the old one goes back.
    const before = previousPair(oldPem, await readFile(layout.sslKey));
    await out.step('install the new certificate', async () => {
      await installPair(layout, pair);
      const updated: InstallRecord = { ...record, updatedAt: probe.now.toISOString(), spec: { ...spec, tls: pair.tls } };
      await host.files.write(layout.record, serializeRecord(updated), 0o600);
    });
    try {
      await restartApp(ctx, probe);
      // A --sslCheckSkip pair may be expired or not chain to a CA mreg holds, so the verifying probe cannot judge it;
      // the restart job itself ended at "healthy" (the unit's healthcheck), and the fingerprint check follows.
      if (!(pair.tls.kind === 'provided' && pair.tls.skipCheck)) {
        const ca = healthCas('provided', { servedPem: pair.certPem, caPem: pair.caPem, hostBundle: await readHostBundle() });
        await out.step('registry health', () => waitForHealth({ hostname: spec.hostname, port: spec.port, ca }, HEALTH_TIMEOUT_MS, { intervalMs: 250 }));
      }
      await out.step('registry serves the new certificate', () => checkServed(spec.hostname, spec.port, fingerprint, layout));
    } catch (err) {
      const failure = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      if (!before) throw rotateFailure(failure, { ok: false, noPrevious: true }, layout, probe.scope);
      out.warn(`the new certificate failed (${failure}); restoring the previous one`);
      let rollback: RollbackResult = { ok: true };
      try {
        await out.step('restore the previous certificate', async () => {
          await installPair(layout, before);
          await host.files.write(layout.record, serializeRecord(record), 0o600);
        });
        await restartApp(ctx, probe);
        const ca = healthCas('provided', { servedPem: before.certPem, caPem: await readFile(layout.caCert), hostBundle: await readHostBundle() });
        if (!(spec.tls.kind === 'provided' && spec.tls.skipCheck)) {
          await out.step('registry health', () => waitForHealth({ hostname: spec.hostname, port: spec.port, ca }, HEALTH_TIMEOUT_MS, { intervalMs: 250 }));
        }
      } catch (err2) {
        rollback = { ok: false, error: err2 instanceof Error ? err2.message.split('\n')[0]! : String(err2) };
      }
      throw rotateFailure(failure, rollback, layout, probe.scope);
    }
  } finally {
    await release();
  }
  const result = { ...summary, restarted: [UNITS.app], served: true, durationMs: Date.now() - started };
  if (out.json) { out.resultJson(result); return; }
  out.result([
    `mreg: ${pair.source === 'reissue' ? 'reissued the server certificate from mreg\'s CA' : 'installed your certificate'}; the registry serves it`,
    `Certificate: ${layout.sslCert} (expires ${summary.expires.slice(0, 10)})`,
    `SHA-256:     ${fingerprint}`,
    ...(previous && previous !== fingerprint ? [`Replaced:    ${previous}`] : []),
    ...(pair.source === 'provided' ? ['Clients must trust its CA: mreg cert trust (if the file includes the CA), or install the CA yourself'] : []),
  ].join('\n'));
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

function safeFingerprint(pem: string): string | null {
  try { return leafFingerprint(pem); } catch { return null; }
}

/** The health probe passed; now the handshake must present exactly the new leaf. */
async function checkServed(hostname: string, port: number, want: string, layout: QuayRootLayout): Promise<void> {
  let got = '';
  for (let i = 0; i < 10; i++) {
    got = await servedFingerprint(hostname, port).catch((e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`);
    if (got === want) return;
    await new Promise(r => setTimeout(r, 500));
  }
  throw new HostError(`127.0.0.1:${port} serves a different certificate (${got}) than ${layout.sslCert} (${want})`,
    'check for another listener on the port, then: mreg logs quay-app');
}


async function trust(ctx: CommandContext, probe: HostProbe, layout: QuayRootLayout, record: InstallRecord): Promise<void> {
  const { out, flags, host } = ctx;
  const { readFile } = host.inspect(probe);
  const spec = record.spec;
  const anchor = trustAnchor(record, layout, { caPem: await readFile(layout.caCert), servedPem: await readFile(layout.sslCert) });
  if (!anchor.ok) throw new HostError(anchor.why);
  const dir = certsDDir(probe, spec.hostname, spec.port);
  const target = join(dir, 'ca.crt');
  const unchanged = (await readFile(target)) === anchor.pem;
  if (flags.dryRun) {
    const actions = unchanged ? [`${target} already holds the CA; nothing to do`] : [`create ${dir}`, `write ${target} (mode 0644) from ${anchor.from}`, `add ${target} to ${layout.record} so mreg down --purge removes it`];
    if (out.json) out.resultJson({ dryRun: true, path: target, from: anchor.from, unchanged, actions });
    else { actions.forEach((a, i) => out.result(`${i + 1}. ${a}`)); out.info('dry run: nothing was changed'); }
    return;
  }
  if (!unchanged) {
    await host.files.makeDir(dir, 0o755);
    await host.files.write(target, anchor.pem, 0o644);
  }
  // Recorded so `mreg down --purge` removes it with the other files mreg made outside quayRoot (plain down keeps it).
  if (!record.files.includes(target)) {
    const updated: InstallRecord = { ...record, files: [...record.files, target].sort() };
    await host.files.write(layout.record, serializeRecord(updated), 0o600);
  }
  if (out.json) { out.resultJson({ path: target, from: anchor.from, unchanged, fingerprint256: leafFingerprint(anchor.pem) }); return; }
  out.result(unchanged ? `mreg: ${target} already trusts the registry's CA; nothing changed`
    : `mreg: podman and skopeo${probe.scope === 'rootless' ? ` (as ${probe.user})` : ''} now trust ${spec.hostname}:${spec.port} via ${target}`);
  out.info(`    oc uses the system trust store or --certificate-authority=${target}`);
}

