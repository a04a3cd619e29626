// The install record: what mreg made and from which inputs, so upgrade/down/status need no repeated flag.
import { z } from 'zod';
import { HostError } from '../errors.js';
import type { InstallSpec } from './spec.js';

export const RECORD_SCHEMA_VERSION = 1;

/** A folder or a named volume, as the record and adopt's marker keep it. */
export const storageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('volume'), name: z.string() }),
  z.object({ kind: z.literal('path'), path: z.string() }),
]);

const quayStorage = z.discriminatedUnion('kind', [
  ...storageSchema.options,
  // The key pair is never recorded: it is read from credentialsFile on every run that needs it.
  z.object({ kind: z.literal('s3'), bucket: z.string(), prefix: z.string(), endpoint: z.string(), credentialsFile: z.string(), caBundle: z.string().optional() }),
]);

export const recordSchema = z.object({
  schemaVersion: z.number().int(),
  mregVersion: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  spec: z.object({
    scope: z.enum(['rootful', 'rootless']),
    hostname: z.string(),
    port: z.number().int(),
    quayRoot: z.string(),
    quayStorage,
    pgStorage: storageSchema,
    tls: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('generate') }),
      z.object({ kind: z.literal('provided'), certPath: z.string(), keyPath: z.string(), skipCheck: z.boolean() }),
    ]),
    initUser: z.string(),
    images: z.object({ quay: z.string(), postgres: z.string(), redis: z.string() }),
    imageArchive: z.string().optional(),
    infraImage: z.string().optional(),
  }),
  /** Every file mreg wrote, so down removes exactly those. */
  files: z.array(z.string()),
  secrets: z.array(z.string()),
  volumes: z.array(z.string()),
  /** True only when mreg turned linger on; down turns it off only then. */
  lingerEnabledByMreg: z.boolean(),
  /** The PostgreSQL image (by ID) checked against the data's major version, so re-runs skip the check's container. */
  pgData: z.object({ imageId: z.string(), major: z.string() }).optional(),
  /** quayRoot and bind storage folders mreg created, found empty and took, or adopted (spec/taken-dirs.ts); --purge gives back only these. */
  takenDirs: z.array(z.object({
    path: z.string(),
    createdFrom: z.string().optional(),
    adopted: z.boolean().optional(),
    mode: z.number().int().optional(),
    uid: z.number().int().optional(),
    gid: z.number().int().optional(),
  })).optional(),
  /** Each volume's host folder as podman reported it when up last ran, so status needs no podman process. */
  volumeMountpoints: z.record(z.string(), z.string()).optional(),
  /** podman's secrets folder (GRAPHROOT/secrets), confirmed when up last asked podman, so a re-run reads values from its files (host/secret-store.ts). */
  secretStore: z.string().optional(),
  /** Set by `mreg down` without --purge: units and secrets are gone, data and quayRoot are kept. */
  removedAt: z.string().optional(),
  /** Set by `mreg storage migrate`: the local storage the blobs were copied from, kept until the user deletes it. */
  migratedFrom: storageSchema.optional(),
  /** Set by `mreg storage migrate` before its first copy, until its switch: the prefix holding its copy is its own. */
  migratingTo: z.object({ bucket: z.string(), prefix: z.string(), endpoint: z.string() }).optional(),
});

export type InstallRecord = z.infer<typeof recordSchema>;

export function recordSpec(spec: InstallSpec): InstallRecord['spec'] {
  // The access rules live in config.yaml, which every later run keeps.
  const { initPassword: _omitPassword, accessRules: _inConfigYaml, ...rest } = spec;
  if (rest.quayStorage.kind !== 's3') return rest;
  const { keys: _omitKeys, caPem: _omitPem, ...quayStorage } = rest.quayStorage;
  return { ...rest, quayStorage };
}

/**
 * The spec an earlier run rendered from, for comparing its files with this run's: the record's fields over
 * this run's, an object store's keys and CA this run's (never recorded), and no access-rule flag.
 */
export function recordedSpec(spec: InstallSpec, recorded: InstallRecord['spec']): InstallSpec {
  const { accessRules: _thisRun, ...rest } = spec;
  const q = recorded.quayStorage;
  const now = spec.quayStorage.kind === 's3' ? spec.quayStorage : undefined;
  const quayStorage = q.kind === 's3' ? { ...q, keys: now?.keys ?? { accessKey: '', secretKey: '' }, ...(now?.caPem ? { caPem: now.caPem } : {}) } : q;
  return { ...rest, ...recorded, quayStorage };
}

export function serializeRecord(record: InstallRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Every command reads the record first and refuses a damaged one, so the fix is the user's. */
const DAMAGED_FIX = 'put back a copy from before the damage (every mreg backup holds one: quay-root/mreg-install.json), or correct the file by hand; no mreg command rewrites it';

/** Throws HostError naming the file and the fix when the record is corrupt or from a newer mreg. */
export function parseRecord(text: string, path: string): InstallRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HostError(`${path}: install record is not valid JSON`, DAMAGED_FIX);
  }
  const version = (data as { schemaVersion?: unknown })?.schemaVersion;
  if (typeof version === 'number' && version > RECORD_SCHEMA_VERSION) {
    throw new HostError(`${path}: install record has schema version ${version}, newer than this mreg understands (${RECORD_SCHEMA_VERSION})`, 'use the mreg release that made this install, or a newer one');
  }
  const parsed = recordSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new HostError(`${path}: install record is damaged (${first?.path.join('.') || 'root'}: ${first?.message})`, DAMAGED_FIX);
  }
  return parsed.data;
}
