// The S3 key pair, from a file only (argv is visible to every user in ps).
import { readFile, stat } from 'node:fs/promises';
import { parse } from 'ini';
import { UsageError } from '../errors.js';
import type { S3Keys } from '../install-spec/spec.js';

/**
 * Reads `FILE` in the AWS credentials format (`[default]` with aws_access_key_id and
 * aws_secret_access_key), or as the AWS_ACCESS_KEY_ID= / AWS_SECRET_ACCESS_KEY= lines of an
 * ObjectBucketClaim's secret. A file others may read is refused, as ssh refuses such a key.
 */
export async function readS3Keys(file: string): Promise<S3Keys> {
  const bad = (problem: string, fix: string) => new UsageError([`--s3CredentialsFile ${file}: ${problem}; ${fix}`]);
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw bad('no such file', 'give the path of a file holding the key pair');
  if ((st.mode & 0o004) !== 0) throw bad(`mode 0${(st.mode & 0o777).toString(8)} lets every user read the keys`, `chmod 600 ${file}`);
  const doc = parse(literalValues(await readFile(file, 'utf8'))) as Record<string, unknown>;
  const section = (doc.default && typeof doc.default === 'object' ? doc.default : doc) as Record<string, unknown>;
  const pick = (...names: string[]) => names.map(n => section[n] ?? doc[n]).find(v => typeof v === 'string' && v !== '') as string | undefined;
  const accessKey = pick('aws_access_key_id', 'AWS_ACCESS_KEY_ID');
  const secretKey = pick('aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY');
  if (!accessKey || !secretKey) {
    throw bad('no key pair found', 'write "[default]" then "aws_access_key_id = …" and "aws_secret_access_key = …" lines');
  }
  return { accessKey, secretKey };
}

/**
 * The AWS CLI reads a value whole (Python's configparser: only a line that starts with # or ; is a comment);
 * `ini` would end it at a # or ; and fold backslashes. Backslashes, ; and # in values are escaped so ini keeps them:
 * a secret key with a # in it (MinIO lets users choose one) is read as the AWS CLI reads it.
 */
function literalValues(text: string): string {
  return text.split('\n').map(line => {
    if (/^\s*([#;[]|$)/.test(line)) return line;
    const eq = line.indexOf('=');
    if (eq < 0) return line;
    // A quoted value is JSON-parsed by ini as it is (an escape inside the quotes would stay in it).
    const value = line.slice(eq + 1).trim();
    if (/^(".*"|'.*')$/.test(value)) return line;
    return line.slice(0, eq + 1) + line.slice(eq + 1).replace(/[\\;#]/g, '\\$&');
  }).join('\n');
}
