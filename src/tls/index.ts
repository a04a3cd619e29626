// mreg's TLS: a root CA and server certificate built on node:crypto, and checks on supplied or existing ones.
export { createCa, issueServerCert, SERVER_MAX_DAYS, SERVER_DEFAULT_DAYS, CA_DEFAULT_DAYS, BACKDATE_MS } from './x509.js';
export type { KeyPair } from './x509.js';
export { checkProvidedCert, certExpiry, expiresSoon, certMatchesCa, splitPemChain, EXPIRY_WARN_DAYS } from './check.js';
