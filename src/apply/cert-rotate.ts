// `mreg cert rotate` / `mreg cert trust`: choose the new served pair (checked user files, or a fresh
// leaf from mreg's CA), plan its writes for the executor; pick the CA clients should trust.
import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { action, type Action } from '../actions/action.js';
import type { InspectPorts } from '../actions/ports.js';
import { HostError, UsageError } from '../errors.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { TlsSource } from '../install-spec/spec.js';
import { checkProvidedCert, createCa, issueServerCert, splitPemChain, type KeyPair } from '../tls/index.js';
import { CA_KEY_MODE, caCommonName } from './tls-step.js';

/** Same mode `up` uses: the container's gid 0 must read the pair. */
const SERVED_MODE = 0o640;

export interface NewPair {
  /** 'provided' = the user's files; 'reissue' = a new leaf from mreg's CA; 'new-ca' = from a CA made now (--new-ca). */
  source: 'provided' | 'reissue' | 'new-ca';
  certPem: string;
  keyPem: string;
  /** What the install record's spec.tls becomes. */
  tls: TlsSource;
  /** PEM of mreg's CA when reissuing (to verify the served chain). */
  caPem?: string;
  /** --new-ca: the CA to write in place of quay-rootCA's (or where there was none). */
  newCa?: KeyPair;
}

export interface RotateInput {
  certPath?: string;
  keyPath?: string;
  skipCheck: boolean;
  /** --new-ca: a new CA, and the leaf from it. */
  newCa?: boolean;
  now: Date;
}

/**
 * The pair to install, after the checks `up` makes; files are read with `readFile`. Throws UsageError
 * (nothing changed) on bad input: one flag without the other, unreadable files, every problem of
 * checkProvidedCert, or a reissue asked of an install that serves the user's own certificate (a leaf
 * from mreg's CA would break its clients).
 */
export async function chooseNewPair(record: InstallRecord, layout: QuayRootLayout, input: RotateInput, readFile: InspectPorts['readFile']): Promise<NewPair> {
  const spec = record.spec;
  if ((input.certPath === undefined) !== (input.keyPath === undefined)) {
    throw new UsageError(`${input.certPath === undefined ? '--sslKey' : '--sslCert'} given alone: pass --sslCert FILE and --sslKey FILE together, or neither to reissue from mreg's CA`);
  }
  refuseNewCaWithFiles(input);
  if (input.certPath !== undefined && input.keyPath !== undefined) {
    const certPath = resolve(input.certPath);
    const keyPath = resolve(input.keyPath);
    const problems: string[] = [];
    const certPem = await readInput(readFile, '--sslCert', certPath, problems);
    const keyPem = await readInput(readFile, '--sslKey', keyPath, problems);
    if (certPem !== undefined && keyPem !== undefined) {
      problems.push(...checkProvidedCert({
        certPem, keyPem, hostname: spec.hostname, now: input.now, skipCheck: input.skipCheck,
        certFlag: `--sslCert ${certPath}`, keyFlag: `--sslKey ${keyPath}`,
      }));
    }
    if (problems.length > 0) throw new UsageError(problems, 'nothing was changed');
    return { source: 'provided', certPem: certPem!, keyPem: keyPem!, tls: { kind: 'provided', certPath, keyPath, skipCheck: input.skipCheck } };
  }
  if (input.skipCheck) throw new UsageError('--sslCheckSkip applies to --sslCert/--sslKey only; a reissued certificate always names the hostname');
  if (input.newCa) {
    // Back from a pair of the user's, or away from a CA near its end (mirror-registry's lasts 1024 days, adopt keeps it).
    const ca = createCa({ commonName: caCommonName(spec.hostname), now: input.now });
    const leaf = issueServerCert({ ca, hostname: spec.hostname, now: input.now });
    return { source: 'new-ca', certPem: leaf.certPem, keyPem: leaf.keyPem, tls: { kind: 'generate' }, caPem: ca.certPem, newCa: ca };
  }
  if (spec.tls.kind === 'provided') {
    throw new UsageError(`this install serves your own certificate (${spec.tls.certPath}); pass --sslCert FILE --sslKey FILE with its replacement`,
      'or --new-ca to serve a certificate from a new CA of mreg\'s (clients must then trust it: mreg cert trust)');
  }
  const caPem = await readFile(layout.caCert);
  const caKey = await readFile(layout.caKey);
  if (caPem === undefined || caKey === undefined) {
    throw new HostError(`mreg's CA is missing (${layout.caCert}, ${layout.caKey}); cannot reissue the server certificate`,
      'run mreg up: it creates a new CA (clients must then trust it again: mreg cert trust)');
  }
  // issueServerCert derives the short name (SAN) from the hostname exactly as up does.
  const leaf = issueServerCert({ ca: { certPem: caPem, keyPem: caKey }, hostname: spec.hostname, now: input.now });
  return { source: 'reissue', certPem: leaf.certPem, keyPem: leaf.keyPem, tls: { kind: 'generate' }, caPem };
}

/** --new-ca and a pair of the user's are two answers to one question: refused before anything is read. */
export function refuseNewCaWithFiles(input: { newCa?: boolean; certPath?: string; keyPath?: string }): void {
  if (input.newCa && (input.certPath !== undefined || input.keyPath !== undefined)) {
    throw new UsageError('--new-ca with --sslCert/--sslKey: choose one; your own pair needs no CA from mreg', 'nothing was changed; see: mreg cert --help');
  }
}

async function readInput(readFile: InspectPorts['readFile'], flag: string, path: string, problems: string[]): Promise<string | undefined> {
  const text = await readFile(path).catch(() => undefined);
  if (text === undefined) problems.push(`${flag} ${path}: file not found or not readable; give the path of a PEM ${flag === '--sslCert' ? 'certificate' : 'private key'}`);
  return text;
}

/** The pair into quay-config/ (key first: a cert without its key is never served). */
export function planPairWrites(layout: QuayRootLayout, pair: Pick<NewPair, 'certPem' | 'keyPem'>, progress: string): Action[] {
  return [
    action({ kind: 'write-file', path: layout.sslKey, content: pair.keyPem, mode: SERVED_MODE }, progress),
    action({ kind: 'write-file', path: layout.sslCert, content: pair.certPem, mode: SERVED_MODE }, progress),
  ];
}

/** The pair being replaced, for a rollback; undefined when either file is missing. */
export function previousPair(certPem: string | undefined, keyPem: string | undefined): Pick<NewPair, 'certPem' | 'keyPem'> | undefined {
  return certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : undefined;
}

/**
 * The pair a rotation replaces and the record's TLS with it: what its rollback puts back. `ca`: with --new-ca,
 * the CA it replaces (null: the install had none, as one on a pair of the user's).
 */
export type KeptPair = Pick<NewPair, 'certPem' | 'keyPem' | 'tls'> & { ca?: KeyPair | null };

/** The new CA (key first, owner only), or the kept one back; null removes the CA a rotation made. */
export function planCaWrites(layout: QuayRootLayout, ca: KeyPair | null, progress: string): Action[] {
  if (ca === null) return [action({ kind: 'remove-file', path: layout.caKey }, progress), action({ kind: 'remove-file', path: layout.caCert }, progress)];
  return [
    action({ kind: 'make-dir', path: layout.caDir, mode: 0o700 }, progress),
    action({ kind: 'write-file', path: layout.caKey, content: ca.keyPem, mode: CA_KEY_MODE }, progress),
    action({ kind: 'write-file', path: layout.caCert, content: ca.certPem, mode: 0o644 }, progress),
  ];
}

// A rotation keeps the pair it replaces on disk (layout.certRotatePrevious) until it ends. Kept in memory
// only, a rotation killed while quay-app restarts (Ctrl-C in the health wait) left the new pair on disk, and
// the next rotation took that for the previous one: a pair that failed would be "restored" on the next failure.

/** The kept pair, if an earlier rotation stopped midway; a file that is not one is ignored (the pair on disk is used). */
export function parseKeptPair(text: string | undefined): KeptPair | undefined {
  if (text === undefined) return undefined;
  try {
    const k = JSON.parse(text) as Partial<KeptPair>;
    const tlsOk = k.tls?.kind === 'generate' || (k.tls?.kind === 'provided' && typeof k.tls.certPath === 'string' && typeof k.tls.keyPath === 'string' && typeof k.tls.skipCheck === 'boolean');
    const caOk = k.ca === undefined || k.ca === null || (typeof k.ca.certPem === 'string' && typeof k.ca.keyPem === 'string');
    if (typeof k.certPem !== 'string' || typeof k.keyPem !== 'string' || !tlsOk || !caOk) return undefined;
    return { certPem: k.certPem, keyPem: k.keyPem, tls: k.tls!, ...(k.ca !== undefined ? { ca: k.ca } : {}) };
  } catch {
    return undefined;
  }
}

export type RollbackResult = { ok: true } | { ok: false; error: string } | { ok: false; noPrevious: true };

/**
 * The exit-1 error after the new pair failed (`failure`: what went wrong with it) and a rollback was
 * tried: says whether the previous certificate is served again, and what to do next.
 */
export function rotateFailure(failure: string, rollback: RollbackResult, layout: Pick<QuayRootLayout, 'sslCert' | 'sslKey'>, scope: 'rootful' | 'rootless'): HostError {
  const logs = `${scope === 'rootless' ? 'journalctl --user' : 'journalctl'} -u quay-app.service, or mreg logs quay-app`;
  if (rollback.ok) {
    return new HostError(`quay-app did not come back healthy with the new certificate (${failure}); the previous certificate was restored and the registry is healthy again`,
      `nothing else changed; see why the new pair failed: ${logs}`);
  }
  if ('noPrevious' in rollback) {
    return new HostError(`quay-app did not come back healthy with the new certificate (${failure}); there was no previous pair to restore`,
      `see: ${logs}`);
  }
  return new HostError(`quay-app did not come back healthy with the new certificate (${failure}), and restoring the previous certificate failed too (${rollback.error})`,
    `the previous pair is back in ${layout.sslCert} and ${layout.sslKey}; see: ${logs}, then run mreg up`);
}

/** SHA-256 fingerprint (AA:BB:… as node prints it) of the first certificate in a PEM file. */
export function leafFingerprint(certPem: string): string {
  const [first] = splitPemChain(certPem);
  if (!first) throw new HostError('no PEM certificate found');
  return new X509Certificate(first).fingerprint256;
}

/** Expiry of the first certificate, ISO. */
export function leafExpiry(certPem: string): string {
  const [first] = splitPemChain(certPem);
  return new Date(new X509Certificate(first!).validTo).toISOString();
}

export type TrustAnchor = { ok: true; pem: string; from: string } | { ok: false; why: string };

/** Where the trusted CA comes from, as trust's step and report name it (the golden dry runs too). */
export function trustAnchorSource(tls: InstallRecord['spec']['tls']['kind'], layout: QuayRootLayout): string {
  return tls === 'generate' ? layout.caCert : `${layout.sslCert} (last certificate of the chain)`;
}

/**
 * The CA podman should trust for this install: mreg's CA, or for the user's own certificate the last
 * certificate of the installed chain when it is a CA. Pure apart from the caller's reads.
 */
export function trustAnchor(record: InstallRecord, layout: QuayRootLayout, files: { caPem?: string; servedPem?: string }): TrustAnchor {
  if (record.spec.tls.kind === 'generate') {
    if (files.caPem === undefined) return { ok: false, why: `mreg's CA ${layout.caCert} is missing; run mreg up to recreate it` };
    return { ok: true, pem: files.caPem, from: trustAnchorSource('generate', layout) };
  }
  const chain = splitPemChain(files.servedPem ?? '');
  const last = chain[chain.length - 1];
  if (!last) return { ok: false, why: `${layout.sslCert} has no certificate; run mreg cert rotate --sslCert FILE --sslKey FILE` };
  let cert: X509Certificate;
  try { cert = new X509Certificate(last); } catch { return { ok: false, why: `${layout.sslCert}: last certificate cannot be parsed` }; }
  if (!cert.ca) {
    return { ok: false, why: `the certificate in ${layout.sslCert} (from ${record.spec.tls.certPath}) includes no CA certificate; `
      + `copy the CA that issued it (${cert.issuer.replace(/\n/g, ', ')}) to the certs.d folder yourself, or append it to the file and run mreg cert rotate again` };
  }
  return { ok: true, pem: last, from: trustAnchorSource(record.spec.tls.kind, layout) };
}
