// Host checks before any change, collected all at once: errors stop `mreg up`, warnings only inform.
import type { InstallSpec } from '../install-spec/spec.js';
import { compareVersions, PODMAN_SUPPORT } from './compat.js';
import { podmanTooOld } from './plan.js';
import { MIN_PODMAN_4X, usesPodman4Layout } from './podman4.js';

export interface PreflightFacts {
  podmanVersion?: readonly [number, number, number];
  cgroupV2: boolean;
  systemdReachable: boolean;
  systemdError?: string;
  hasSubuid: boolean;
  hasSubgid: boolean;
  portFree: boolean;
  /** True when the port is held by this very install (a re-run); then it is not a conflict. */
  portOwnedByInstall: boolean;
  hostnameResolves: boolean;
  memTotalBytes: number;
  cpus: number;
  diskFreeBytes: number;
  user: string;
}

export interface PreflightResult {
  errors: string[];
  warnings: string[];
}

const GiB = 1024 ** 3;
// mirror-registry's documented minimum: 2 vCPU, 8 GB RAM, about 12 GB of disk for the release images.
const MIN_CPUS = 2;
const MIN_MEM = 8 * 1000 ** 3 * 0.95;
const MIN_DISK = 12 * GiB;

export function preflight(spec: InstallSpec, f: PreflightFacts): PreflightResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const v = f.podmanVersion;
  if (!v) errors.push(`podman is not installed; install it (dnf install podman): mreg needs ${PODMAN_SUPPORT}`);
  else if (compareVersions(v, MIN_PODMAN_4X) < 0) errors.push(`${podmanTooOld(v)}; upgrade podman (dnf update podman)`);
  else if (usesPodman4Layout(v)) warnings.push(`podman ${v.join('.')}: using the podman 4 layout (a plain quay-pod.service, containers joining it with --pod); when the host moves to podman 5, run mreg up once to move to quay.pod`);
  if (!f.cgroupV2) errors.push('cgroup v2 is not active (Quadlet needs it); boot with systemd.unified_cgroup_hierarchy=1 (RHEL 8: grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1, then reboot)');
  if (!f.systemdReachable) errors.push(`systemd is not reachable over D-Bus${f.systemdError ? ` (${f.systemdError})` : ''}; mreg needs systemd as init and a running ${spec.scope === 'rootless' ? 'user manager (log in, or enable linger)' : 'system bus'}`);
  if (spec.scope === 'rootless' && !(f.hasSubuid && f.hasSubgid)) {
    const missing = [...(f.hasSubuid ? [] : ['/etc/subuid']), ...(f.hasSubgid ? [] : ['/etc/subgid'])];
    const fix = [...(f.hasSubuid ? [] : ['--add-subuids 100000-165535']), ...(f.hasSubgid ? [] : ['--add-subgids 100000-165535'])];
    errors.push(`user ${f.user} has no entry in ${missing.join(' or ')}; add one: usermod ${fix.join(' ')} ${f.user}`);
  }
  if (!f.portFree && !f.portOwnedByInstall) errors.push(`port ${spec.port} is already in use; free it or choose another port with --quayHostname ${spec.hostname}:PORT`);
  if (!f.hostnameResolves) errors.push(`--quayHostname ${spec.hostname}: the name does not resolve on this host; add it to DNS or /etc/hosts`);
  if (spec.scope === 'rootless' && spec.port < 1024) errors.push(`--quayHostname ${spec.hostname}:${spec.port}: a rootless install cannot publish a port below 1024; use 8443 or run as root`);
  if (f.cpus < MIN_CPUS) warnings.push(`${f.cpus} CPU(s); mirror-registry recommends at least ${MIN_CPUS}`);
  if (f.memTotalBytes < MIN_MEM) warnings.push(`${(f.memTotalBytes / GiB).toFixed(1)} GiB of RAM; at least 8 GB is recommended`);
  if (f.diskFreeBytes < MIN_DISK) warnings.push(`${(f.diskFreeBytes / GiB).toFixed(1)} GiB free for storage; mirroring an OpenShift release needs about 12 GB or more`);
  return { errors, warnings };
}
