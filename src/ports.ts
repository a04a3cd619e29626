// The real ports, built once per run by main.ts (the one place that wires host/ to the commands).
import type { ActionPorts, HostPorts } from './actions/ports.js';
import { findInstall } from './apply/install-lookup.js';
import { lockScope } from './commands/common.js';
import type { Output } from './ui/output.js';
import { gatherFacts, identify, type Identity } from './host/facts.js';
import { removeIfExists, writeFileAtomic } from './host/fs.js';
import { journalTail } from './host/journal.js';
import { disableLinger } from './host/linger.js';
import { createPodman } from './host/podman.js';
import { giveBackDir } from './host/storage.js';
import { connectSystemd, type Systemd } from './host/systemd.js';

/** Nothing is opened until actionPorts(); the caller must await close() in a finally. */
export function createHostPorts(opts: { env: NodeJS.ProcessEnv; out: Output }): HostPorts {
  let systemd: Systemd | undefined;
  return {
    probe: () => gatherFacts({ env: opts.env }),
    identify: () => ({ ...identify({ env: opts.env }), now: new Date() }),
    findInstall,
    lock: lockScope,
    async actionPorts(who: Identity): Promise<ActionPorts> {
      systemd ??= await connectSystemd(who.scope, opts.env);
      return {
        systemd,
        podman: createPodman({ verbose: opts.out.verbose, log: opts.out.debug }),
        files: { remove: removeIfExists, write: writeFileAtomic },
        disableLinger,
        giveBackDir: (dir, only) => giveBackDir(dir, who.scope, who, only),
        journalTail: unit => journalTail(unit, who.scope),
      };
    },
    async close() {
      const s = systemd;
      systemd = undefined;
      await s?.close();
    },
  };
}
