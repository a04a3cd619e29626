// TLS for an install: reuse or create mreg's root CA, reuse or (re)issue the server certificate,
// or check and install the user's own pair. The CA is never regenerated once it exists.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { ensureDir, ensureMode, readIfExists, writeFileAtomic } from '../host/fs.js';
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

export async function ensureTls(spec: InstallSpec, layout: QuayRootLayout, now: Date, shortName: string | undefined): Promise<TlsResult> {
  await ensureDir(layout.root, 0o700);
  await ensureDir(layout.configDir, 0o750);
  const changed: string[] = [];
  const put = async (path: string, content: string, mode: number) => {
    if ((await readIfExists(path)) === content) { await ensureMode(path, mode); return; }
    await writeFileAtomic(path, content, mode);
    changed.push(path);
  };

  if (spec.tls.kind === 'provided') {
    const certPem = await readFile(spec.tls.certPath, 'utf8');
    const keyPem = await readFile(spec.tls.keyPath, 'utf8');
    const problems = checkProvidedCert({
      certPem, keyPem, hostname: spec.hostname, now, skipCheck: spec.tls.skipCheck,
      certFlag: `--sslCert ${spec.tls.certPath}`, keyFlag: `--sslKey ${spec.tls.keyPath}`,
    });
    if (problems.length > 0) throw new UsageError(problems);
    await put(layout.sslCert, certPem, SERVED_MODE);
    await put(layout.sslKey, keyPem, SERVED_MODE);
    return { certPem, changed };
  }

  await ensureDir(layout.caDir, 0o700);
  let ca: KeyPair;
  const caCert = await readIfExists(layout.caCert);
  const caKey = await readIfExists(layout.caKey);
  if (caCert && caKey) {
    ca = { certPem: caCert, keyPem: caKey };
    await ensureMode(layout.caKey, CA_KEY_MODE);
  } else {
    ca = createCa({ commonName: caCommonName(spec.hostname), now });
    await put(layout.caKey, ca.keyPem, CA_KEY_MODE);
    await put(layout.caCert, ca.certPem, 0o644);
  }

  const current = await readIfExists(layout.sslCert);
  const currentKey = await readIfExists(layout.sslKey);
  // A certificate near its end is reissued, unless it already ends with the CA (a new one could not last
  // longer; status names the CA's date instead).
  const renewable = (pem: string) => expiresSoon(pem, now) && certExpiry(pem).getTime() < certExpiry(ca.certPem).getTime();
  const keep = current !== undefined && currentKey !== undefined
    && certMatchesCa(current, ca.certPem)
    && !renewable(current)
    && checkProvidedCert({ certPem: current, keyPem: currentKey, hostname: spec.hostname, now }).length === 0;
  let certPem = current ?? '';
  if (keep) {
    await ensureMode(layout.sslKey, SERVED_MODE);
    await ensureMode(layout.sslCert, SERVED_MODE);
  } else {
    const leaf = issueServerCert({ ca, hostname: spec.hostname, shortName, now });
    await put(layout.sslKey, leaf.keyPem, SERVED_MODE);
    await put(layout.sslCert, leaf.certPem, SERVED_MODE);
    certPem = leaf.certPem;
  }
  return { caPem: ca.certPem, caPath: layout.caCert, certPem, changed };
}
