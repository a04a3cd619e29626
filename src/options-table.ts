// Every flag mreg accepts, in one table: cac is wired from it and the man-page test checks against it.

import { DEFAULT_IMAGES } from './install-spec/defaults.js';

export type CommandName = 'up' | 'down' | 'status' | 'logs' | 'upgrade' | 'cert' | 'adopt' | 'backup' | 'restore' | 'storage' | 'export' | 'completion';

export interface FlagDef {
  /** cac syntax, e.g. "-r, --quayRoot <dir>". */
  readonly flags: string;
  readonly description: string;
  /** Human text of the default, for help and man pages. */
  readonly defaultText?: string;
  /** The default where a command has its own (adopt keeps the old unit's image, upgrade the recorded one). */
  readonly defaultFor?: Partial<Record<CommandName, string>>;
  readonly commands: readonly CommandName[];
}

export const GLOBAL_FLAGS: readonly FlagDef[] = [
  { flags: '-v, --verbose', description: 'Print every command mreg runs and more detail on errors', commands: [] },
  { flags: '-c, --no-color', description: 'Never colour output (also NO_COLOR=1)', commands: [] },
  { flags: '--json', description: 'Print the result as JSON on stdout', commands: [] },
];

const UP: CommandName[] = ['up'];
const IMAGES: CommandName[] = ['up', 'upgrade', 'adopt'];
const WITH_RECORD: CommandName[] = ['up', 'down', 'status', 'upgrade', 'cert', 'adopt', 'backup', 'restore', 'storage', 'export'];
const S3: CommandName[] = ['up', 'storage'];
const REMOTE: CommandName[] = ['up', 'down', 'status', 'upgrade', 'backup'];
const CERT_FILES: CommandName[] = ['up', 'cert', 'upgrade', 'adopt'];
const KEPT_IMAGE = { upgrade: 'the image the install runs', adopt: 'the image the old unit runs' };

export const COMMAND_FLAGS: readonly FlagDef[] = [
  { flags: '--quayHostname <host[:port]>', description: 'DNS name (and published port) clients use; an IP address is refused', defaultText: '$(hostname -f):8443',
    defaultFor: { restore: 'the backup\'s; another name gets a new certificate from the same CA' }, commands: ['up', 'restore'] },
  { flags: '-r, --quayRoot <dir>', description: 'Folder for quay-config/, the CA, credentials and the install record', defaultText: '~/quay-install (rootless), /etc/quay-install (rootful)',
    defaultFor: { adopt: 'the folder quay-app.service mounts quay-config from', restore: 'the backup\'s (this scope\'s default if it was made in the other scope)' }, commands: WITH_RECORD },
  { flags: '--quayStorage <name|/path|s3://bucket>', description: 'Image blob storage: a podman volume name, an absolute path, or s3://BUCKET[/PREFIX] in an S3-compatible object store', defaultText: 'quay-storage', commands: UP },
  // restore puts blobs back into local storage only: an object-storage install keeps them in its bucket.
  { flags: '--quayStorage <name|/path>', description: 'Image blob storage: a podman volume name or an absolute path', defaultText: 'the backup\'s', commands: ['restore'] },
  { flags: '--pgStorage <name|/path>', description: 'PostgreSQL data: a podman volume name or an absolute path', defaultText: 'pg-storage',
    defaultFor: { restore: 'the backup\'s' }, commands: ['up', 'restore'] },
  { flags: '--s3Endpoint <url>', description: 'URL of the S3-compatible object store (Ceph RGW, OpenShift Data Foundation, MinIO) for --quayStorage s3://', commands: S3 },
  { flags: '--s3CredentialsFile <file>', description: 'File with the object store key pair (AWS credentials format: aws_access_key_id, aws_secret_access_key); not readable by others',
    defaultFor: { restore: 'the path the backed-up install read it from' }, commands: [...S3, 'restore'] },
  { flags: '--s3CaBundle <file>', description: 'PEM CA certificate(s) to trust for --s3Endpoint (a private CA); Quay gets it too',
    defaultFor: { restore: 'the backed-up install\'s, if it had one' }, commands: [...S3, 'restore'] },
  { flags: '--s3CreateBucket', description: 'Create the --quayStorage s3:// bucket when it does not exist (default: refuse)', commands: S3 },
  { flags: '--sslCert <file>', description: 'PEM certificate to serve (with --sslKey); default: issue one from mreg\'s own CA', commands: CERT_FILES },
  { flags: '--sslKey <file>', description: 'PEM private key of --sslCert', commands: CERT_FILES },
  { flags: '--sslCheckSkip', description: 'Check --sslCert only as Quay does (key matches, names the host); not its dates, chain or key usage', commands: CERT_FILES },
  { flags: '--initUser <name>', description: 'First Quay user, made a superuser', defaultText: 'init', commands: UP },
  { flags: '--initPassword <password>', description: 'Password of the first user (at least 8 characters)', defaultText: 'generated, 32 URL-safe characters', commands: UP },
  { flags: '-i, --image-archive <file>', description: 'Image archive to load first (`podman save` output, or mirror-registry\'s image-archive.tar); nothing is pulled then', commands: [...IMAGES, 'restore'] },
  { flags: '--quayImage <ref>', description: 'Quay image', defaultText: DEFAULT_IMAGES.quay, defaultFor: KEPT_IMAGE, commands: IMAGES },
  { flags: '--pgImage <ref>', description: 'PostgreSQL image', defaultText: DEFAULT_IMAGES.postgres, defaultFor: KEPT_IMAGE, commands: IMAGES },
  { flags: '--redisImage <ref>', description: 'Redis image', defaultText: DEFAULT_IMAGES.redis, defaultFor: KEPT_IMAGE, commands: IMAGES },
  { flags: '--infraImage <ref>', description: 'The pod\'s infra image (podman pod create --infra-image), for a host whose podman cannot build its own (no catatonit); adopt keeps the one mirror-registry\'s pod ran', defaultText: 'podman\'s own', commands: UP },
  { flags: '--anonymousAccess <true|false>', description: 'Let clients pull public repositories without logging in (config.yaml FEATURE_ANONYMOUS_ACCESS); without the flag the value config.yaml has is kept',
    defaultText: 'false on a new install, then kept', defaultFor: { adopt: 'kept as the old config.yaml has it' }, commands: ['up', 'adopt'] },
  { flags: '--userCreation <true|false>', description: 'Let anyone create an account on the registry\'s sign-in page (config.yaml FEATURE_USER_CREATION); without the flag the value config.yaml has is kept',
    defaultText: 'false on a new install, then kept', defaultFor: { adopt: 'kept as the old config.yaml has it' }, commands: ['up', 'adopt'] },
  { flags: '--to <s3://bucket[/prefix]>', description: 'The bucket (and key prefix) to move the blobs into, with --s3Endpoint and --s3CredentialsFile', commands: ['storage'] },
  { flags: '--cleanup', description: 'After a finished migrate: delete the local copy, once every blob of it is checked to be in the bucket', commands: ['storage'] },
  { flags: '--namespace <name>', description: 'The OpenShift namespace (project) the Quay Operator runs the registry in', defaultText: 'quay-enterprise', commands: ['export'] },
  { flags: '--dry-run', description: 'Print every file and action without changing anything (secrets redacted)', commands: ['up', 'down', 'upgrade', 'cert', 'adopt', 'storage'] },
  { flags: '--purge', description: 'Also delete quayRoot, the storage volumes/paths and all mirrored data', commands: ['down'] },
  { flags: '-y, --yes', description: 'Do not ask before --purge deletes data', commands: ['down'] },
  { flags: '--autoApprove', description: 'Alias of --yes (mirror-registry compatibility)', commands: ['down'] },
  { flags: '-H, --targetHostname <host>', description: 'Host to act on; another host is reached over ssh', defaultText: '$(hostname -f)', commands: REMOTE },
  { flags: '-u, --targetUsername <user>', description: 'SSH user for --targetHostname', defaultText: '$USER', commands: REMOTE },
  { flags: '-k, --ssh-key <file>', description: 'SSH private key for --targetHostname', commands: REMOTE },
  { flags: '--remove-leftovers', description: 'Once adopted, remove what mirror-registry left that nothing uses (its ssh key, the authorized_keys line that lets it in, the image tars in the quayRoot, empty volumes nothing mounts) without asking', commands: ['adopt'] },
  { flags: '--new-ca', description: 'Replace the install\'s expired (or unwanted) CA, or your own pair, with a new CA of mreg\'s; clients must then trust it', commands: ['adopt', 'cert'] },
  { flags: '--from-mirror-registry', description: 'Adopt an existing mirror-registry 1.2/1.3 install (same as `mreg adopt`)', commands: ['upgrade'] },
  { flags: '--timeout <seconds>', description: 'How long the new version may take to become healthy before mreg rolls back', defaultText: '600', commands: ['upgrade', 'adopt'] },
  { flags: '--since <file>', description: 'Incremental: store only the blobs the backup FILE (and those it builds on) does not hold', commands: ['backup'] },
  { flags: '--passphrase-file <file>', description: 'Encrypt the backup (gpg, AES-256) with the passphrase on the first line of FILE; needed again to verify and restore it', commands: ['backup', 'restore'] },
  { flags: '--force', description: 'Replace an install this scope has: delete it, data and all, as down --purge does, then restore', commands: ['restore'] },
  { flags: '--verify', description: 'Read a backup FILE through and check every checksum; changes nothing', commands: ['backup'] },
  { flags: '-n, --lines <n>', description: 'Number of journal lines to show', defaultText: '50', commands: ['logs'] },
  { flags: '-f, --follow', description: 'Keep printing new journal lines', commands: ['logs'] },
];

/** The flags of `command`, each with the default that command has. */
export function flagsFor(command: CommandName): FlagDef[] {
  return COMMAND_FLAGS.filter(f => f.commands.includes(command))
    .map(f => (f.defaultFor?.[command] ? { ...f, defaultText: f.defaultFor[command] } : f));
}

/** The long names (without dashes) of a flag definition, e.g. "quayRoot". */
export function longName(def: FlagDef): string {
  const m = /--([A-Za-z0-9-]+)/.exec(def.flags);
  if (!m?.[1]) throw new Error(`flag without a long name: ${def.flags}`);
  return m[1];
}

/** A flag as users type it, from the key the parser gives it: dryRun → --dry-run, imageArchive → --image-archive. */
export function flagSpelling(key: string): string {
  const def = [...GLOBAL_FLAGS, ...COMMAND_FLAGS].find(d => camelCase(longName(d)) === key);
  return def ? `--${longName(def)}` : `--${key}`;
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
