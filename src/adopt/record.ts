// The install record an adopted install starts with, and the pointer that lets down/status/upgrade find it.
import { dirname } from 'node:path';
import { access, constants } from 'node:fs/promises';
import type { FilePorts, HostProbe } from '../actions/ports.js';
import { writeIfChanged } from '../apply/units-step.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import { recordSpec, serializeRecord, RECORD_SCHEMA_VERSION, type InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';
import { pointerPath } from '../model/scope.js';
import { ALL_SECRET_NAMES } from '../model/views.js';
import type { Plan } from '../plan/plan.js';
import { VERSION } from '../version.js';
import { adoptedTakenDirs } from './spec.js';

export async function writeAdoptedRecord(files: FilePorts, spec: InstallSpec, planned: Plan, layout: QuayRootLayout, probe: HostProbe): Promise<void> {
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
  await writeIfChanged(layout.record, serializeRecord(record), 0o600);
  const pointer = pointerPath(spec.scope, probe.home);
  await files.makeDir(dirname(pointer), 0o755);
  await writeIfChanged(pointer, `${spec.quayRoot}\n`, 0o644);
}
