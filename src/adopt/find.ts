// Locating a mirror-registry install on this host and moving its plain units out of systemd's way.
import { chmod, readdir, readlink, rename, copyFile, rmdir, symlink, unlink, lstat } from 'node:fs/promises';
import { join, resolve, dirname } from 'node:path';
import { HostError } from '../errors.js';
import { ensureDir, makeDirIfMissing, pathExists, readIfExists, writeFileAtomic } from '../host/fs.js';
import { systemdUnitDir } from '../model/scope.js';
import { UNITS } from '../model/views.js';
import { quayRootLayout } from '../install-spec/layout.js';
import type { Scope } from '../install-spec/spec.js';
import { LEGACY_UNITS, quayRootFromAppUnit, type LegacyFiles, type LegacyUnitName } from './spec.js';

export const BACKUP_DIR_NAME = 'mirror-registry-units.bak';

export interface FoundLegacy {
  unitDir: string;
  unitPaths: string[];
  quayRoot: string;
  files: LegacyFiles;
  /** `*.wants/quay-*.service` symlinks `systemctl enable` made for the old units. */
  wantsLinks: string[];
}

/** Rejects with HostError when there is no mirror-registry install in this scope. */
export async function findLegacy(scope: Scope, home: string, quayRootFlag: string | undefined): Promise<FoundLegacy> {
  // Where mirror-registry wrote its units: they shadow the Quadlet generator's output of the same name.
  const unitDir = systemdUnitDir(scope, home);
  const units: LegacyFiles['units'] = {};
  const unitPaths: string[] = [];
  for (const name of LEGACY_UNITS) {
    const text = await readIfExists(join(unitDir, name));
    if (text === undefined) continue;
    units[name as LegacyUnitName] = text;
    unitPaths.push(join(unitDir, name));
  }
  const app = units[UNITS.app];
  if (app === undefined) {
    throw new HostError(`no mirror-registry install found: ${join(unitDir, UNITS.app)} does not exist`,
      scope === 'rootful' ? 'a rootless (1.3) install is adopted by its user: run mreg adopt as that user' : 'a rootful (1.2) install is adopted as root: run sudo mreg adopt');
  }
  if (!/podman\s+run/.test(app.replace(/\\\r?\n/g, ' '))) {
    throw new HostError(`${join(unitDir, UNITS.app)} is not a mirror-registry unit (no \`podman run\`)`, 'if mreg already runs this registry, use mreg upgrade');
  }
  const quayRoot = quayRootFlag ?? quayRootFromAppUnit(app);
  if (!quayRoot) throw new HostError('cannot tell the quayRoot from quay-app.service (no …/quay-config mount)', 'pass --quayRoot DIR');
  const layout = quayRootLayout(resolve(quayRoot));
  const configYaml = await readIfExists(layout.configYaml);
  if (configYaml === undefined) throw new HostError(`${layout.configYaml} does not exist`, 'pass the right --quayRoot DIR');
  const hasRootCa = (await pathExists(layout.caCert)) && (await pathExists(layout.caKey));
  return { unitDir, unitPaths, quayRoot: layout.root, files: { units, configYaml, hasRootCa }, wantsLinks: await wantsLinks(unitDir) };
}

async function wantsLinks(unitDir: string): Promise<string[]> {
  const links: string[] = [];
  let dirs: string[];
  try { dirs = (await readdir(unitDir)).filter(d => /\.(wants|requires)$/.test(d)); } catch { return []; }
  for (const d of dirs) {
    for (const name of await readdir(join(unitDir, d)).catch(() => [] as string[])) {
      if (!(LEGACY_UNITS as readonly string[]).includes(name)) continue;
      const p = join(unitDir, d, name);
      if ((await lstat(p)).isSymbolicLink()) links.push(p);
    }
  }
  return links.sort();
}

/**
 * Moves the old unit files into quayRoot/mirror-registry-units.bak/ (kept for a manual roll back)
 * and removes their enable symlinks, recording where each pointed in links.txt.
 */
export async function backupLegacyUnits(found: FoundLegacy): Promise<string> {
  const dir = join(found.quayRoot, BACKUP_DIR_NAME);
  await ensureDir(dir, 0o700);
  const lines: string[] = [];
  for (const link of found.wantsLinks) lines.push(`${link} -> ${await readlink(link)}`);
  // Written before the first unlink: a put-back after a kill here knows every link there was.
  await writeFileAtomic(join(dir, 'links.txt'), lines.length ? `${lines.join('\n')}\n` : '', 0o600);
  for (const link of found.wantsLinks) await unlink(link);
  // A *.wants folder that only held these links goes too (systemctl disable does the same).
  for (const d of new Set(found.wantsLinks.map(l => dirname(l)))) await rmdir(d).catch(() => undefined);
  for (const p of found.unitPaths) {
    await moveFile(p, join(dir, p.split('/').pop()!));
  }
  return dir;
}

/** rename, or copy and unlink across file systems (/etc and quayRoot may be on different ones). */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw new HostError(`cannot move ${from} to ${to}: ${(err as Error).message}`);
    await copyFile(from, to);
    await unlink(from);
  }
}

/** Puts back what backupLegacyUnits moved: the unit files and their enable links (links.txt). */
export async function restoreLegacyUnits(found: Pick<FoundLegacy, 'quayRoot' | 'unitPaths'>): Promise<void> {
  const dir = join(found.quayRoot, BACKUP_DIR_NAME);
  for (const p of found.unitPaths) {
    const from = join(dir, p.split('/').pop()!);
    if (await pathExists(from)) await moveFile(from, p);
  }
  for (const line of ((await readIfExists(join(dir, 'links.txt'))) ?? '').split('\n')) {
    const [link, target] = line.split(' -> ');
    if (!link || !target) continue;
    await makeDirIfMissing(dirname(link), 0o755);
    if (!(await pathExists(link))) await symlink(target, link);
  }
}

/** Copies the old config.yaml next to the unit backup before mreg rewrites it (it holds secrets: 0600). */
export async function backupLegacyConfig(found: FoundLegacy): Promise<string> {
  const dest = join(found.quayRoot, BACKUP_DIR_NAME, 'config.yaml');
  await ensureDir(dirname(dest), 0o700);
  await writeFileAtomic(dest, found.files.configYaml, 0o600);
  return dest;
}

/**
 * Copies the served pair next to the old config (adopt may renew or replace it), and with --new-ca
 * moves the old CA there too, so mreg makes a new one and the old one can be put back.
 */
export async function backupLegacyTls(found: FoundLegacy, moveCa: boolean): Promise<void> {
  const layout = quayRootLayout(found.quayRoot);
  const dir = join(found.quayRoot, BACKUP_DIR_NAME);
  await ensureDir(dir, 0o700);
  for (const [from, name] of [[layout.sslCert, 'ssl.cert'], [layout.sslKey, 'ssl.key']] as const) {
    const text = await readIfExists(from);
    if (text !== undefined) await writeFileAtomic(join(dir, name), text, 0o600);
  }
  if (moveCa && await pathExists(layout.caDir)) await rename(layout.caDir, join(dir, 'quay-rootCA'));
}

/** mirror-registry left the served key world-readable (0644) and mreg status flags that: tighten to mreg's modes. */
export async function tightenModes(files: { path: string; mode: number }[]): Promise<void> {
  for (const f of files) if (await pathExists(f.path)) await chmod(f.path, f.mode);
}
