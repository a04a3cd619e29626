// Up's flags as the raw inputs parseUpOptions checks, here and (with -H) as the target's mreg will.
import { stringFlag } from '../install-spec/flags.js';
import { parseUpOptions, type RawUpFlags } from '../install-spec/options.js';
import { remoteOptionEnv } from '../remote/on-target.js';

export function rawUpFlags(flags: Record<string, unknown>): RawUpFlags {
  const str = (k: string) => stringFlag(flags, k, 'up');
  return {
    quayHostname: str('quayHostname'), quayRoot: str('quayRoot'), quayStorage: str('quayStorage'),
    pgStorage: str('pgStorage'), sslCert: str('sslCert'), sslKey: str('sslKey'),
    sslCheckSkip: Boolean(flags.sslCheckSkip), initUser: str('initUser'), initPassword: str('initPassword'),
    imageArchive: str('imageArchive'), quayImage: str('quayImage'), pgImage: str('pgImage'), redisImage: str('redisImage'),
    infraImage: str('infraImage'), s3Endpoint: str('s3Endpoint'), s3CredentialsFile: str('s3CredentialsFile'), s3CaBundle: str('s3CaBundle'),
    s3CreateBucket: flags.s3CreateBucket === true ? true : undefined,
    anonymousAccess: str('anonymousAccess'), userCreation: str('userCreation'),
  };
}

/** up -H HOST: the flags checked here as that host's mreg will see them (a new registry named after it). */
export function checkFlagsForTarget(flags: Record<string, unknown>, host: string): void {
  parseUpOptions(rawUpFlags({ quayHostname: host, ...flags, imageArchive: undefined }), remoteOptionEnv(flags, host));
}
