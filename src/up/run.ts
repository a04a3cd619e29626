// What up's steps under the lock share: the output and step log, the ports, and the install as checked;
// and what a command that runs up inside its own run (restore, storage migrate) hands it.
import type { ActionPorts, HostPorts, HostProbe, InspectPorts, Podman, RegistryEndpoint } from '../actions/ports.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';
import type { StepLog } from '../ui/step-log.js';
import type { Output } from '../ui/output.js';
import type { RecordBase } from './record.js';

export type Systemd = ActionPorts['systemd'];

export interface UpContext {
  out: Output;
  /** Marks up's steps as ended, in upSteps' order (plan/up-steps.ts). */
  did: StepLog['did'];
  host: HostPorts;
  /** Read-only looks as the user who runs mreg. */
  look: InspectPorts;
  podman: Podman;
  probe: HostProbe;
  /** The install's scope: its systemd and PostgreSQL data. */
  target: HostProbe;
  layout: QuayRootLayout;
  spec: InstallSpec;
  /** This scope's install record, when there is one (also after `mreg down`). */
  previous?: InstallRecord;
  /** The scope's action ports, connected on first use: only a job (reload, start) or a crash watch needs them (issue 19). */
  connect: () => Promise<ActionPorts>;
}

/** The same once the host checks passed: the spec with the images as loaded, and what the record keeps of the checks. */
export type UpRun = UpContext & RecordBase;

/** What a hook gets: the scope's systemd, the install, where it answers, podman. */
export interface HookRun { systemd: Systemd; spec: InstallSpec; endpoint: RegistryEndpoint; podman: Podman }

/** What another command (restore, storage migrate) does inside up's run. */
export interface UpHooks {
  /** The caller's step log, which up continues: its report's `steps` are the caller's, then up's. */
  log?: StepLog;
  /**
   * Up starts every unit but quay-app and runs this instead of its health wait, before the first user:
   * restore puts the data back before Quay first starts, and then starts quay-app and waits for its health.
   */
  beforeApp?: (run: HookRun) => Promise<void>;
  /** Runs with the registry healthy and the lock held, before up writes the record. */
  beforeReport?: (run: HookRun) => Promise<void>;
}
