// Up's flags as the raw inputs parseUpOptions checks, here and (with -H) as the target's mreg will.
import { UsageError } from '../errors.js';
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

/**
 * up -H HOST: the flags checked here as that host's mreg will see them. Without --quayHostname a new
 * registry there is named after HOST, but an install there keeps its recorded name: a HOST that is no
 * registry name (an IP address) is left for the target to judge, where it knows which case it is.
 */
export function checkFlagsForTarget(flags: Record<string, unknown>, host: string): void {
  const env = remoteOptionEnv(flags, host);
  const named = (name: string) => parseUpOptions(rawUpFlags({ ...flags, quayHostname: name, imageArchive: undefined }), env);
  if (flags.quayHostname !== undefined) return void named(String(flags.quayHostname));
  try {
    named(host);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const others = err.problems.filter(p => !p.startsWith(`--quayHostname ${host}`));
    if (others.length > 0) throw new UsageError(others, err.hint);
  }
}
