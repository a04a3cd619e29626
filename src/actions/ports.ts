// The host operations commands and the executor use, as interfaces: host/ports.ts implements them,
// test/support/fake-host.ts fakes them in memory.
import type { FoundInstall } from '../apply/install-lookup.js';
import type { HostProbe, Identity } from '../host/facts.js';
import type { Podman } from '../host/podman.js';
import type { Systemd } from '../host/systemd.js';
import type { TakenDir } from '../install-spec/taken-dirs.js';

export type { FoundInstall, HostProbe };

/** What execute.ts needs to run every action kind; bound to one scope and user. */
export interface ActionPorts {
  systemd: Pick<Systemd, 'stopUnit' | 'resetFailed' | 'reload'>;
  podman: Pick<Podman, 'containersRemove' | 'podRemove' | 'secretRemove' | 'volumeRemove'>;
  files: {
    /** Removes a file or tree; a missing path is not an error. */
    remove(path: string): Promise<void>;
    /** Atomic write (readers see the old or the new bytes), then `mode`. */
    write(path: string, content: string, mode: number): Promise<void>;
  };
  /** logind SetUserLinger(uid, false), checked; rejects with HostError. */
  disableLinger(uid: number): Promise<void>;
  /**
   * host/storage.ts giveBackDir for this scope and user; a missing folder is already given back. With
   * `only`, just those top-level names go; resolves with the names left in the folder (lost+found aside).
   */
  giveBackDir(dir: TakenDir, only?: readonly string[]): Promise<string[]>;
  /** The unit's last journal lines; never rejects (it runs while reporting another error). */
  journalTail(unit: string): Promise<string[]>;
}

/** The host as a command sees it: read once, lock, then act through ActionPorts. */
export interface HostPorts {
  /** host/facts.ts gatherFacts: read-only probing, once per command. */
  probe(): Promise<HostProbe>;
  /** Who runs this command, and when: no process and no D-Bus (down needs no more than this). */
  identify(): Identity & { now: Date };
  /** The install of `scope` from --quayRoot, the pointer or the default; rejects with HostError when none. */
  findInstall(flags: Record<string, unknown>, scope: HostProbe['scope'], home: string): Promise<FoundInstall>;
  /** Takes the scope's lock; resolves with its release, which the caller must await in a finally. */
  lock(who: Identity): Promise<() => Promise<void>>;
  /** The action ports of `who`'s scope: connects to its systemd (HostError when unreachable), closed by close(). */
  actionPorts(who: Identity): Promise<ActionPorts>;
  /** Closes what the ports opened (the D-Bus connection). Safe to call twice. */
  close(): Promise<void>;
}
