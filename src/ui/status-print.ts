// What `mreg status` prints without --json: the units as a table, then the registry, certificate,
// storage and last backup, each problem, and healthy or NOT healthy.
import type { StatusReport } from '../status/report.js';
import type { Output } from './output.js';

export function printStatus(out: Output, r: StatusReport): void {
  const rows = [['UNIT', 'LOAD', 'ACTIVE', 'SUB', 'SINCE', 'PID', 'RESTARTS', 'RESULT'],
    ...r.units.map(u => [u.name, u.loadState, u.activeState, u.subState, u.since?.replace('T', ' ').slice(0, 19) ?? '-', String(u.mainPid || '-'), String(u.nRestarts), u.result || '-'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(row => row[i]!.length)));
  for (const row of rows) out.result(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  out.result('');
  out.result(`registry:    ${r.url}  health: ${r.health.ok ? out.green('ok') : out.red(r.health.status ? `HTTP ${r.health.status}` : 'unreachable')}`);
  out.result(`certificate: ${r.certificate.expires ? `expires ${r.certificate.expires.slice(0, 10)} (${r.certificate.daysLeft} days)` : 'missing'}${r.certificate.caExpires ? `, mreg's CA ${r.certificate.caExpires.slice(0, 10)}` : ''}`);
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
