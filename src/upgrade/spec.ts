// What an upgrade changes of the install record: the recorded inputs with the new images (and archive),
// as the spec to re-plan and as the record written once the registry is healthy.
import { stringFlag } from '../install-spec/flags.js';
import { parseUpOptions } from '../install-spec/options.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';
import type { FileChange } from './files.js';
import { checkQuayRootForTarget, remoteOptionEnv } from '../remote/on-target.js';
import { VERSION } from '../version.js';

/**
 * The spec to re-plan: the recorded one with only the given image flags (and archive) replaced.
 * Image flags go through parseUpOptions so they are checked exactly as `mreg up` checks them.
 */
export function upgradeSpec(record: InstallRecord, flags: Record<string, unknown>, home: string): InstallSpec {
  const rec = record.spec;
  const given = (k: string) => stringFlag(flags, k, 'upgrade');
  const parsed = parseUpOptions({
    quayHostname: `${rec.hostname}:${rec.port}`, quayRoot: rec.quayRoot,
    quayImage: given('quayImage') ?? rec.images.quay, pgImage: given('pgImage') ?? rec.images.postgres,
    redisImage: given('redisImage') ?? rec.images.redis, imageArchive: given('imageArchive'),
  }, { scope: rec.scope, fqdn: rec.hostname, home });
  const spec: InstallSpec = { ...rec, images: parsed.images };
  delete spec.imageArchive;
  if (parsed.imageArchive) spec.imageArchive = parsed.imageArchive;
  return spec;
}

/** upgrade -H HOST: --quayRoot and the image flags checked here as that host's mreg will (--timeout already was). */
export function checkUpgradeFlagsForTarget(flags: Record<string, unknown>, host: string): void {
  checkQuayRootForTarget(flags, host);
  const given = (k: string) => stringFlag(flags, k, 'upgrade');
  // Only the images are judged: the name stands in for the install's recorded one there.
  parseUpOptions({ quayHostname: 'registry.example.com', quayImage: given('quayImage'), pgImage: given('pgImage'), redisImage: given('redisImage') },
    remoteOptionEnv(flags, host));
}

/**
 * The record once upgraded at `now`: the images the registry now runs (and the archive they came from), the
 * PostgreSQL data check, and the files the plan wrote (after the move to quay.pod, no podman 4 pod unit).
 */
export function upgradedRecord(record: InstallRecord, spec: InstallSpec, pgData: InstallRecord['pgData'], now: Date, changes: readonly FileChange[]): InstallRecord {
  const removed = new Set(changes.filter(c => c.after === undefined).map(c => c.path));
  const files = [...record.files.filter(p => !removed.has(p)), ...unrecordedFiles(record, changes)];
  const updated: InstallRecord = { ...record, mregVersion: VERSION, updatedAt: now.toISOString(), spec: { ...record.spec, images: spec.images }, pgData, files };
  if (spec.imageArchive) updated.spec.imageArchive = spec.imageArchive;
  return updated;
}

/** Files a change writes that the record does not list (quay.pod, when the install moves to it). */
export function unrecordedFiles(record: Pick<InstallRecord, 'files'>, changes: readonly FileChange[]): string[] {
  return changes.filter(c => c.after !== undefined && !record.files.includes(c.path)).map(c => c.path);
}
