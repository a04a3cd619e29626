// mreg cert rotate: the new pair chosen and checked (before any change, also for --dry-run), then its
// steps printed (--dry-run), or taken under the lock (switch-pair.ts) and reported.
import type { CommandContext } from '../cli.js';
import { lockAsRead } from '../actions/lock-as-read.js';
import type { HostProbe } from '../actions/ports.js';
import { chooseNewPair, leafExpiry, leafFingerprint, type NewPair } from '../apply/cert-rotate.js';
import { UsageError } from '../errors.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import { UNITS } from '../model/views.js';
import { CERT_STEP, rotateSteps } from '../plan/cert-steps.js';
import type { Output } from '../ui/output.js';
import { stepLog } from '../ui/step-log.js';
import { switchPair } from './switch-pair.js';

export async function rotate(ctx: CommandContext, probe: HostProbe, layout: QuayRootLayout, record: InstallRecord): Promise<void> {
  const { out, flags, host } = ctx;
  const { readFile } = host.inspect(probe);
  const spec = record.spec;
  const started = Date.now();
  const pair = await chooseNewPair(record, layout, {
    certPath: fileFlag(flags, 'sslCert'), keyPath: fileFlag(flags, 'sslKey'), skipCheck: Boolean(flags.sslCheckSkip), newCa: Boolean(flags.newCa), now: probe.now,
  }, readFile);
  const oldPem = await readFile(layout.sslCert);
  const fingerprint = leafFingerprint(pair.certPem);
  const summary: RotateSummary = {
    source: pair.source, hostname: spec.hostname, port: spec.port, certificate: layout.sslCert,
    fingerprint256: fingerprint, previousFingerprint256: oldPem ? safeFingerprint(oldPem) : null, expires: leafExpiry(pair.certPem),
  };
  if (flags.dryRun) {
    const plan = rotateSteps({ tls: pair.tls, newCa: pair.newCa !== undefined, hostname: spec.hostname, port: spec.port, layout });
    const actions = plan.map(s => s.text);
    if (out.json) out.resultJson({ dryRun: true, ...summary, actions, plan });
    else { actions.forEach((a, i) => out.result(`${i + 1}. ${a}`)); out.info('dry run: nothing was changed'); }
    return;
  }
  // The ids of the steps this run took, in rotateSteps' order: `--json` reports them beside the dry run's plan.
  const log = stepLog(out);
  log.did(CERT_STEP.newPair);
  const release = await lockAsRead(host, probe, { quayRoot: layout.root, record }, 'mreg cert rotate');
  try {
    await switchPair(ctx, { probe, layout, record, pair, fingerprint }, log.did);
  } finally {
    await release();
  }
  reportRotated(out, layout, pair, summary, { restarted: [UNITS.app], served: true, durationMs: Date.now() - started, steps: log.ran });
}

type RotateSummary = {
  source: NewPair['source']; hostname: string; port: number; certificate: string;
  fingerprint256: string; previousFingerprint256: string | null; expires: string;
};

const SAID: Record<NewPair['source'], string> = {
  reissue: 'reissued the server certificate from mreg\'s CA', provided: 'installed your certificate', 'new-ca': 'made a new CA and a server certificate from it',
};

function reportRotated(out: Output, layout: QuayRootLayout, pair: NewPair, summary: RotateSummary, run: { restarted: string[]; served: boolean; durationMs: number; steps: readonly string[] }): void {
  if (out.json) { out.resultJson({ ...summary, ...run }); return; }
  const previous = summary.previousFingerprint256;
  out.result([
    `mreg: ${SAID[pair.source]}; the registry serves it`,
    `Certificate: ${summary.certificate} (expires ${summary.expires.slice(0, 10)})`,
    `SHA-256:     ${summary.fingerprint256}`,
    ...(previous && previous !== summary.fingerprint256 ? [`Replaced:    ${previous}`] : []),
    ...(pair.source === 'provided' ? ['Clients must trust its CA: mreg cert trust (if the file includes the CA), or install the CA yourself'] : []),
    ...(pair.source === 'new-ca' ? [
      `New CA:      ${layout.caCert}; clients that trusted the previous certificate's CA must trust this one:`,
      `             mreg cert trust here; elsewhere copy it to /etc/containers/certs.d/${summary.hostname}:${summary.port}/ca.crt, and to the`,
      '             OpenShift cluster\'s additionalTrustedCA (image.config.openshift.io/cluster) before it pulls again',
    ] : []),
  ].join('\n'));
}

/** --sslCert/--sslKey: a file name, or undefined when not given. */
function fileFlag(flags: Record<string, unknown>, key: string): string | undefined {
  const v = flags[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${key} needs a file name`, 'see: mreg cert --help');
  return v;
}

function safeFingerprint(pem: string): string | null {
  try { return leafFingerprint(pem); } catch { return null; }
}
