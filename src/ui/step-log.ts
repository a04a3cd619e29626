// The ids of the steps a command finished, in order: `--json` reports them (`steps`), and --verbose
// prints "step ID" as each ends, the line the VM fault tests kill mreg on.
import type { Output } from './output.js';

export interface StepLog {
  /** The ids of the steps that ended, in the order they ended. */
  readonly ran: readonly string[];
  /** Marks these steps as ended. */
  did(...ids: string[]): void;
}

export function stepLog(out: Pick<Output, 'debug'>): StepLog {
  const ran: string[] = [];
  return { ran, did: (...ids) => { for (const id of ids) { ran.push(id); out.debug(`step ${id}`); } } };
}
