// mreg status: unit states (one systemctl show), registry health, certificate expiry and storage; exit 3 unless healthy.
import type { CommandContext } from '../cli.js';
import { UnhealthyError } from '../errors.js';
import type { HealthAnswer, InspectPorts, ShownState } from '../actions/ports.js';
import { isLowOnSpace } from '../model/space.js';
import { systemctlCommand } from '../model/scope.js';
import { ALL_UNITS, storageText } from '../model/views.js';
import type { QuayStorage } from '../install-spec/spec.js';
import { certExpiry, EXPIRY_WARN_DAYS } from '../tls/index.js';
import { runOnTarget } from './common.js';
import { lastBackupPath, parseLastBackup, type LastBackup } from '../backup/last.js';
import { allInOrder } from '../concurrent.js';

export interface StatusReport {
  healthy: boolean;
  scope: string;
  url: string;
  units: Array<Pick<ShownState, 'name' | 'loadState' | 'activeState' | 'subState' | 'mainPid' | 'nRestarts' | 'result'> & { since: string | null }>;
  health: HealthAnswer;
  certificate: { expires: string | null; daysLeft: number | null; warning: string | null };
  storage: Array<{ name: string; kind: string; location: string; freeBytes: number | null; totalBytes: number | null; reachable?: boolean; problem?: string }>;
  /** The blobs' old place after `mreg storage migrate`, until `--cleanup` deletes it; null otherwise. */
  localCopy: { kind: string; location: string } | null;
  /** The last `mreg backup` of this install, or null when none was written. */
  lastBackup: LastBackup | null;
  problems: string[];
}

export async function status(ctx: CommandContext): Promise<void> {
  const { out, flags } = ctx;
  if (await runOnTarget('status', ctx)) return;
  const probe = ctx.host.identify();
  const { layout, record } = await ctx.host.findInstall(flags, probe.scope, probe.home);
  const look = ctx.host.inspect(probe);
  const spec = record.spec;
  if (record.removedAt) {
    if (out.json) out.resultJson({ healthy: false, removed: true, removedAt: record.removedAt, quayRoot: layout.root });
    throw new UnhealthyError(`the registry at ${layout.root} was removed by mreg down on ${record.removedAt}; its data was kept`, 'run mreg up to install it again over the same data');
  }
  const problems: string[] = [];
  const ctl = systemctlCommand(probe.scope);

  // Independent probes at once (each podman or D-Bus round trip is slow on a small VM); problems
  // are still listed in the fixed order below.
  const [states, health, expires, configYaml, modeProblems, storages, lastBackup] = await allInOrder([
    look.unitStates(ALL_UNITS),
    look.health({ hostname: spec.hostname, port: spec.port }, spec.tls.kind, layout),
    look.readFile(layout.sslCert).then(pem => pem === undefined ? undefined : certExpiry(pem)),
    look.readFile(layout.configYaml),
    // Secrets at rest: quayRoot private, keys and credentials owner-only, served files not world-readable.
    look.privateModes([
      { path: layout.root, maxMode: 0o700 },
      { path: layout.credentials, maxMode: 0o600 },
      { path: layout.caKey, maxMode: 0o600 },
      { path: layout.configYaml, maxMode: 0o640 },
      { path: layout.sslKey, maxMode: 0o640 },
    ]),
    // With the local copy a migrate left: one podman process looks up every unrecorded volume.
    storageReport(look, [['quayStorage', spec.quayStorage], ['pgStorage', spec.pgStorage], ...(record.migratedFrom ? [['localCopy', record.migratedFrom] as const] : [])],
      record.volumeMountpoints),
    look.readFile(lastBackupPath(layout.root)).then(parseLastBackup).catch(() => undefined),
  ]);
  const localCopy = storages.find(s => s.name === 'localCopy');
  const storage = storages.filter(s => s !== localCopy);

  for (const s of states) {
    if (s.loadState !== 'loaded') problems.push(`${s.name} is ${s.loadState}: run mreg up to regenerate it`);
    else if (s.activeState !== 'active') problems.push(`${s.name} is ${s.activeState} (${s.subState}, result ${s.result}): see ${ctl} status ${s.name}`);
    if (s.needDaemonReload) problems.push(`${s.name} changed on disk but systemd was not reloaded: run mreg up`);
  }

  if (health.error !== null) problems.push(`registry not reachable on port ${spec.port}: ${health.error}`);
  else if (!health.ok) problems.push(`/health/instance answered HTTP ${health.status}: see mreg logs quay-app`);

  const certificate: StatusReport['certificate'] = { expires: null, daysLeft: null, warning: null };
  if (expires === undefined) problems.push(`${layout.sslCert} is missing: run mreg up to reissue it`);
  else {
    const daysLeft = Math.floor((expires.getTime() - Date.now()) / 86_400_000);
    certificate.expires = expires.toISOString();
    certificate.daysLeft = daysLeft;
    if (daysLeft < 0) problems.push(`the server certificate expired on ${expires.toISOString().slice(0, 10)}: run mreg up to reissue it (or supply a new one with --sslCert/--sslKey)`);
    else if (daysLeft < EXPIRY_WARN_DAYS) certificate.warning = `the server certificate expires in ${daysLeft} days (${expires.toISOString().slice(0, 10)})`;
  }
  if (configYaml === undefined) problems.push(`${layout.configYaml} is missing: run mreg up to rewrite it`);

  for (const m of modeProblems) problems.push(`${m.path}: ${m.problem}`);

  for (const { name, location, space, problem } of storage) {
    if (problem) problems.push(`${name} ${location}: ${problem}`);
    if (space && isLowOnSpace(space)) problems.push(`${name} ${location}: only ${(space.freeBytes / 1024 ** 2).toFixed(0)} MiB free of ${(space.totalBytes / 1024 ** 2).toFixed(0)} MiB; free space or move storage`);
  }

  const report: StatusReport = {
    healthy: problems.length === 0,
    scope: probe.scope,
    url: `https://${spec.hostname}:${spec.port}`,
    units: states.map(s => ({
      name: s.name, loadState: s.loadState, activeState: s.activeState, subState: s.subState,
      mainPid: s.mainPid, nRestarts: s.nRestarts, result: s.result,
      since: s.stateChangeTimestamp ? new Date(s.stateChangeTimestamp).toISOString() : null,
    })),
    health, certificate,
    storage: storage.map(({ name, kind, location, space, reachable, problem }) => ({ name, kind, location, freeBytes: space?.freeBytes ?? null, totalBytes: space?.totalBytes ?? null,
      ...(reachable === undefined ? {} : { reachable }), ...(problem ? { problem } : {}) })),
    localCopy: localCopy ? { kind: localCopy.kind, location: localCopy.location } : null,
    lastBackup: lastBackup ?? null,
    problems,
  };
  if (out.json) out.resultJson(report);
  else printHuman(ctx, report);
  if (!report.healthy) throw new UnhealthyError(`registry is not healthy (${problems.length} problem${problems.length === 1 ? '' : 's'})`, `see: mreg logs, ${ctl} status quay-app`);
}

/**
 * Where each storage lives and its free space; volumes up did not record are looked up with one podman
 * process. An object store has no free space to show: whether Quay's bucket answers to its key pair.
 */
async function storageReport(look: InspectPorts, list: ReadonlyArray<readonly [string, QuayStorage]>, recorded?: Record<string, string>) {
  const names = list.flatMap(([, s]) => s.kind === 'volume' ? [s.name] : []);
  const mounts = await look.volumeMountpoints(names, recorded).catch(() => new Map<string, string>());
  return Promise.all(list.map(async ([name, s]) => {
    if (s.kind === 's3') {
      const problem = await look.bucketProblem(s);
      return { name, kind: s.kind, location: storageText(s), space: null, reachable: problem === undefined, problem };
    }
    const location = s.kind === 'path' ? s.path : mounts.get(s.name) ?? `volume ${s.name}`;
    const space = location.startsWith('/') ? await look.space(location).catch(() => null) : null;
    return { name, kind: s.kind, location, space };
  }));
}

function printHuman(ctx: CommandContext, r: StatusReport): void {
  const { out } = ctx;
  const rows = [['UNIT', 'LOAD', 'ACTIVE', 'SUB', 'SINCE', 'PID', 'RESTARTS', 'RESULT'],
    ...r.units.map(u => [u.name, u.loadState, u.activeState, u.subState, u.since?.replace('T', ' ').slice(0, 19) ?? '-', String(u.mainPid || '-'), String(u.nRestarts), u.result || '-'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(row => row[i]!.length)));
  for (const row of rows) out.result(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  out.result('');
  out.result(`registry:    ${r.url}  health: ${r.health.ok ? out.green('ok') : out.red(r.health.status ? `HTTP ${r.health.status}` : 'unreachable')}`);
  out.result(`certificate: ${r.certificate.expires ? `expires ${r.certificate.expires.slice(0, 10)} (${r.certificate.daysLeft} days)` : 'missing'}`);
  for (const s of r.storage) {
    const note = s.freeBytes !== null ? `  (${(s.freeBytes / 1024 ** 3).toFixed(1)} GiB free)` : s.reachable === undefined ? '' : s.reachable ? '  (bucket reachable)' : '  (bucket NOT reachable)';
    out.result(`${s.name.padEnd(12)} ${s.location}${note}`);
  }
  if (r.localCopy) out.result(`local copy:  ${r.localCopy.location}  (left by mreg storage migrate; mreg storage migrate --cleanup deletes it)`);
  out.result(`last backup: ${r.lastBackup ? `${r.lastBackup.at.replace('T', ' ').slice(0, 19)} UTC  ${r.lastBackup.file}` : 'none (mreg backup FILE)'}`);
  if (r.certificate.warning) out.warn(r.certificate.warning);
  for (const p of r.problems) out.result(`${out.red('problem:')} ${p}`);
  out.result(r.healthy ? out.green('healthy') : out.red('NOT healthy'));
}
