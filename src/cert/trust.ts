// mreg cert trust: the registry's CA into podman's certs.d folder for host:port (so podman, skopeo and
// buildah trust it), recorded so `mreg down --purge` removes it; run again, it changes nothing. Its steps
// are plan/cert-steps.ts's trustSteps.
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import { action } from '../actions/action.js';
import { executeActions, filesOnly } from '../actions/execute.js';
import type { HostProbe } from '../actions/ports.js';
import { leafFingerprint, trustAnchor } from '../apply/cert-rotate.js';
import { HostError } from '../errors.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import { certsDDir } from '../model/scope.js';
import { TRUST_STEP, trustSteps } from '../plan/cert-steps.js';
import { stepLog } from '../ui/step-log.js';

export async function trust(ctx: CommandContext, probe: HostProbe, layout: QuayRootLayout, record: InstallRecord): Promise<void> {
  const { out, flags, host } = ctx;
  const { readFile } = host.inspect(probe);
  const spec = record.spec;
  const anchor = trustAnchor(record, layout, { caPem: await readFile(layout.caCert), servedPem: await readFile(layout.sslCert) });
  if (!anchor.ok) throw new HostError(anchor.why);
  const dir = certsDDir(probe, spec.hostname, spec.port);
  const target = join(dir, 'ca.crt');
  const existing = await readFile(target);
  const unchanged = existing === anchor.pem;
  const recorded = record.files.includes(target);
  // A ca.crt mreg did not write is someone's trust of this name: copied aside, never just replaced (and
  // once recorded, mreg down --purge would delete the file).
  const keepsOther = existing !== undefined && !unchanged && !recorded ? `${target}.before-mreg` : undefined;
  const plan = trustSteps({ dir, target, from: anchor.from, unchanged, recorded, recordPath: layout.record, ...(keepsOther ? { keepsOther } : {}) });
  if (flags.dryRun) {
    const actions = plan.length > 0 ? plan.map(s => s.text) : [`${target} already holds the CA; nothing to do`];
    if (out.json) out.resultJson({ dryRun: true, path: target, from: anchor.from, unchanged, actions, plan });
    else { actions.forEach((a, i) => out.result(`${i + 1}. ${a}`)); out.info('dry run: nothing was changed'); }
    return;
  }
  // The ids of the steps this run took, in trustSteps' order: `--json` reports them beside the dry run's plan.
  const log = stepLog(out);
  if (plan.length > 0) {
    // Under the lock, with the record read again there: an up or upgrade that wrote it meanwhile keeps its change.
    const release = await host.lock(probe);
    try {
      // Recorded so `mreg down --purge` removes it with the other files mreg made outside quayRoot (plain down keeps it).
      const current = (await host.findInstall(flags, probe.scope, probe.home)).record;
      const steps = new Map<string, string[]>([[`write-file:${keepsOther}`, [TRUST_STEP.keepOther]], [`write-file:${target}`, [TRUST_STEP.dir, TRUST_STEP.writeCa]],
        [`write-record:${layout.record}`, [TRUST_STEP.record]]]);
      await executeActions([
        ...(keepsOther ? [action({ kind: 'write-file', path: keepsOther, content: existing!, mode: 0o644 })] : []),
        ...(unchanged ? [] : [action({ kind: 'make-dir', path: dir, mode: 0o755 }), action({ kind: 'write-file', path: target, content: anchor.pem, mode: 0o644 })]),
        ...(current.files.includes(target) ? [] : [action({ kind: 'write-record', path: layout.record, record: { ...current, files: [...current.files, target].sort() } })]),
      ], filesOnly(host.files), {
        out,
        done: a => {
          if (a.id === `write-file:${keepsOther}`) out.info(`    kept the ${target} mreg did not write as ${keepsOther}`);
          log.did(...(steps.get(a.id) ?? []));
        },
      });
    } finally {
      await release();
    }
  }
  if (out.json) { out.resultJson({ path: target, from: anchor.from, unchanged, fingerprint256: leafFingerprint(anchor.pem), steps: log.ran }); return; }
  out.result(unchanged ? `mreg: ${target} already trusts the registry's CA; nothing changed`
    : `mreg: podman and skopeo${probe.scope === 'rootless' ? ` (as ${probe.user})` : ''} now trust ${spec.hostname}:${spec.port} via ${target}`);
  out.info(`    oc uses the system trust store or --certificate-authority=${target}`);
}
