// TLS for an install: reuse or create mreg's root CA, reuse or (re)issue the server certificate,
// or check and install the user's own pair. The CA is never regenerated once it exists.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { action } from '../actions/action.js';
import { executeActions, filesOnly } from '../actions/execute.js';
import type { FilePorts } from '../actions/ports.js';
import { readIfExists } from '../host/fs.js';
import { quayRootDirs } from '../plan/writes.js';
import type { Output } from '../ui/output.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { certExpiry, certMatchesCa, checkProvidedCert, createCa, expiresSoon, issueServerCert, type KeyPair } from '../tls/index.js';

export interface TlsResult {
  /** PEM of the CA clients should trust; undefined for a user-supplied certificate. */
  caPem?: string;
  caPath?: string;
  certPem: string;
  changed: string[];
}

/** Key files: owner-only (0600). The served pair is group-readable (0640) so the container's gid 0 can read it. */
/** mreg's CA key: owner only. */
export const CA_KEY_MODE = 0o600;

/** The subject of the CA mreg makes (up, and cert rotate --new-ca). */
export const caCommonName = (hostname: string) => `mreg root CA for ${hostname}`;
const SERVED_MODE = 0o640;

/**
 * Reads what is there, decides what the files must hold (a new CA or key pair only where none can be kept),
 * and has the executor write them: a file already as wanted only gets its mode back; `changed` is what it wrote.
 */
export async function ensureTls(spec: InstallSpec, layout: QuayRootLayout, now: Date, shortName: string | undefined, io: { files: FilePorts; out: Output }): Promise<TlsResult> {
  const wanted = await tlsFiles(spec, layout, now, shortName);
  const dirs = [
    ...quayRootDirs(layout),
    ...(spec.tls.kind === 'generate' ? [action({ kind: 'make-dir', path: layout.caDir, mode: 0o700, exact: true })] : []),
  ];
  // In tlsFiles' order: mreg's own key before its certificate, so a kill between them leaves no certificate without its key.
  const writes = wanted.files.map(f => action({ kind: 'write-file', ...f }));
  const { written } = await executeActions([...dirs, ...writes], filesOnly(io.files), { out: io.out });
  return { ...wanted.result, changed: written };
}

interface Wanted { files: { path: string; content: string; mode: number }[]; result: Omit<TlsResult, 'changed'> }

async function tlsFiles(spec: InstallSpec, layout: QuayRootLayout, now: Date, shortName: string | undefined): Promise<Wanted> {
  if (spec.tls.kind === 'provided') {
    const certPem = await readFile(spec.tls.certPath, 'utf8');
    const keyPem = await readFile(spec.tls.keyPath, 'utf8');
    const problems = checkProvidedCert({
      certPem, keyPem, hostname: spec.hostname, now, skipCheck: spec.tls.skipCheck,
      certFlag: `--sslCert ${spec.tls.certPath}`, keyFlag: `--sslKey ${spec.tls.keyPath}`,
    });
    if (problems.length > 0) throw new UsageError(problems);
    return { files: [{ path: layout.sslCert, content: certPem, mode: SERVED_MODE }, { path: layout.sslKey, content: keyPem, mode: SERVED_MODE }], result: { certPem } };
  }

  // The CA is never made again once both its files exist.
  const caCert = await readIfExists(layout.caCert);
  const caKey = await readIfExists(layout.caKey);
  const ca: KeyPair = caCert && caKey ? { certPem: caCert, keyPem: caKey } : createCa({ commonName: caCommonName(spec.hostname), now });

  const current = await readIfExists(layout.sslCert);
  const currentKey = await readIfExists(layout.sslKey);
  // A certificate near its end is reissued, unless it already ends with the CA (a new one could not last
  // longer; status names the CA's date instead).
  const renewable = (pem: string) => expiresSoon(pem, now) && certExpiry(pem).getTime() < certExpiry(ca.certPem).getTime();
  const keep = current !== undefined && currentKey !== undefined
    && certMatchesCa(current, ca.certPem)
    && !renewable(current)
    && checkProvidedCert({ certPem: current, keyPem: currentKey, hostname: spec.hostname, now }).length === 0;
  const leaf = keep ? { certPem: current, keyPem: currentKey } : issueServerCert({ ca, hostname: spec.hostname, shortName, now });
  return {
    files: [
      { path: layout.caKey, content: ca.keyPem, mode: CA_KEY_MODE },
      { path: layout.caCert, content: ca.certPem, mode: 0o644 },
      { path: layout.sslKey, content: leaf.keyPem, mode: SERVED_MODE },
      { path: layout.sslCert, content: leaf.certPem, mode: SERVED_MODE },
    ],
    result: { caPem: ca.certPem, caPath: layout.caCert, certPem: leaf.certPem },
  };
}
