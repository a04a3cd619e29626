// `mreg up` over an existing install (pure): flags left out come from the install record, and a flag
// that disagrees with it is either a change up makes on purpose (named) or refused with the way to do it.
import { DEFAULT_PORT } from './defaults.js';
import type { RawUpFlags } from './options.js';
import type { InstallRecord } from './record.js';
import type { InstallSpec, QuayStorage } from './spec.js';
import type { QuayRootLayout } from './layout.js';
import { storageText as showStorage } from '../model/views.js';

type RecordedSpec = InstallRecord['spec'];

const storageFlag = (s: QuayStorage) => (s.kind === 'volume' ? s.name : s.kind === 'path' ? s.path : `s3://${s.bucket}${s.prefix ? `/${s.prefix}` : ''}`);


/**
 * The flags up works from: what the user gave, and the recorded value of every install flag left out
 * (mirror-registry users re-run with fewer flags). A recorded certificate of the user's own is the
 * installed pair in quayRoot: the file it was copied from may be long gone.
 */
export function withRecordedFlags(raw: RawUpFlags, rec: RecordedSpec, layout: QuayRootLayout): RawUpFlags {
  const out: RawUpFlags = { ...raw };
  out.quayRoot ??= rec.quayRoot;
  // A new name alone keeps the recorded port: the clients' port changes only when the flag says so.
  out.quayHostname = raw.quayHostname === undefined ? `${rec.hostname}:${rec.port}`
    : raw.quayHostname.includes(':') || rec.port === DEFAULT_PORT ? raw.quayHostname : `${raw.quayHostname}:${rec.port}`;
  if (out.quayStorage === undefined && rec.quayStorage.kind === 's3') {
    out.s3Endpoint ??= rec.quayStorage.endpoint;
    out.s3CredentialsFile ??= rec.quayStorage.credentialsFile;
    if (rec.quayStorage.caBundle !== undefined) out.s3CaBundle ??= rec.quayStorage.caBundle;
  }
  out.quayStorage ??= storageFlag(rec.quayStorage);
  out.pgStorage ??= storageFlag(rec.pgStorage);
  out.initUser ??= rec.initUser;
  out.quayImage ??= rec.images.quay;
  out.pgImage ??= rec.images.postgres;
  out.redisImage ??= rec.images.redis;
  if (rec.infraImage !== undefined) out.infraImage ??= rec.infraImage;
  if (raw.sslCert === undefined && raw.sslKey === undefined && rec.tls.kind === 'provided') {
    out.sslCert = layout.sslCert;
    out.sslKey = layout.sslKey;
    out.sslCheckSkip = raw.sslCheckSkip || rec.tls.skipCheck;
  }
  return out;
}

export interface RerunReview {
  /** Usage-error lines: up refuses these (nothing changed). */
  refused: string[];
  /** Changes up makes because a flag asked for them, one line each, printed before it starts. */
  changes: string[];
}

/**
 * Compares the spec up is about to apply with the recorded install. `live`: the units are installed
 * (not after `mreg down`), so images are upgrade's job. `firstUser`: the recorded first user, if any.
 */
export function reviewRerun(spec: InstallSpec, rec: RecordedSpec, live: boolean,
  firstUser: { username: string; password: string } | undefined): RerunReview {
  const refused: string[] = [];
  const changes: string[] = [];
  for (const [flag, now, was] of [['--quayStorage', spec.quayStorage, rec.quayStorage], ['--pgStorage', spec.pgStorage, rec.pgStorage]] as const) {
    if (storageFlag(now) !== storageFlag(was) || now.kind !== was.kind) {
      refused.push(`${flag} ${storageFlag(now)}: this install keeps its data in ${showStorage(was)}, and mreg up never moves data; leave ${flag} out (or pass ${storageFlag(was)})`);
    }
  }
  const [s3Now, s3Was] = [spec.quayStorage, rec.quayStorage];
  if (s3Now.kind === 's3' && s3Was.kind === 's3' && s3Now.endpoint !== s3Was.endpoint) {
    changes.push(`--s3Endpoint: ${s3Was.endpoint} → ${s3Now.endpoint} (quay-app restarts; the bucket must hold the same blobs there)`);
  }
  if (live) {
    for (const [flag, now, was] of [['--quayImage', spec.images.quay, rec.images.quay], ['--pgImage', spec.images.postgres, rec.images.postgres],
      ['--redisImage', spec.images.redis, rec.images.redis]] as const) {
      if (now !== was) refused.push(`${flag} ${now}: this install runs ${was}; switch images with \`mreg upgrade ${flag} ${now}\`, which rolls back if the new one is unhealthy`);
    }
  }
  if (spec.infraImage !== rec.infraImage) {
    changes.push(`--infraImage: ${rec.infraImage ?? "podman's own"} → ${spec.infraImage ?? "podman's own"} (the pod and every container restart)`);
  }
  if (firstUser && spec.initUser !== firstUser.username) {
    refused.push(`--initUser ${spec.initUser}: this install's first user is ${firstUser.username}, created once; leave --initUser out, and add users in Quay`);
  }
  if (firstUser && spec.initPassword !== undefined && spec.initPassword !== firstUser.password) {
    refused.push(`--initPassword <hidden>: differs from the first user's password, which mreg sets only once; leave --initPassword out, and change the password in Quay`);
  }
  if (spec.hostname !== rec.hostname || spec.port !== rec.port) {
    changes.push(`--quayHostname: ${rec.hostname}:${rec.port} → ${spec.hostname}:${spec.port} (new server certificate, quay-app restarts; clients must use the new name)`);
  }
  if (spec.tls.kind === 'provided' && rec.tls.kind === 'generate') {
    changes.push(`--sslCert: the registry will serve ${spec.tls.certPath} instead of the certificate from mreg's CA`);
  }
  return { refused, changes };
}
