// What `mreg status` makes of what it read (read.ts): every problem, in a fixed order, and the report
// --json prints as it is. Pure; the clock is passed in.
import type { HealthAnswer, ShownState } from '../actions/ports.js';
import type { LastBackup } from '../backup/last.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallSpec, Scope } from '../install-spec/spec.js';
import { systemctlCommand } from '../model/scope.js';
import { isLowOnSpace } from '../model/space.js';
import { EXPIRY_WARN_DAYS } from '../tls/index.js';
import type { StatusRead } from './read.js';

export interface StatusReport {
  healthy: boolean;
  scope: string;
  url: string;
  units: Array<Pick<ShownState, 'name' | 'loadState' | 'activeState' | 'subState' | 'mainPid' | 'nRestarts' | 'result'> & { since: string | null }>;
  health: HealthAnswer;
  /** `caExpires`: mreg's CA's end (installs on mreg's CA), which clients check as well. */
  certificate: { expires: string | null; daysLeft: number | null; warning: string | null; caExpires?: string };
  storage: Array<{ name: string; kind: string; location: string; freeBytes: number | null; totalBytes: number | null; reachable?: boolean; problem?: string }>;
  /** The blobs' old place after `mreg storage migrate`, until `--cleanup` deletes it; null otherwise. */
  localCopy: { kind: string; location: string } | null;
  /** The last `mreg backup` of this install, or null when none was written. */
  lastBackup: LastBackup | null;
  problems: string[];
}

export function statusReport(read: StatusRead, at: { scope: Scope; spec: InstallSpec; layout: QuayRootLayout; nowMs: number }): StatusReport {
  const { states, health, expires, caExpires, configYaml, modeProblems, storages, lastBackup } = read;
  const { spec, layout } = at;
  const problems: string[] = [];
  const ctl = systemctlCommand(at.scope);
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
  else if (expires instanceof Error) problems.push(`${layout.sslCert} is not a readable certificate (${expires.message}): run mreg up to reissue it (or mreg cert rotate --sslCert/--sslKey with your own)`);
  else {
    const daysLeft = Math.floor((expires.getTime() - at.nowMs) / 86_400_000);
    certificate.expires = expires.toISOString();
    certificate.daysLeft = daysLeft;
    if (daysLeft < 0) problems.push(`the server certificate expired on ${expires.toISOString().slice(0, 10)}: run mreg up to reissue it (or supply a new one with --sslCert/--sslKey)`);
    else if (daysLeft < EXPIRY_WARN_DAYS) certificate.warning = `the server certificate expires in ${daysLeft} days (${expires.toISOString().slice(0, 10)})`;
  }
  if (caExpires) {
    certificate.caExpires = caExpires.toISOString();
    const caDays = Math.floor((caExpires.getTime() - at.nowMs) / 86_400_000);
    const day = caExpires.toISOString().slice(0, 10);
    const fix = 'run mreg cert rotate --new-ca for a new CA and certificate, then trust the new CA where clients pull (mreg cert trust, and in the cluster); or serve a certificate of your own with mreg cert rotate --sslCert/--sslKey';
    if (caDays < 0) problems.push(`mreg's CA ${layout.caCert} expired on ${day}: clients refuse every certificate it issued; ${fix}`);
    else if (caDays < EXPIRY_WARN_DAYS) certificate.warning = `mreg's CA ${layout.caCert} expires in ${caDays} days (${day}), and with it the registry's certificate: ${fix}`;
  }
  if (configYaml === undefined) problems.push(`${layout.configYaml} is missing: run mreg up to rewrite it`);

  for (const m of modeProblems) problems.push(`${m.path}: ${m.problem}`);

  for (const { name, location, space, problem } of storage) {
    if (problem) problems.push(`${name} ${location}: ${problem}`);
    if (space && isLowOnSpace(space)) problems.push(`${name} ${location}: only ${(space.freeBytes / 1024 ** 2).toFixed(0)} MiB free of ${(space.totalBytes / 1024 ** 2).toFixed(0)} MiB; free space or move storage`);
  }

  return {
    healthy: problems.length === 0,
    scope: at.scope,
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
}
