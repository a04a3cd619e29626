// The steps `mreg cert rotate` and `mreg cert trust` take, as their dry runs list them (`actions`; with
// --json `plan`, with ids). Pure; src/cert/ names each step it finishes with the same id (`--json` reports
// `steps`).
// Rollback to the previous pair is not a step, as in upgrade-steps.ts: the run then fails, and its
// `steps` end with the last step that finished before the failure.
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { TlsSource } from '../install-spec/spec.js';
import { UNITS } from '../model/views.js';
import { healthUrl, step, UP_STEP, type UpStep } from './up-steps.js';
import { UPGRADE_STEP } from './upgrade-steps.js';

/** The ids of rotate's steps: up's and upgrade's where the step is the same kind. */
export const CERT_STEP = {
  newPair: 'new-pair',
  writePair: 'write-pair',
  record: UP_STEP.record,
  restart: UPGRADE_STEP.restart(UNITS.app),
  health: UP_STEP.health,
  served: 'served-certificate',
} as const;

export interface RotateStepsInput {
  /** What the install record's spec.tls becomes: the user's checked files, or `generate` (a reissue from mreg's CA). */
  tls: TlsSource;
  /** --new-ca: a new CA replaces quay-rootCA's. */
  newCa?: boolean;
  hostname: string;
  port: number;
  layout: Pick<QuayRootLayout, 'certRotatePrevious' | 'caCert' | 'caKey' | 'sslCert' | 'sslKey' | 'record'>;
}

/**
 * Whether the health probe judges a pair: not one given with --sslCheckSkip, which may be expired or chain
 * to no CA mreg holds; quay-app's restart job still ends only once the unit's healthcheck passes.
 */
export function probesHealth(tls: TlsSource): boolean {
  return !(tls.kind === 'provided' && tls.skipCheck);
}

export function rotateSteps(i: RotateStepsInput): UpStep[] {
  const { layout, tls } = i;
  const S = CERT_STEP;
  return [
    step(S.newPair, tls.kind === 'provided' ? `install ${tls.certPath} (${tls.skipCheck ? '--sslCheckSkip: only what Quay checks, the key and the name' : 'checked'})`
      : i.newCa ? `make a new CA (ECDSA P-256) and issue a new server certificate for ${i.hostname} from it` : `issue a new server certificate for ${i.hostname} from ${layout.caCert}`),
    step(S.writePair, i.newCa
      ? `keep the pair and the CA it replaces in ${layout.certRotatePrevious} (0600) until the rotation ends; write ${layout.caKey} (0600), ${layout.caCert}, ${layout.sslKey} and ${layout.sslCert} (mode 0640)`
      : `keep the pair it replaces in ${layout.certRotatePrevious} (0600) until the rotation ends; write ${layout.sslKey} and ${layout.sslCert} (mode 0640)`),
    step(S.record, `record spec.tls in ${layout.record}`),
    step(S.restart, `restart ${UNITS.app} only and wait for its job`),
    ...(probesHealth(tls) ? [step(S.health, `wait for ${healthUrl(i)}`)] : []),
    step(S.served, `check that 127.0.0.1:${i.port} serves the new certificate`),
  ];
}

/** The ids of trust's steps: up's where the step is the same kind. */
export const TRUST_STEP = {
  keepOther: 'keep-previous-ca',
  dir: 'make-certs-dir',
  writeCa: 'write-ca',
  record: UP_STEP.record,
} as const;

export interface TrustStepsInput {
  /** podman's certs.d folder for host:port, and ca.crt in it. */
  dir: string;
  target: string;
  /** Where the CA comes from (mreg's CA, or the chain of the user's pair). */
  from: string;
  /** Whether ca.crt already holds that CA, and whether the record already lists it. */
  unchanged: boolean;
  recorded: boolean;
  /** ca.crt holds something else mreg did not write (an admin's CA): kept beside it first. */
  keepsOther?: string;
  recordPath: string;
}

/** Only what is missing: none when ca.crt holds the CA and the record lists it. */
export function trustSteps(i: TrustStepsInput): UpStep[] {
  const S = TRUST_STEP;
  return [
    ...(i.keepsOther ? [step(S.keepOther, `copy the ${i.target} mreg did not write to ${i.keepsOther} (podman reads only *.crt: it no longer trusts it)`)] : []),
    ...(i.unchanged ? [] : [step(S.dir, `create ${i.dir}`), step(S.writeCa, `write ${i.target} (mode 0644) from ${i.from}`)]),
    ...(i.recorded ? [] : [step(S.record, `add ${i.target} to ${i.recordPath} so mreg down --purge removes it`)]),
  ];
}
