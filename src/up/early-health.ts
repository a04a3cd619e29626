// A re-run of a live install asks the registry's health once, beside its checks (issue 19). The answer
// stands in for the wait at the end only when the run then changes nothing: no file written, no secret
// made, every service already active, so the registry that answered is the one up would have waited for.
import type { InspectPorts } from '../actions/ports.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { InstallSpec } from '../install-spec/spec.js';

/** Whether /health/instance answered 200, and when it was asked; undefined: not asked. */
export type EarlyHealth = Promise<{ ok: boolean; askedAt: number }> | undefined;

/**
 * Asks once (no retry: a miss only means up waits as before) when the install is live and no flag changes it.
 * `signal` ends a request nobody will read (up aborts it as it ends), so a registry that takes the
 * connection and never answers cannot keep a failed or changed run's process alive for the 5 s.
 */
export function askHealthEarly(look: Pick<InspectPorts, 'health'>, spec: InstallSpec, layout: QuayRootLayout,
  previous: InstallRecord | undefined, flagChanges: readonly string[], signal?: AbortSignal): EarlyHealth {
  if (!previous || previous.removedAt || flagChanges.length > 0) return undefined;
  const askedAt = Date.now();
  return look.health({ hostname: spec.hostname, port: spec.port }, spec.tls.kind, layout, { tries: 1, timeoutMs: 5_000, ...(signal ? { signal } : {}) })
    .then(a => ({ ok: a.ok, askedAt }), () => ({ ok: false, askedAt }));
}
