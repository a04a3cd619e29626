// Builds X.509 v3 certificates (mreg's root CA and the TLS server certificate): node:crypto signs, we encode.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { HostError, UsageError } from '../errors.js';
import * as der from './der.js';

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** CA/Browser Forum and Apple cap TLS server certificates at 398 days; one day's margin. */
export const SERVER_MAX_DAYS = 397;
export const SERVER_DEFAULT_DAYS = 365;
export const CA_DEFAULT_DAYS = 3650;
/** notBefore is set this far back so a client whose clock runs slow still accepts a fresh certificate. */
export const BACKDATE_MS = 60 * 60 * 1000;

const OID = {
  commonName: '2.5.4.3',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  rsaWithSha256: '1.2.840.113549.1.1.11',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** keyUsage bit numbers, RFC 5280 §4.2.1.3. */
const KU = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/**
 * A self-signed ECDSA P-256 root CA valid for `days` (default 10 years) from `now` minus BACKDATE_MS.
 * basicConstraints CA:TRUE pathlen 0 (it signs leaves only) and keyUsage keyCertSign+cRLSign, both critical.
 */
export function createCa(opts: { commonName: string; now: Date; days?: number }): KeyPair {
  const days = checkDays(opts.days ?? CA_DEFAULT_DAYS, Infinity, 'CA');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = encodeName(opts.commonName);
  const ski = keyIdOf(spki);
  const extensions = [
    extension(OID.basicConstraints, true, der.seq(der.bool(true), der.int(0))),
    extension(OID.keyUsage, true, keyUsage([KU.keyCertSign, KU.cRLSign])),
    extension(OID.subjectKeyId, false, der.octets(ski)),
    extension(OID.authorityKeyId, false, der.seq(der.implicit(0, ski))),
  ];
  const certPem = signCertificate({ issuer: name, subject: name, spki, now: opts.now, days, extensions }, privateKey);
  return { certPem, keyPem: exportKey(privateKey) };
}

/**
 * An ECDSA P-256 server certificate signed by `ca`: CN = hostname; SANs hostname, the short name
 * (first label unless given) and localhost; keyUsage digitalSignature (critical), EKU serverAuth,
 * CA:FALSE. Validity `days` (default 365); more than SERVER_MAX_DAYS throws UsageError rather than
 * silently issuing something shorter than asked. Throws HostError when the CA's key doesn't match its cert.
 */
export function issueServerCert(opts: {
  ca: KeyPair;
  hostname: string;
  shortName?: string;
  now: Date;
  days?: number;
}): KeyPair {
  const days = checkDays(opts.days ?? SERVER_DEFAULT_DAYS, SERVER_MAX_DAYS, 'server');
  const ca = readCa(opts.ca);
  // Clients check the CA's validity too: a certificate from an expired CA is refused by every one of them.
  if (ca.notAfter.getTime() <= opts.now.getTime()) {
    throw new HostError(`the CA ${caFile(opts.ca)} expired on ${ca.notAfter.toISOString().slice(0, 10)}: podman and skopeo refuse any certificate it issues`,
      'run mreg cert rotate --new-ca: it makes a new CA and certificate (then trust the new CA where clients pull: mreg cert trust, and in the cluster); or serve a certificate of your own with --sslCert/--sslKey');
  }
  const host = opts.hostname.toLowerCase().replace(/\.$/, '');
  if (!host) throw new UsageError('server certificate: empty hostname');
  const short = opts.shortName ?? (isIP(host) || !host.includes('.') ? undefined : host.split('.')[0]);
  const names = [...new Set([host, short?.toLowerCase(), 'localhost'].filter((n): n is string => !!n))];
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const extensions = [
    extension(OID.basicConstraints, true, der.seq()),
    extension(OID.keyUsage, true, keyUsage([KU.digitalSignature])),
    extension(OID.extKeyUsage, false, der.seq(der.oid(OID.serverAuth))),
    extension(OID.subjectAltName, false, der.seq(...names.map(generalName))),
    extension(OID.subjectKeyId, false, der.octets(keyIdOf(spki))),
    extension(OID.authorityKeyId, false, der.seq(der.implicit(0, ca.keyId))),
  ];
  // Never past the CA: the certificate's own date is then the day clients stop trusting it.
  const tbs = { issuer: ca.subject, subject: encodeName(host), spki, now: opts.now, days, notAfterMax: ca.notAfter, extensions };
  return { certPem: signCertificate(tbs, ca.key), keyPem: exportKey(privateKey) };
}

function checkDays(days: number, max: number, what: string): number {
  if (!Number.isInteger(days) || days < 1)
    throw new UsageError(`${what} certificate validity ${days} days: must be a whole number of days ≥ 1`);
  if (days > max)
    throw new UsageError(
      `${what} certificate validity ${days} days exceeds the ${max}-day maximum that clients accept`,
      `ask for at most ${max} days`,
    );
  return days;
}

/** DNS names go in as dNSName [2]; an IP literal as iPAddress [7], which is what clients match IPs against. */
function generalName(name: string): Buffer {
  if (isIP(name) === 4) return der.implicit(7, Buffer.from(name.split('.').map(Number)));
  if (isIP(name) === 6) return der.implicit(7, ipv6Bytes(name));
  return der.implicit(2, Buffer.from(name, 'ascii'));
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = ip.includes('::') ? groups(tail) : [];
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(all.map(g => g.padStart(4, '0')).join(''), 'hex');
}

const encodeName = (cn: string): Buffer => der.seq(der.set(der.seq(der.oid(OID.commonName), der.utf8(cn))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der.seq(der.oid(id), ...(critical ? [der.bool(true)] : []), der.octets(value));
}

/** A named-bit BIT STRING: DER drops trailing zero bits and records how many bits of the last byte are unused. */
function keyUsage(bits: number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return der.bitString(bytes, 7 - (highest & 7));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, as openssl computes it. */
function keyIdOf(spki: Buffer): Buffer {
  const [, bits] = der.children(spki, der.readNode(spki));
  if (!bits) throw new Error('SPKI without a public key');
  return createHash('sha1').update(der.contentOf(spki, bits).subarray(1)).digest();
}

interface Tbs {
  issuer: Buffer;
  subject: Buffer;
  spki: Buffer;
  now: Date;
  days: number;
  /** The latest notAfter allowed (the issuing CA's). */
  notAfterMax?: Date;
  extensions: Buffer[];
}

function signCertificate(t: Tbs, key: KeyObject): string {
  const notBefore = new Date(Math.floor(t.now.getTime() / 1000) * 1000 - BACKDATE_MS);
  const wanted = notBefore.getTime() + t.days * 86_400_000;
  const notAfter = new Date(t.notAfterMax ? Math.min(wanted, t.notAfterMax.getTime()) : wanted);
  // 16 random bytes, top bit clear (positive) and next bit set (exactly 16 bytes in DER): RFC 5280 allows ≤ 20.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const algorithm = signatureAlgorithm(key);
  const tbs = der.seq(
    der.explicit(0, der.int(2)), // v3
    der.int(serial),
    algorithm,
    t.issuer,
    der.seq(der.time(notBefore), der.time(notAfter)),
    t.subject,
    t.spki,
    der.explicit(3, der.seq(...t.extensions)),
  );
  const signature = sign('sha256', tbs, key); // ECDSA: DER Ecdsa-Sig-Value, as X.509 wants
  return toPem('CERTIFICATE', der.seq(tbs, algorithm, der.bitString(signature)));
}

/** Our CAs are EC; an RSA CA (e.g. an old mirror-registry rootCA.key) is accepted too. */
function signatureAlgorithm(key: KeyObject): Buffer {
  if (key.asymmetricKeyType === 'ec') return der.seq(der.oid(OID.ecdsaWithSha256));
  if (key.asymmetricKeyType === 'rsa') return der.seq(der.oid(OID.rsaWithSha256), der.nul());
  throw new HostError(
    `CA key type ${key.asymmetricKeyType}: not supported for signing`,
    'use an EC or RSA CA key, or remove the CA files so mreg generates a new CA',
  );
}

/** The CA's subject (byte-exact, to become the leaf's issuer) and its key id (for authorityKeyIdentifier). */
function readCa(ca: KeyPair): { subject: Buffer; keyId: Buffer; key: KeyObject; notAfter: Date } {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(ca.certPem);
    key = createPrivateKey(ca.keyPem);
  } catch (cause) {
    throw new HostError('CA certificate or key: not readable PEM', 'remove the CA files so mreg generates a new CA', { cause });
  }
  if (!cert.checkPrivateKey(key))
    throw new HostError('CA key does not match the CA certificate', 'restore the matching CA key, or remove both CA files so mreg generates a new CA');
  const fields = readCertFields(cert.raw);
  const ski = fields.extensions.get(OID.subjectKeyId); // an OCTET STRING inside extnValue
  const keyId = ski ? der.contentOf(ski, der.readNode(ski)) : keyIdOf(fields.spki);
  return { subject: fields.subject, keyId, key, notAfter: fields.notAfter };
}

/** The CA named for a message: its subject as openssl prints it. */
function caFile(ca: KeyPair): string {
  try { return `"${new X509Certificate(ca.certPem).subject.replace(/\n/g, ', ')}"`; } catch { return 'certificate'; }
}

export interface CertFields {
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  /** extnValue contents by dotted OID, for the few OIDs this module knows. */
  extensions: Map<string, Buffer>;
}

/** Walks a certificate's TBSCertificate for what node's X509Certificate doesn't expose as bytes or Dates. */
export function readCertFields(cert: Buffer): CertFields {
  const [tbsNode] = der.children(cert, der.readNode(cert));
  if (!tbsNode) throw new Error('certificate without TBSCertificate');
  const tbs = der.children(cert, tbsNode);
  const f = tbs[0]?.tag === 0xa0 ? tbs.slice(1) : tbs; // version is optional (v1)
  const [, , , validity, subject, spki] = f;
  if (!validity || !subject || !spki) throw new Error('certificate: truncated TBSCertificate');
  const [nb, na] = der.children(cert, validity);
  if (!nb || !na) throw new Error('certificate: bad validity');
  const extensions = new Map<string, Buffer>();
  const known = new Map(Object.values(OID).map(o => [der.oid(o).toString('hex'), o]));
  for (const wrapper of f.filter(n => n.tag === 0xa3)) {
    for (const ext of der.children(cert, der.children(cert, wrapper)[0] ?? wrapper)) {
      const parts = der.children(cert, ext);
      const id = known.get(der.bytesOf(cert, parts[0]!).toString('hex'));
      const value = parts[parts.length - 1];
      if (id && value) extensions.set(id, der.contentOf(cert, value));
    }
  }
  return {
    subject: der.bytesOf(cert, subject),
    notBefore: der.readTime(cert, nb),
    notAfter: der.readTime(cert, na),
    spki: der.bytesOf(cert, spki),
    extensions,
  };
}

function exportKey(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function toPem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
