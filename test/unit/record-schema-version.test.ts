// The install record's fields are pinned to RECORD_SCHEMA_VERSION. An mreg reads a record of its own version
// and rewrites it with only the fields it knows: a newer mreg's field would be dropped by an older one on its
// next run (takenDirs lost, and a later `down --purge` deletes the admin's own folders whole). A newer version
// is refused (parseRecord). So a change of fields is a decision, made here: bump the version when an older
// mreg must not rewrite the new record, then pin the new list.
import t from 'tap';
import { z } from 'zod';
import { RECORD_SCHEMA_VERSION, recordSchema } from '../../src/install-spec/record.js';

/** Every property path of a JSON schema, "a.b" for nested objects, "a[].b" for arrays of them, unions merged. */
function paths(s: unknown, at = ''): string[] {
  const node = s as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[]; oneOf?: unknown[]; additionalProperties?: unknown };
  const out: string[] = [];
  for (const [k, v] of Object.entries(node.properties ?? {})) out.push(`${at}${k}`, ...paths(v, `${at}${k}.`));
  if (node.items) out.push(...paths(node.items, at.replace(/\.$/, '[].')));
  for (const v of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) out.push(...paths(v, at));
  if (typeof node.additionalProperties === 'object') out.push(...paths(node.additionalProperties, `${at}*.`));
  return [...new Set(out)].sort();
}

/** The fields of each version, as this mreg writes it (version 1: mreg 0.1.0, the first release). */
const PINNED: Record<number, readonly string[]> = {
  1: [
    'createdAt', 'files', 'lingerEnabledByMreg', 'migratedFrom', 'migratedFrom.kind', 'migratedFrom.name',
    'migratedFrom.path', 'migratingTo', 'migratingTo.bucket', 'migratingTo.endpoint', 'migratingTo.prefix',
    'mregVersion', 'pgData', 'pgData.imageId', 'pgData.major', 'removedAt', 'schemaVersion', 'secretStore', 'secrets',
    'spec', 'spec.hostname', 'spec.imageArchive', 'spec.images', 'spec.images.postgres', 'spec.images.quay',
    'spec.images.redis', 'spec.infraImage', 'spec.initUser', 'spec.pgStorage', 'spec.pgStorage.kind',
    'spec.pgStorage.name', 'spec.pgStorage.path', 'spec.port', 'spec.quayRoot', 'spec.quayStorage',
    'spec.quayStorage.bucket', 'spec.quayStorage.caBundle', 'spec.quayStorage.credentialsFile',
    'spec.quayStorage.endpoint', 'spec.quayStorage.kind', 'spec.quayStorage.name', 'spec.quayStorage.path',
    'spec.quayStorage.prefix', 'spec.scope', 'spec.tls', 'spec.tls.certPath', 'spec.tls.keyPath', 'spec.tls.kind',
    'spec.tls.skipCheck', 'takenDirs', 'takenDirs[].adopted', 'takenDirs[].createdFrom', 'takenDirs[].gid',
    'takenDirs[].mode', 'takenDirs[].path', 'takenDirs[].uid', 'updatedAt', 'volumeMountpoints', 'volumes',
  ],
};

t.test(`the record's fields are those of schema version ${RECORD_SCHEMA_VERSION}`, async t => {
  t.same(paths(z.toJSONSchema(recordSchema, { io: 'input' })), PINNED[RECORD_SCHEMA_VERSION], 'changed fields: bump RECORD_SCHEMA_VERSION if an older mreg must not rewrite such a record (it would drop the new field), then pin the list');
});
