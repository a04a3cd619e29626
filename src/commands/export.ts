// mreg export openshift DIR: the config bundle, QuayRegistry, database dump and steps for the Quay Operator.
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandContext } from '../cli.js';
import { HostError, UsageError } from '../errors.js';
import { PG_DATABASE } from '../install-spec/defaults.js';
import { stringFlag } from '../install-spec/flags.js';
import { COMPONENTS } from '../model/components.js';
import { storageText } from '../model/views.js';
import { operatorFiles } from '../plan/openshift.js';

const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DUMP = 'quay-database.dump';

export async function exportCommand(ctx: CommandContext): Promise<void> {
  const { out, flags, args } = ctx;
  if (args[0] !== 'openshift') {
    throw new UsageError(args[0] === undefined ? 'mreg export needs a target: openshift' : `unknown export target "${args[0]}": the target is openshift`, 'see: mreg export --help, man mreg-export');
  }
  if (args[1] === undefined) throw new UsageError('mreg export openshift needs the folder to write to', 'e.g. mreg export openshift ./to-openshift');
  if (args.length > 2) throw new UsageError(`mreg export openshift takes one folder (got "${args.slice(1).join(' ')}")`);
  const namespace = stringFlag(flags, 'namespace', 'export') ?? 'quay-enterprise';
  if (!NAME_RE.test(namespace)) throw new UsageError(`--namespace ${namespace}: not a Kubernetes namespace name; use lowercase letters, digits and inner -, at most 63`);
  const dir = resolve(args[1]);
  const entries = await readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  if (entries && entries.length > 0) throw new UsageError(`${dir}: not empty; export writes only into a new or empty folder`, 'give another folder');

  const who = ctx.host.identify();
  const { layout, record } = await ctx.host.findInstall(flags, who.scope, who.home);
  if (record.removedAt) throw new HostError(`the registry at ${layout.root} was removed by mreg down on ${record.removedAt}`, 'run mreg up first (its data was kept)');
  const storage = record.spec.quayStorage;
  if (storage.kind !== 's3') {
    throw new HostError(`the blobs are in ${storageText(storage)}; the Quay Operator takes over a registry whose blobs are in object storage`,
      'move them first: mreg storage migrate --to s3://BUCKET --s3Endpoint URL --s3CredentialsFile FILE');
  }
  const quayConfig = await readdir(layout.configDir);
  const read = (f: string) => readFile(f, 'utf8');
  const [configYaml, sslCert, sslKey, extraCa] = await Promise.all([read(layout.configYaml), read(layout.sslCert), read(layout.sslKey),
    Promise.all(quayConfig.filter(f => f.startsWith('extra_ca')).sort().map(async name => ({ name, content: await read(join(layout.configDir, name)) })))]);
  const files = operatorFiles({ configYaml, sslCert, sslKey, extraCa, namespace, name: 'mirror-registry', hostname: record.spec.hostname, port: record.spec.port,
    quayImage: record.spec.images.quay, dumpFile: DUMP });

  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const f of files) await writeFile(join(dir, f.name), f.content, { mode: f.mode });
  const podman = ctx.host.podman();
  // --no-owner/--no-acl: the operator's database has another owner, which pg_restore --role takes.
  // --no-comments: the superuser's COMMENT ON EXTENSION pg_trgm would fail for that owner, and pg_restore
  // then exits 1 (the README's chain stops there) though every table was restored.
  await out.step('database dump (pg_dump in quay-postgres)', () =>
    podman.execToFile(COMPONENTS.postgres.podmanName, ['pg_dump', '--format=custom', '--no-owner', '--no-acl', '--no-comments', `--dbname=${PG_DATABASE}`], join(dir, DUMP)));
  await chmod(join(dir, DUMP), 0o600);
  const names = [...files.map(f => f.name), DUMP];
  if (out.json) return out.resultJson({ dir, namespace, files: names });
  out.result(`mreg: wrote ${names.join(', ')} to ${dir}; follow ${join(dir, 'README.md')}`);
}
