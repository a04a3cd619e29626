// What a command does to the host, as data: planned purely, printed by --dry-run, run by execute.ts.
import type { InstallRecord } from '../install-spec/record.js';
import type { TakenDir } from '../install-spec/taken-dirs.js';

/** What one action does, without its id. */
export type ActionBody =
  | { kind: 'stop-unit'; unit: string }
  /**
   * A start job (`restart`: a restart job), enqueued with the start jobs beside it. The unit must be loaded
   * (the reload generated it); a failed one is reset first. `mode` "ignore-requirements": the unit alone.
   */
  | { kind: 'start-unit'; unit: string; restart?: boolean; mode?: 'ignore-requirements' }
  /** A restart job on its own: what follows waits for it (the pod's, which stops the containers bound to it). */
  | { kind: 'restart-unit'; unit: string }
  | { kind: 'remove-file'; path: string }
  /** The folder and its missing parents with `mode`; `exact`: an existing folder gets `mode` too. */
  | { kind: 'make-dir'; path: string; mode: number; exact?: boolean }
  /**
   * `content` at `path`, atomically, when the file differs (the run reports it written); the same file only
   * gets its `mode` back. The content may hold secrets (config.yaml): only the path is ever printed.
   */
  | { kind: 'write-file'; path: string; content: string; mode: number }
  /** What is in `from` (a scratch folder) into the existing folder `into`, modes and times kept (cp -a); `what` names it in an error. */
  | { kind: 'copy-into'; from: string; into: string; what: string }
  | { kind: 'daemon-reload' }
  /** `unit`: the service whose stop removes it (ExecStopPost); skipped when that stop, in this run, did. */
  | { kind: 'remove-container'; name: string; unit: string }
  | { kind: 'remove-pod'; name: string; unit: string }
  | { kind: 'remove-secret'; name: string }
  /** A podman secret holding `value` (never printed); `replace`: over one of that name. */
  | { kind: 'create-secret'; name: string; value: string; replace?: boolean }
  | { kind: 'remove-volume'; name: string }
  | { kind: 'disable-linger'; uid: number; user: string }
  /**
   * `only`: the names a container writes at the folder's top; anything else in it stays, and so does the folder.
   * `spare`: top-level names that stay whatever else goes (a storage folder inside it, given back on its own).
   */
  | { kind: 'give-back-dir'; dir: TakenDir; only?: readonly string[]; spare?: readonly string[] }
  /** Changes nothing: says what stays; `warn` repeats it as a warning when run. */
  | { kind: 'keep'; what: string; warn?: boolean }
  /** Until `url` (the registry's /health/instance) answers 200, or the run's deadline: quay-app's start job ends before that. */
  | { kind: 'wait-health'; url: string }
  | { kind: 'write-record'; path: string; record: InstallRecord };

/**
 * One step on the host. `id` is `kind:target`, stable across runs (fault tests and --json key on it);
 * `progress` is the progress line printed once for a run of consecutive actions that share it.
 */
export type Action = ActionBody & { id: string; progress?: string };

export type ActionKind = Action['kind'];

/** An action with its id, printed under `progress` when given. */
export function action(body: ActionBody, progress?: string): Action {
  return { id: `${body.kind}${targetOf(body)}`, ...body, ...(progress ? { progress } : {}) };
}

function targetOf(b: ActionBody): string {
  switch (b.kind) {
    case 'stop-unit': case 'start-unit': case 'restart-unit': return `:${b.unit}`;
    case 'remove-file': case 'write-record': case 'make-dir': case 'write-file': return `:${b.path}`;
    case 'remove-container': case 'remove-pod': case 'remove-secret': case 'create-secret': case 'remove-volume': return `:${b.name}`;
    case 'give-back-dir': return `:${b.dir.path}`;
    case 'copy-into': return `:${b.into}`;
    case 'keep': return `:${b.what}`;
    case 'wait-health': return `:${b.url}`;
    case 'disable-linger': return `:${b.user}`;
    case 'daemon-reload': return '';
  }
}

/** The dry-run line of an action: what it does, in the words the user reads. */
export function describeAction(a: ActionBody): string {
  switch (a.kind) {
    case 'stop-unit': return `stop ${a.unit}`;
    case 'start-unit': return a.restart ? `restart ${a.unit} (a file it runs changed)` : `start ${a.unit}${a.mode ? ' alone (not what it wants)' : ''}`;
    case 'restart-unit': return `restart ${a.unit} (the containers bound to it stop with it)`;
    case 'remove-file': return `remove ${a.path}`;
    case 'make-dir': return `create folder ${a.path} (mode ${a.mode.toString(8).padStart(4, '0')}${a.exact ? ', also when it exists' : ''})`;
    case 'write-file': return `write ${a.path} if it differs`;
    case 'copy-into': return `copy what is in ${a.from} into ${a.into}`;
    case 'daemon-reload': return 'systemd Reload';
    case 'remove-container': return `remove container ${a.name} if a crash left it`;
    case 'remove-pod': return `remove pod ${a.name} if a crash left it`;
    case 'remove-secret': return `remove podman secret ${a.name}`;
    case 'create-secret': return `create podman secret ${a.name}${a.replace ? ' (replacing one of that name)' : ''}`;
    case 'remove-volume': return `DELETE podman volume ${a.name}`;
    case 'disable-linger': return `disable linger for ${a.user} (mreg enabled it)`;
    case 'give-back-dir': {
      const what = a.only ? `DELETE ${a.only.join(', ')} in ${a.dir.path}` : a.spare ? `DELETE all but ${a.spare.join(', ')} in ${a.dir.path}` : undefined;
      if (a.dir.createdFrom !== undefined) return what ? `${what}, then the folder if nothing else is in it` : `DELETE ${a.dir.path}`;
      if (a.dir.adopted) return `${what ?? `EMPTY ${a.dir.path}`} (mirror-registry's folder before mreg; it stays)`;
      return what ? `${what} (it was empty when mreg took it; it stays)` : `EMPTY ${a.dir.path} (it was empty when mreg took it; it stays)`;
    }
    case 'keep': return `keep ${a.what}`;
    case 'wait-health': return `wait until ${a.url} answers 200`;
    case 'write-record': return a.record.removedAt ? `mark the install record ${a.path} removed` : `write the install record ${a.path}`;
  }
}
