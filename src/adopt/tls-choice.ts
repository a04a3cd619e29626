// Which certificate an adopted install serves, decided before anything stops (issue 15, 1 and 2).
// mirror-registry issues ssl.cert from quay-rootCA once (CA 1024 days, certificate 356) and never
// renews either; Red Hat documents replacing the certificate by copying new files into quay-config/.
// Pure over the PEM texts found.
import { UsageError } from '../errors.js';
import type { TlsSource } from '../install-spec/spec.js';
import { certExpiry, certMatchesCa, EXPIRY_WARN_DAYS } from '../tls/index.js';

export interface FoundTls {
  /** quay-root CA certificate and whether its key is there too. */
  caCertPem?: string;
  caKeyPresent: boolean;
  /** quay-config/ssl.cert as found. */
  certPem?: string;
  certPath: string;
  keyPath: string;
  caPath: string;
}

export interface TlsChoice {
  tls: TlsSource;
  /** Move the old CA aside and make a new one (--new-ca). */
  newCa: boolean;
  /** For the user: what is kept and why. */
  notes: string[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** notAfter, or undefined for text that holds no readable certificate. */
function expiry(pem: string | undefined): Date | undefined {
  if (!pem) return undefined;
  try { return certExpiry(pem); } catch { return undefined; }
}

function issuedBy(certPem: string, caPem: string): boolean {
  try { return certMatchesCa(certPem, caPem); } catch { return false; }
}

/**
 * `fromFlags`: --sslCert/--sslKey given to adopt (already checked as up checks them). Throws a
 * UsageError naming the choices when the found CA (or the user's own certificate, without a CA) has
 * expired: issuing from an expired CA gives clients a certificate they refuse.
 */
export function chooseAdoptTls(found: FoundTls, fromFlags: TlsSource | undefined, opts: { newCa: boolean; now: Date; hostname: string; port: number }): TlsChoice {
  if (fromFlags && opts.newCa) throw new UsageError('--new-ca with --sslCert/--sslKey: choose one; your own pair needs no CA from mreg');
  if (fromFlags) return { tls: fromFlags, newCa: false, notes: [`serving ${fromFlags.kind === 'provided' ? fromFlags.certPath : ''} (--sslCert); the old pair is backed up`] };
  if (opts.newCa) {
    return { tls: { kind: 'generate' }, newCa: true, notes: [`a new CA replaces ${found.caPath} (the old one is backed up); clients must trust it: ${trustSteps(found.caPath, opts.hostname, opts.port)}`] };
  }
  const caUntil = found.caKeyPresent ? expiry(found.caCertPem) : undefined;
  const certUntil = expiry(found.certPem);
  const choices = `give your own pair with --sslCert FILE --sslKey FILE, or --new-ca to make a new CA (clients must then trust it: ${trustSteps(found.caPath, opts.hostname, opts.port)}); nothing was stopped`;
  if (caUntil && (!certUntil || issuedBy(found.certPem!, found.caCertPem!))) {
    if (caUntil.getTime() <= opts.now.getTime()) {
      throw new UsageError(`${found.caPath}: the install's CA expired on ${day(caUntil)} (mirror-registry's CA lasts 1024 days and is never renewed); a certificate issued from it would be refused by every client`, choices);
    }
    // A certificate never outlives its CA (tls/x509.ts): one near its end is said now, with the way out.
    const soon = caUntil.getTime() - opts.now.getTime() < EXPIRY_WARN_DAYS * 86_400_000;
    return { tls: { kind: 'generate' }, newCa: false, notes: [`the install's CA (valid until ${day(caUntil)}) is kept; mreg renews ssl.cert from it`
      + (soon ? `, and ssl.cert ends with it: clients refuse the registry from ${day(caUntil)} unless you run mreg adopt with --new-ca now, or later mreg cert rotate --new-ca (${trustSteps(found.caPath, opts.hostname, opts.port)})` : '')] };
  }
  // No CA, or a pair the CA did not issue: the user's own, as Red Hat documents replacing it. Keep it.
  const why = caUntil ? `${found.certPath} was not issued by ${found.caPath}` : `there is no CA in ${found.caPath}`;
  if (certUntil && certUntil.getTime() <= opts.now.getTime()) {
    throw new UsageError(`${found.certPath}: expired on ${day(certUntil)} (${why}, so mreg cannot renew it)`, choices);
  }
  return {
    tls: { kind: 'provided', certPath: found.certPath, keyPath: found.keyPath, skipCheck: true },
    newCa: false,
    notes: [`${why}: kept as your own certificate${certUntil ? ` (valid until ${day(certUntil)})` : ''}`],
  };
}

/** What a client of the registry does to trust a new CA. */
export function trustSteps(caPath: string, hostname: string, port: number): string {
  return `on each podman host copy ${caPath} to /etc/containers/certs.d/${hostname}:${port}/ca.crt (mreg cert trust does it here); `
    + `on OpenShift: oc create configmap registry-cas -n openshift-config --from-file=${hostname}..${port}=${caPath} `
    + `&& oc patch image.config.openshift.io/cluster --type merge -p '{"spec":{"additionalTrustedCA":{"name":"registry-cas"}}}'`;
}
