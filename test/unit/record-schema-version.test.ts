// The install record's fields are pinned to RECORD_SCHEMA_VERSION. An mreg reads a record of its own version
// and rewrites it with only the fields it knows: a newer mreg's field would be dropped by an older one on its
// next run (takenDirs lost, and a later `down --purge` deletes the admin's own folders whole), and a new value
// (a third tls kind) or type would make the older one call the record damaged. A newer version is refused
// (parseRecord). So a change of fields is a decision, made here: bump the version when an older mreg must not
// read the new record, then pin the new list.
import t from 'tap';
import { z } from 'zod';
import { RECORD_SCHEMA_VERSION, recordSchema } from '../../src/install-spec/record.js';

/** One line per field: "path: type" (values of a const or enum after "=", "?" when optional), variants joined by " | ". */
function fields(schema: unknown): string[] {
  const at = new Map<string, Set<string>>();
  const add = (path: string, what: string) => at.set(path, (at.get(path) ?? new Set()).add(what));
  const walk = (s: unknown, path: string, optional: boolean): void => {
    const n = s as Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[]; items?: unknown; oneOf?: unknown[]; anyOf?: unknown[]; additionalProperties?: unknown; type?: string; const?: unknown; enum?: unknown[] };
    for (const k of ['$ref', 'allOf', 'prefixItems']) if (k in n) throw new Error(`${path}: ${k} in the record's JSON schema: teach this walker to read it`);
    const opt = optional ? '?' : '';
    const variants = n.oneOf ?? n.anyOf;
    if (variants) { for (const v of variants) walk(v, path, optional); return; }
    if (n.properties) {
      if (path) add(path, `object${opt}`);
      for (const [k, v] of Object.entries(n.properties)) walk(v, path ? `${path}.${k}` : k, !(n.required ?? []).includes(k));
    } else if (n.items) {
      add(path, `array${opt}`);
      walk(n.items, `${path}[]`, false);
    } else if (typeof n.additionalProperties === 'object') {
      add(path, `map${opt}`);
      walk(n.additionalProperties, `${path}.*`, false);
    } else {
      const values = n.const !== undefined ? `=${String(n.const)}` : n.enum ? `=${n.enum.join('|')}` : '';
      add(path, `${n.type ?? 'any'}${values}${opt}`);
    }
  };
  walk(schema, '', false);
  return [...at].map(([p, w]) => `${p}: ${[...w].sort().join(' | ')}`).sort();
}

/** The fields of each version, as this mreg writes it (version 1: mreg 0.1.0, the first release). */
const PINNED: Record<number, readonly string[]> = {
  1: [
    'createdAt: string',
    'files: array',
    'files[]: string',
    'lingerEnabledByMreg: boolean',
    'migratedFrom.kind: string=path | string=volume',
    'migratedFrom.name: string',
    'migratedFrom.path: string',
    'migratedFrom: object?',
    'migratingTo.bucket: string',
    'migratingTo.endpoint: string',
    'migratingTo.prefix: string',
    'migratingTo: object?',
    'mregVersion: string',
    'pgData.imageId: string',
    'pgData.major: string',
    'pgData: object?',
    'removedAt: string?',
    'schemaVersion: integer',
    'secretStore: string?',
    'secrets: array',
    'secrets[]: string',
    'spec.hostname: string',
    'spec.imageArchive: string?',
    'spec.images.postgres: string',
    'spec.images.quay: string',
    'spec.images.redis: string',
    'spec.images: object',
    'spec.infraImage: string?',
    'spec.initUser: string',
    'spec.pgStorage.kind: string=path | string=volume',
    'spec.pgStorage.name: string',
    'spec.pgStorage.path: string',
    'spec.pgStorage: object',
    'spec.port: integer',
    'spec.quayRoot: string',
    'spec.quayStorage.bucket: string',
    'spec.quayStorage.caBundle: string?',
    'spec.quayStorage.credentialsFile: string',
    'spec.quayStorage.endpoint: string',
    'spec.quayStorage.kind: string=path | string=s3 | string=volume',
    'spec.quayStorage.name: string',
    'spec.quayStorage.path: string',
    'spec.quayStorage.prefix: string',
    'spec.quayStorage: object',
    'spec.scope: string=rootful|rootless',
    'spec.tls.certPath: string',
    'spec.tls.keyPath: string',
    'spec.tls.kind: string=generate | string=provided',
    'spec.tls.skipCheck: boolean',
    'spec.tls: object',
    'spec: object',
    'takenDirs: array?',
    'takenDirs[].adopted: boolean?',
    'takenDirs[].createdFrom: string?',
    'takenDirs[].gid: integer?',
    'takenDirs[].mode: integer?',
    'takenDirs[].path: string',
    'takenDirs[].uid: integer?',
    'takenDirs[]: object',
    'updatedAt: string',
    'volumeMountpoints.*: string',
    'volumeMountpoints: map?',
    'volumes: array',
    'volumes[]: string',
  ],
};

t.test(`the record's fields are those of schema version ${RECORD_SCHEMA_VERSION}`, async t => {
  t.same(fields(z.toJSONSchema(recordSchema, { io: 'input' })), PINNED[RECORD_SCHEMA_VERSION], 'changed fields: bump RECORD_SCHEMA_VERSION if an older mreg must not read such a record (it would drop a new field, or refuse a new value), then pin the list');
});

t.test('the walker sees what an older mreg would stumble on', async t => {
  const base = z.object({ tls: z.discriminatedUnion('kind', [z.object({ kind: z.literal('generate') })]), on: z.boolean(), dirs: z.array(z.object({ path: z.string() })).optional() });
  const now = fields(z.toJSONSchema(base, { io: 'input' }));
  const changed = {
    'a new tls kind': z.object({ ...base.shape, tls: z.discriminatedUnion('kind', [z.object({ kind: z.literal('generate') }), z.object({ kind: z.literal('acme') })]) }),
    'a type changed': z.object({ ...base.shape, on: z.string() }),
    'an optional field made required': z.object({ ...base.shape, dirs: z.array(z.object({ path: z.string() })) }),
    'a field inside an array\'s objects': z.object({ ...base.shape, dirs: z.array(z.object({ path: z.string(), mode: z.number().optional() })).optional() }),
    'a new optional field': z.object({ ...base.shape, extra: z.string().optional() }),
  };
  for (const [what, schema] of Object.entries(changed)) t.not(fields(z.toJSONSchema(schema, { io: 'input' })).join('\n'), now.join('\n'), what);
});
