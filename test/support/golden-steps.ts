// The actions and step lists each golden scenario records beside its files, one JSON file a command
// (GOLDEN_STEP_FILES): down's and up's from golden.ts, and here upgrade's, cert rotate's, backup's,
// restore's and storage migrate's, each command's inputs built from the scenario as the command builds them.
import { basename, dirname, join } from 'node:path';
import { dbSnapshotPaths } from '../../src/apply/db-snapshot.js';
import { trustAnchorSource } from '../../src/apply/cert-rotate.js';
import { lastBackupPath } from '../../src/backup/last.js';
import { defaultName } from '../../src/backup/target.js';
import { parseTimeout } from '../../src/install-spec/flags.js';
import { upgradeSpec } from '../../src/upgrade/spec.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { parseMigrateTarget } from '../../src/install-spec/options.js';
import type { ObjectStorage, QuayStorage, Storage, TlsSource } from '../../src/install-spec/spec.js';
import { backupSteps } from '../../src/plan/backup-steps.js';
import { rotateSteps, trustSteps } from '../../src/plan/cert-steps.js';
import { certsDDir } from '../../src/model/scope.js';
import { migrateSteps } from '../../src/plan/migrate-steps.js';
import { plan, type Plan } from '../../src/plan/plan.js';
import { restoreSteps } from '../../src/plan/restore-steps.js';
import { upgradeSteps } from '../../src/plan/upgrade-steps.js';
import { action, type Action } from '../../src/actions/action.js';
import { planStart } from '../../src/plan/start.js';
import { UNITS } from '../../src/model/views.js';
import { planWrites } from '../../src/plan/writes.js';
import { recordOf, renderDownActions, renderUpSteps, stepLines, type Scenario } from './golden.js';

const json = (flows: object) => `${JSON.stringify(flows, null, 2)}\n`;

/** The same repository under another tag (a digest dropped): the image an upgrade moves to. */
function retag(ref: string, tag: string): string {
  return `${ref.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^:/]+$/, '')}:${tag}`;
}

/** The user's image archive, in the home folder as mirror-registry's docs put it. */
const imageArchiveOf = (s: Scenario) => join(s.facts.home, 'image-archive.tar');

/**
 * `mreg upgrade --dry-run --json`'s `plan` for upgrades of the scenario's install (its record, its files
 * on disk as the plan wrote them): nothing to change; a new Quay (v1 → v2, the database dumped first); a
 * new PostgreSQL (its data's major checked); a new Redis only; the same loaded from an image archive.
 */
export function renderUpgradeSteps(s: Scenario, p: Plan): string {
  const record = recordOf(s, p);
  const onDisk = new Map(p.files.map(f => [f.path, f.content]));
  const stepsFor = (flags: Record<string, unknown>) => {
    const spec = upgradeSpec(record, flags, s.facts.home);
    const planned = plan(spec, s.facts, s.secrets);
    const layout = quayRootLayout(spec.quayRoot);
    return stepLines(upgradeSteps({
      spec, recorded: record.spec.images, files: planned.files.filter(f => onDisk.get(f.path) !== f.content),
      selinuxLabels: planned.selinuxLabels, layout, dbSnapshot: dbSnapshotPaths(layout.root).dump, timeoutMs: parseTimeout(undefined),
    }));
  };
  const { images } = s.spec;
  const redisImage = retag(images.redis, '1-40');
  return json({
    'upgrade (nothing to change)': stepsFor({}),
    'upgrade --quayImage (a new Quay, v1 → v2: the database dumped first)': stepsFor({ quayImage: retag(images.quay, 'v3.13.4') }),
    'upgrade --pgImage (a new PostgreSQL: its data\'s major checked)': stepsFor({ pgImage: retag(images.postgres, '1-80') }),
    'upgrade --redisImage (a new Redis only)': stepsFor({ redisImage }),
    'upgrade --redisImage -i ARCHIVE (the same, from an image archive)': stepsFor({ redisImage, imageArchive: imageArchiveOf(s) }),
  });
}

/**
 * `mreg cert rotate --dry-run --json`'s `plan`: a reissue from mreg's CA (only where mreg made the pair: over
 * the user's own pair rotate refuses it), the user's own pair, and the same with --sslCheckSkip; then trust's.
 */
export function renderCertSteps(s: Scenario): string {
  const layout = quayRootLayout(s.spec.quayRoot);
  const steps = (tls: TlsSource) => stepLines(rotateSteps({ tls, hostname: s.spec.hostname, port: s.spec.port, layout }));
  const pair = { kind: 'provided', certPath: join(s.facts.home, 'certs', 'renewed.crt'), keyPath: join(s.facts.home, 'certs', 'renewed.key') } as const;
  return json({
    ...(s.spec.tls.kind === 'generate' ? { 'cert rotate (reissue from mreg\'s CA)': steps({ kind: 'generate' }) } : {}),
    'cert rotate --sslCert --sslKey (your own pair)': steps({ ...pair, skipCheck: false }),
    'cert rotate --sslCert --sslKey --sslCheckSkip': steps({ ...pair, skipCheck: true }),
    ...trustCases(s, layout),
  });
}

/** `mreg cert trust --dry-run --json`'s `plan`, the first time (mreg's CA, or the chain of the user's pair) and once done. */
function trustCases(s: Scenario, layout: ReturnType<typeof quayRootLayout>): Record<string, string[]> {
  const dir = certsDDir({ scope: s.spec.scope, home: s.facts.home }, s.spec.hostname, s.spec.port);
  const from = trustAnchorSource(s.spec.tls.kind, layout);
  const steps = (unchanged: boolean, recorded: boolean) =>
    stepLines(trustSteps({ dir, target: join(dir, 'ca.crt'), from, unchanged, recorded, recordPath: layout.record }));
  return { 'cert trust (first time)': steps(false, false), 'cert trust (done before: nothing to do)': steps(true, true) };
}

/** The bucket `storage migrate --to` moves the blobs into, parsed as the command parses its flags. */
function bucketOf(s: Scenario): ObjectStorage {
  return parseMigrateTarget({ to: 's3://quay-blobs/mirror', s3Endpoint: 'https://s3.example.com', s3CredentialsFile: join(s.facts.home, 's3.ini') },
    { scope: s.spec.scope, fqdn: s.facts.fqdn, home: s.facts.home });
}

/** The backup file `mreg backup` names by default, in the working folder (the home folder here). */
const defaultBackup = (s: Scenario, now = s.facts.now) => join(s.facts.home, defaultName(s.spec.hostname, now));

/**
 * The steps `mreg backup` takes (`--json` reports their ids): to the default file; encrypted, to stdout;
 * and of the install after `storage migrate`, its blobs in a bucket.
 */
export function renderBackupSteps(s: Scenario): string {
  const steps = (output: string, quayStorage: QuayStorage, encrypted: boolean) => stepLines(backupSteps({
    output, quayStorage, encrypted, lastBackup: lastBackupPath(s.spec.quayRoot),
    staging: output === '-' ? join(s.spec.quayRoot, 'backup-staging') : join(dirname(output), `.${basename(output)}.mreg-staging`),
  }));
  return json({
    'backup (to the default file)': steps(defaultBackup(s), s.spec.quayStorage, false),
    'backup --passphrase-file FILE - (encrypted, to stdout)': steps('-', s.spec.quayStorage, true),
    'backup (blobs in a bucket, after storage migrate)': steps(defaultBackup(s), bucketOf(s), false),
  });
}

/**
 * The steps `mreg restore` takes, restore's own: `before up`, then up's steps run (up-steps.json's kind,
 * but quay-app's start and the health wait; their ids images-present, load-images, start:quay-app.service
 * and health are restore's too), then the data goes back in place of up's health wait, before its first
 * user and record. In one step log, so only restore's own ids are unique. Flows: after down --purge; a chain over this install (--force) with an image archive;
 * an install whose blobs stay in a bucket.
 */
export function renderRestoreSteps(s: Scenario): string {
  const images = [s.spec.images.quay, s.spec.images.postgres, s.spec.images.redis];
  const full = defaultBackup(s);
  const incremental = defaultBackup(s, new Date(s.facts.now.getTime() + 24 * 3600_000));
  const steps = (i: { archives: string[]; quayStorage: QuayStorage; imageArchive?: string; replaces?: string }) => {
    const { before, data } = restoreSteps({ ...i, quayRoot: s.spec.quayRoot, hostname: s.spec.hostname, port: s.spec.port, images });
    return { 'before up': stepLines(before), 'in place of up\'s health wait, before its first user': stepLines(data) };
  };
  return json({
    'restore FILE (after down --purge)': steps({ archives: [full], quayStorage: s.spec.quayStorage }),
    'restore FULL INCREMENTAL -i ARCHIVE --force (over this install)': steps({
      archives: [full, incremental], quayStorage: s.spec.quayStorage, imageArchive: imageArchiveOf(s), replaces: s.spec.quayRoot,
    }),
    'restore FILE (blobs in a bucket)': steps({ archives: [full], quayStorage: bucketOf(s) }),
  });
}

/** Where podman keeps a volume's data on a stock host (`podman volume inspect`'s Mountpoint): a host fact. */
function localFolder(s: Scenario, from: Storage): string {
  if (from.kind === 'path') return from.path;
  const graphRoot = s.spec.scope === 'rootful' ? '/var/lib/containers/storage' : join(s.facts.home, '.local/share/containers/storage');
  return join(graphRoot, 'volumes', from.name, '_data');
}

/** `mreg storage migrate --dry-run --json`'s `plan`: into the bucket, and with --s3CreateBucket. */
export function renderMigrateSteps(s: Scenario): string {
  const from = s.spec.quayStorage;
  if (from.kind === 's3') throw new Error(`${s.name}: the blobs are in a bucket already; storage migrate refuses`);
  const layout = quayRootLayout(s.spec.quayRoot);
  const steps = (createBucket: boolean) => stepLines(migrateSteps({
    from, to: bucketOf(s), root: localFolder(s, from), scratch: join(layout.root, 'migrate-scratch'), record: layout.record, createBucket,
  }));
  return json({
    'storage migrate --to s3://quay-blobs/mirror': steps(false),
    'storage migrate --to s3://quay-blobs/mirror --s3CreateBucket': steps(true),
  });
}

/**
 * Every JSON golden file of a scenario, what renders it and what its test asserts: regen.ts writes each,
 * steps-golden.test.ts compares each, so a step list changed without regenerating fails the test.
 */
/**
 * The actions up runs for its files and its start: a new install (every file written, every unit started);
 * a re-run after a change to config.yaml only (quay-app restarted); one after a change to the pod's unit
 * (the pod restarted alone, then every container started on its new files). A file's content is the
 * scenario's files/ copy, named here (config.yaml holds secrets: the actions never print it).
 */
export function renderUpActions(s: Scenario, p: Plan): string {
  const layout = quayRootLayout(s.spec.quayRoot);
  const octal = (mode: number) => mode.toString(8).padStart(4, '0');
  const shown = (a: Action) => (a.kind === 'write-file' ? { ...a, content: `files${a.path}`, mode: octal(a.mode) } : a.kind === 'make-dir' ? { ...a, mode: octal(a.mode) } : a);
  const reload = action({ kind: 'daemon-reload' }, 'reload systemd (runs the Quadlet generator)');
  const running = new Map([UNITS.pod, ...p.services, ...p.volumes.map(v => `${v}-volume.service`)].map(u => [u, { activeState: 'active' }]));
  const start = (changed: string[], before: ReadonlyMap<string, { activeState: string }>) => planStart({ before, services: p.services, volumes: p.volumes, changed });
  const configYaml = p.files.find(f => f.path === layout.configYaml)!.path;
  const podUnit = p.files.find(f => /quay(-pod)?\.pod$|quay-pod\.service$/.test(f.path))?.path;
  return json({
    'up (a new install: every file written, then the reload and every start)': [...planWrites(p.files, layout, 'write units and config'), reload, ...start(p.files.map(f => f.path), new Map())].map(shown),
    'up after config.yaml changed (it was written: the reload, quay-app restarted)': [reload, ...start([configYaml], running)].map(shown),
    ...(podUnit ? { 'up after the pod\'s unit changed (the reload, the pod restarted alone, then the containers)': [reload, ...start([podUnit], running)].map(shown) } : {}),
  });
}

export const GOLDEN_STEP_FILES: readonly { file: string; render: (s: Scenario, p: Plan) => string; says: string }[] = [
  { file: 'down-actions.json', render: renderDownActions, says: 'down and down --purge plan the recorded actions' },
  { file: 'up-actions.json', render: renderUpActions, says: 'up plans the recorded writes and start jobs' },
  { file: 'up-steps.json', render: renderUpSteps, says: 'up --dry-run lists the recorded steps' },
  { file: 'upgrade-steps.json', render: renderUpgradeSteps, says: 'upgrade --dry-run --json lists the recorded steps' },
  { file: 'cert-steps.json', render: renderCertSteps, says: 'cert rotate and cert trust --dry-run list the recorded steps' },
  { file: 'backup-steps.json', render: renderBackupSteps, says: 'backup takes the recorded steps' },
  { file: 'restore-steps.json', render: renderRestoreSteps, says: 'restore takes the recorded steps around up\'s' },
  { file: 'migrate-steps.json', render: renderMigrateSteps, says: 'storage migrate --dry-run --json lists the recorded steps' },
];
