// mreg status: unit states over D-Bus, registry health, certificate expiry and storage; exit 3 unless healthy.
import type { CommandContext } from '../cli.js';
import { UnhealthyError } from '../errors.js';
import { findInstall } from '../apply/install-lookup.js';
import { gatherFacts } from '../host/facts.js';
import { connectSystemd, type UnitState } from '../host/systemd.js';
import { readIfExists } from '../host/fs.js';
import { httpsRequest } from '../host/http.js';
import { checkPrivateModes, isLowOnSpace, storageSpace, volumeMountpoint } from '../host/storage.js';
import { ALL_UNITS } from '../spec/layout.js';
import { certExpiry, EXPIRY_WARN_DAYS } from '../tls/index.js';
import { runOnTarget } from './common.js';

export interface StatusReport {
  healthy: boolean;
  scope: string;
  url: string;
  units: Array<Pick<UnitState, 'name' | 'loadState' | 'activeState' | 'subState' | 'mainPid' | 'nRestarts' | 'result'> & { since: string | null }>;
  health: { ok: boolean; status: number | null; error: string | null };
  certificate: { expires: string | null; daysLeft: number | null; warning: string | null };
  storage: Array<{ name: string; kind: string; location: string; freeBytes: number | null; totalBytes: number | null }>;
  problems: string[];
}

export async function status(ctx: CommandContext): Promise<void> {
  const { out, flags } = ctx;
  if (await runOnTarget('status', ctx)) return;
  const probe = await gatherFacts({ env: ctx.env });
  const { layout, record } = await findInstall(flags, probe.scope, probe.home);
  const spec = record.spec;
  if (record.removedAt) {
    if (out.json) out.resultJson({ healthy: false, removed: true, removedAt: record.removedAt, quayRoot: layout.root });
    throw new UnhealthyError(`the registry at ${layout.root} was removed by mreg down on ${record.removedAt}; its data was kept`, 'run mreg up to install it again over the same data');
  }
  const problems: string[] = [];
  const ctl = probe.scope === 'rootless' ? 'systemctl --user' : 'systemctl';

  const systemd = await connectSystemd(probe.scope, ctx.env);
  let states: UnitState[];
  try {
    states = await Promise.all(ALL_UNITS.map(u => systemd.unitState(u)));
  } finally {
    await systemd.close();
  }
  for (const s of states) {
    if (s.loadState !== 'loaded') problems.push(`${s.name} is ${s.loadState}: run mreg up to regenerate it`);
    else if (s.activeState !== 'active') problems.push(`${s.name} is ${s.activeState} (${s.subState}, result ${s.result}): see ${ctl} status ${s.name}`);
    if (s.needDaemonReload) problems.push(`${s.name} changed on disk but systemd was not reloaded: run mreg up`);
  }

  const caPem = await readIfExists(layout.caCert);
  const health: StatusReport['health'] = { ok: false, status: null, error: null };
  try {
    const r = await httpsRequest({ hostname: spec.hostname, port: spec.port, ca: caPem }, 'GET', '/health/instance', undefined, 5_000);
    health.status = r.status;
    health.ok = r.status === 200;
    if (!health.ok) problems.push(`/health/instance answered HTTP ${r.status}: see mreg logs quay-app`);
  } catch (err) {
    health.error = err instanceof Error ? err.message : String(err);
    problems.push(`registry not reachable on port ${spec.port}: ${health.error}`);
  }

  const certificate: StatusReport['certificate'] = { expires: null, daysLeft: null, warning: null };
  const certPem = await readIfExists(layout.sslCert);
  if (certPem === undefined) problems.push(`${layout.sslCert} is missing: run mreg up to reissue it`);
  else {
    const expires = certExpiry(certPem);
    const daysLeft = Math.floor((expires.getTime() - probe.now.getTime()) / 86_400_000);
    certificate.expires = expires.toISOString();
    certificate.daysLeft = daysLeft;
    if (daysLeft < 0) problems.push(`the server certificate expired on ${expires.toISOString().slice(0, 10)}: run mreg up to reissue it (or supply a new one with --sslCert/--sslKey)`);
    else if (daysLeft < EXPIRY_WARN_DAYS) certificate.warning = `the server certificate expires in ${daysLeft} days (${expires.toISOString().slice(0, 10)})`;
  }
  if ((await readIfExists(layout.configYaml)) === undefined) problems.push(`${layout.configYaml} is missing: run mreg up to rewrite it`);

  // Secrets at rest: quayRoot private, keys and credentials owner-only, served files not world-readable.
  for (const m of await checkPrivateModes([
    { path: layout.root, maxMode: 0o700 },
    { path: layout.credentials, maxMode: 0o600 },
    { path: layout.caKey, maxMode: 0o600 },
    { path: layout.configYaml, maxMode: 0o640 },
    { path: layout.sslKey, maxMode: 0o640 },
  ], probe.uid)) problems.push(`${m.path}: ${m.problem}`);

  const storage: StatusReport['storage'] = [];
  for (const [name, s] of [['quayStorage', spec.quayStorage], ['pgStorage', spec.pgStorage]] as const) {
    const location = s.kind === 'path' ? s.path : (await volumeMountpoint(s.name).catch(() => undefined)) ?? `volume ${s.name}`;
    const space = location.startsWith('/') ? await storageSpace(location).catch(() => null) : null;
    if (space && isLowOnSpace(space)) problems.push(`${name} ${location}: only ${(space.freeBytes / 1024 ** 2).toFixed(0)} MiB free of ${(space.totalBytes / 1024 ** 2).toFixed(0)} MiB; free space or move storage`);
    storage.push({ name, kind: s.kind, location, freeBytes: space?.freeBytes ?? null, totalBytes: space?.totalBytes ?? null });
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
    health, certificate, storage, problems,
  };
  if (out.json) out.resultJson(report);
  else printHuman(ctx, report);
  if (!report.healthy) throw new UnhealthyError(`registry is not healthy (${problems.length} problem${problems.length === 1 ? '' : 's'})`, `see: mreg logs, ${ctl} status quay-app`);
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
  for (const s of r.storage) out.result(`${s.name.padEnd(12)} ${s.location}${s.freeBytes !== null ? `  (${(s.freeBytes / 1024 ** 3).toFixed(1)} GiB free)` : ''}`);
  if (r.certificate.warning) out.warn(r.certificate.warning);
  for (const p of r.problems) out.result(`${out.red('problem:')} ${p}`);
  out.result(r.healthy ? out.green('healthy') : out.red('NOT healthy'));
}
