// The install record an adopted install starts with, and the pointer that lets down/status/upgrade find it.
import { dirname } from 'node:path';
import { access, constants } from 'node:fs/promises';
import type { FilePorts, HostProbe } from '../actions/ports.js';
import { executeActions, filesOnly } from '../actions/execute.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { recordSpec, RECORD_SCHEMA_VERSION, type InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { pointerPath } from '../model/scope.js';
import { ALL_SECRET_NAMES } from '../model/views.js';
import type { Plan } from '../plan/plan.js';
import { planRecordWrites } from '../plan/writes.js';
import type { Output } from '../ui/output.js';
import { VERSION } from '../version.js';
import { adoptedTakenDirs } from './spec.js';

export async function writeAdoptedRecord(files: FilePorts, out: Output, spec: InstallSpec, planned: Plan, layout: QuayRootLayout, probe: HostProbe): Promise<void> {
  const now = probe.now.toISOString();
  const record: InstallRecord = {
    schemaVersion: RECORD_SCHEMA_VERSION, mregVersion: VERSION, createdAt: now, updatedAt: now,
    spec: recordSpec(spec),
    files: [...new Set([...planned.files.map(f => f.path), layout.sslCert, layout.sslKey,
      ...(spec.tls.kind === 'generate' ? [layout.caCert, layout.caKey] : [])])].sort(),
    secrets: ALL_SECRET_NAMES,
    volumes: planned.volumes,
    // mirror-registry 1.3 turned linger on; it was not mreg.
    lingerEnabledByMreg: false,
    takenDirs: adoptedTakenDirs(spec, await access(dirname(spec.quayRoot), constants.W_OK).then(() => true, () => false)),
  };
  await executeActions(planRecordWrites(record, layout, pointerPath(spec.scope, probe.home)), filesOnly(files), { out });
}
