// What a health probe verifies the served certificate with. mreg's own CA for a generated pair; for the
// user's own pair, the chain in the installed ssl.cert, the host's trust bundle and Node's roots: Node
// does not read the host's store, and a site CA in /etc/pki is where an admin's own certificate
// usually chains to, so the default context alone failed every probe of such an install.
import { rootCertificates } from 'node:tls';
import { readIfExists } from '../host/fs.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { splitPemChain } from '../tls/index.js';

// RHEL's and Debian's bundle of the host's trusted CAs (update-ca-trust, update-ca-certificates).
const HOST_BUNDLES = ['/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/certs/ca-certificates.crt'];

export interface HealthCaFiles {
  /** The install's CA (mreg's, or mirror-registry's quay-rootCA). */
  caPem?: string;
  /** The installed ssl.cert (leaf first, then its chain when the file has one). */
  servedPem?: string;
  /** The host's CA bundle. */
  hostBundle?: string;
}

/**
 * PEM text of the CAs to trust. `generate`: only the install's CA, so a probe proves the pair is the one
 * mreg issued. `provided`: anything the installed file or the host vouches for, and the install's CA when
 * given (mirror-registry's own pair, put back after a failed adopt, may be either). Pure.
 */
export function healthCas(kind: 'generate' | 'provided', files: HealthCaFiles): string | undefined {
  if (kind === 'generate') return files.caPem;
  return [...rootCertificates, ...splitPemChain(files.hostBundle ?? ''), ...splitPemChain(files.servedPem ?? ''),
    ...(files.caPem ? [files.caPem] : [])].join('\n');
}

/** healthCas over the files of `layout` (and the host's bundle for a user's own pair). */
export async function readHealthCas(kind: 'generate' | 'provided', layout: QuayRootLayout, opts: { withInstallCa?: boolean } = {}): Promise<string | undefined> {
  if (kind === 'generate') return healthCas(kind, { caPem: await readIfExists(layout.caCert) });
  const [servedPem, caPem, hostBundle] = await Promise.all([
    readIfExists(layout.sslCert),
    opts.withInstallCa ? readIfExists(layout.caCert) : undefined,
    readHostBundle(),
  ]);
  return healthCas(kind, { servedPem, caPem, hostBundle });
}

/** The host's CA bundle (the first of RHEL's and Debian's that exists). */
export async function readHostBundle(): Promise<string | undefined> {
  for (const path of HOST_BUNDLES) {
    const text = await readIfExists(path).catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}
