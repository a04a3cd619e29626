// What restore's phases share: the output and step log, the host, and who runs it.
import type { HostPorts, HostProbe } from '../actions/ports.js';
import type { Output } from '../ui/output.js';
import type { StepLog } from '../ui/step-log.js';

export interface RestoreRun {
  out: Output;
  /** Marks restore's steps as ended (plan/restore-steps.ts); up continues the same log. */
  log: StepLog;
  host: HostPorts;
  probe: HostProbe;
}
