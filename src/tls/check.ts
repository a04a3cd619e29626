// Checks on certificates: user-supplied --sslCert/--sslKey, expiry for `mreg status`, and "was this leaf signed by our CA".
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { HostError } from '../errors.js';
import { readCertFields } from './x509.js';

/** `mreg status` warns when the server certificate expires within this many days. */
export const EXPIRY_WARN_DAYS = 30;

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';

/** The CERTIFICATE blocks of a PEM file in file order (leaf first, then its issuers); other blocks ignored. */
export function splitPemChain(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map(b => `${b}\n`) ?? [];
}

/**
 * Checks a user-supplied certificate file (leaf first, optional intermediates) and key, all at once.
 * Returns one line per problem, each naming the flag (`certFlag`/`keyFlag`, e.g. "--sslCert /p/c.pem")
 * and the fix; [] means fine. Hostname coverage follows Go clients (podman, skopeo, oc): SAN only,
 * no CN fallback, no partial wildcards. Quay's own start-up validation makes the same check and exits
 * on failure (quay/quay v3.12.21 conf/init/d_validate_config_bundle.sh, config-tool
 * ValidateCertPairWithHostname), so no flag turns it off: the result could never start.
 * `skipCheck` (--sslCheckSkip) leaves only what Quay checks: key and certificate match, SAN names the
 * host. Expiry, chain order and key usage are then the user's call.
 */
export function checkProvidedCert(opts: {
  certPem: string;
  keyPem: string;
  hostname: string;
  now: Date;
  skipCheck?: boolean;
  certFlag?: string;
  keyFlag?: string;
}): string[] {
  const cf = opts.certFlag ?? '--sslCert';
  const kf = opts.keyFlag ?? '--sslKey';
  const generate = `omit ${flagName(cf)} and ${flagName(kf)} to let mreg generate one`;
  const problems: string[] = [];

  const blocks = splitPemChain(opts.certPem);
  if (blocks.length === 0)
    problems.push(`${cf}: no PEM certificate found (expected -----BEGIN CERTIFICATE-----); supply a PEM certificate or ${generate}`);
  const certs: X509Certificate[] = [];
  blocks.forEach((block, i) => {
    try {
      certs.push(new X509Certificate(block));
    } catch (e) {
      problems.push(`${cf}: certificate #${i + 1} cannot be parsed (${short(e)}); supply a valid PEM certificate or ${generate}`);
    }
  });

  const key = readKey(opts.keyPem, kf, cf, problems);
  if (certs.length !== blocks.length) return problems; // an unreadable block: later checks would mislead
  const [leaf] = certs;
  if (!leaf) return problems;

  if (key && !leaf.checkPrivateKey(key)) {
    const at = certs.findIndex(c => c.checkPrivateKey(key));
    // Misordered: every check below would be about the wrong certificate, so this line is the whole story.
    if (at > 0)
      return [...problems, `${cf}: the certificate for ${flagName(kf)} is #${at + 1} in the file; put the server certificate first, then its intermediates`];
    problems.push(`${kf}: key does not match the certificate in ${cf}; supply the private key that belongs to that certificate`);
  }

  if (!opts.skipCheck) certs.forEach((cert, i) => {
    const which = i === 0 ? 'certificate' : `chain certificate #${i + 1} (${cert.subject.replace(/\n/g, ', ')})`;
    const { notBefore, notAfter } = readCertFields(cert.raw);
    if (opts.now < notBefore)
      problems.push(`${cf}: ${which} is not valid before ${notBefore.toISOString().replace('.000Z', 'Z')}; check this host's clock or supply a current certificate`);
    if (opts.now > notAfter)
      problems.push(`${cf}: ${which} expired on ${notAfter.toISOString().slice(0, 10)}; supply a current certificate or ${generate}`);
    const issuer = certs[i + 1];
    if (issuer && !certMatchesCa(cert.toString(), issuer.toString()))
      problems.push(`${cf}: certificate #${i + 1} is not issued by certificate #${i + 2}; order the file leaf first, then each issuer`);
  });

  const eku = leaf.keyUsage; // node names the extendedKeyUsage OIDs "keyUsage"
  if (!opts.skipCheck && eku && eku.length > 0 && !eku.includes(SERVER_AUTH) && !eku.includes(ANY_EKU))
    problems.push(`${cf}: certificate's extendedKeyUsage lacks serverAuth, so podman and skopeo reject it; supply a TLS server certificate`);

  {
    const host = opts.hostname.toLowerCase().replace(/\.$/, '');
    const covered = isIP(host)
      ? leaf.checkIP(host) !== undefined
      : leaf.checkHost(host, { subject: 'never', partialWildcards: false }) !== undefined;
    if (!covered) {
      const names = leaf.subjectAltName ? `it names ${leaf.subjectAltName}` : 'it has no subjectAltName, and clients ignore the CN';
      problems.push(
        `${cf}: certificate does not cover ${host} (${names}), and Quay refuses to start with it (even with --sslCheckSkip); supply one with subjectAltName ${isIP(host) ? 'IP' : 'DNS'}:${host}, or use a name it covers as --quayHostname`,
      );
    }
  }
  return problems;
}

function readKey(pem: string, kf: string, cf: string, problems: string[]): KeyObject | undefined {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    problems.push(`${kf}: the private key is encrypted; supply it decrypted (openssl pkey -in key.pem -out plain.pem)`);
    return undefined;
  }
  try {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new Error('no PEM private key found');
    return createPrivateKey(pem);
  } catch (e) {
    problems.push(`${kf}: not a readable private key (${short(e)}); supply the unencrypted PEM private key for ${flagName(cf)}`);
    return undefined;
  }
}

/** The notAfter of the first certificate in `certPem`. Throws HostError when there is none. */
export function certExpiry(certPem: string): Date {
  return readCertFields(firstCert(certPem).raw).notAfter;
}

/** True when the certificate expires within EXPIRY_WARN_DAYS of `now` (or already has). */
export function expiresSoon(certPem: string, now: Date, days = EXPIRY_WARN_DAYS): boolean {
  return certExpiry(certPem).getTime() - now.getTime() < days * 86_400_000;
}

/** True when the first certificate in `certPem` names the CA as issuer and its signature verifies with the CA's key. */
export function certMatchesCa(certPem: string, caPem: string): boolean {
  const leaf = firstCert(certPem);
  const ca = firstCert(caPem);
  return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
}

function firstCert(pem: string): X509Certificate {
  const [block] = splitPemChain(pem);
  try {
    if (!block) throw new Error('no PEM certificate found');
    return new X509Certificate(block);
  } catch (cause) {
    throw new HostError(`not a PEM certificate: ${short(cause)}`, undefined, { cause });
  }
}

const flagName = (label: string): string => label.split(' ')[0] ?? label;

function short(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, '').trim() || 'unreadable';
}
