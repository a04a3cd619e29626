// The SELinux step of up, upgrade and adopt: label the plan's bind paths before units that mount
// them without :Z are written or started.
import { labelForContainers } from '../host/selinux.js';
import type { Plan } from '../plan/plan.js';
import { CONTAINER_FILE_LABEL } from '../plan/selinux.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { Scope } from '../install-spec/spec.js';
import type { Output } from '../ui/output.js';

/** The progress line; the first run over existing data walks the whole tree. */
export const SELINUX_STEP = `SELinux label ${CONTAINER_FILE_LABEL} on bind storage (once; minutes for a large tree)`;


/** Labels each path in turn; rejects with the first HostError, before anything is started. */
export async function labelBindPaths(planned: Pick<Plan, 'selinuxLabels'>, scope: Scope, layout: QuayRootLayout, out: Output): Promise<void> {
  for (const path of planned.selinuxLabels) {
    const outcome = await labelForContainers(path, scope, layout.selinuxLabelled);
    if (outcome === 'unsupported') out.warn(`${path}: its file system keeps no SELinux labels (NFS?), so it is mounted as it is; containers then need the virt_use_nfs boolean`);
    else out.debug(`${path}: SELinux label ${outcome === 'already' ? 'already set by mreg' : 'set'}`);
  }
}
