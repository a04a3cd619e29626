// mreg cert trust: the registry's CA into podman's certs.d folder for host:port (so podman, skopeo and
// buildah trust it), recorded so `mreg down --purge` removes it; run again, it changes nothing.
import { join } from 'node:path';
import type { CommandContext } from '../cli.js';
import type { HostProbe } from '../actions/ports.js';
import { leafFingerprint, trustAnchor } from '../apply/cert-rotate.js';
import { HostError } from '../errors.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { serializeRecord, type InstallRecord } from '../install-spec/record.js';
import { certsDDir } from '../model/scope.js';

export async function trust(ctx: CommandContext, probe: HostProbe, layout: QuayRootLayout, record: InstallRecord): Promise<void> {
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
