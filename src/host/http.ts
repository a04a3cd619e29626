// HTTPS to the registry on this host: health probes and user initialisation, verified against our CA.
import { HostError } from '../errors.js';
import { shortUnitName } from '../model/views.js';
import { Agent, request, type RequestOptions } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';

export interface HttpResult {
  status: number;
  body: string;
}

export interface RegistryEndpoint {
  /** Name the certificate must carry (SNI and hostname check). */
  hostname: string;
  port: number;
  /** PEM of the CA that signed the serving certificate; undefined = the system's trust store. */
  ca?: string;
  /** Address to connect to; 127.0.0.1 so no DNS is needed on the registry host itself. */
  address?: string;
}

// One TLS context per CA: building it parses the PEM and fills an X509 store, which up's health wait
// (5 probes a second) and status did again for every request.
const contexts = new Map<string, SecureContext>();
function contextFor(ca: string | undefined): SecureContext | undefined {
  if (ca === undefined) return undefined;
  let c = contexts.get(ca);
  if (!c) contexts.set(ca, c = createSecureContext({ ca }));
  return c;
}

/** Resolves with the status and body, or rejects with the network/TLS error (never on HTTP status). */
export function httpsRequest(ep: RegistryEndpoint, method: string, path: string, body?: unknown, timeoutMs = 10_000,
  headers: Record<string, string> = {}, agent: Agent | false = false, signal?: AbortSignal): Promise<HttpResult> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      host: ep.address ?? '127.0.0.1',
      port: ep.port,
      servername: ep.hostname,
      path,
      method,
      // tls.connect takes it; @types/node's RequestOptions does not list it.
      ...({ secureContext: contextFor(ep.ca) } as RequestOptions),
      headers: {
        host: `${ep.hostname}:${ep.port}`,
        ...headers,
        ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
      },
      timeout: timeoutMs,
      agent,
      ...(signal ? { signal } : {}),
    }, res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', chunk => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface HealthAnswer { ok: boolean; status: number | null; error: string | null }

/** `signal`: a caller that no longer needs the answer ends the request (an aborted probe is a final "no"). */
export interface HealthProbeOptions { tries?: number; timeoutMs?: number; pauseMs?: number; signal?: AbortSignal }

/** Errors a busy or restarting registry gives for a moment; a TLS or certificate error is final. */
const TRANSIENT = new Set(['ETIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * One answer from GET /health/instance for `mreg status`: an HTTP status is final, a failed request
 * is an answer too (error set), never a rejection. A loaded host can miss one answer (CI saw a
 * healthy rootless registry give none within 5 s), so a timeout or a refused connection is asked
 * again, `tries` times in all, before status calls the registry unreachable.
 */
export async function probeHealth(ep: RegistryEndpoint, { tries = 3, timeoutMs = 10_000, pauseMs = 1_000, signal }: HealthProbeOptions = {},
  send: (timeoutMs: number) => Promise<HttpResult> = ms => httpsRequest(ep, 'GET', '/health/instance', undefined, ms, {}, false, signal)): Promise<HealthAnswer> {
  let error = '';
  for (let i = 1; i <= tries; i++) {
    try {
      const r = await send(timeoutMs);
      return { ok: r.status === 200, status: r.status, error: null };
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      if (!TRANSIENT.has((err as NodeJS.ErrnoException).code ?? '')) return { ok: false, status: null, error };
    }
    if (i < tries) await new Promise(r => setTimeout(r, pauseMs));
  }
  return { ok: false, status: null, error: tries > 1 ? `${error} (asked ${tries} times)` : error };
}

/** A unit that keeps exiting while mreg waits: waiting until the deadline would not help. */
export class CrashLoopError extends HostError {
  constructor(readonly unit: string, readonly reason: string) {
    super(`${unit}: ${reason}`, `see why: mreg logs ${shortUnitName(unit)}`);
  }
}

export interface HealthWaitOptions {
  intervalMs?: number;
  /** Asked every `giveUpEveryMs`: a reason ends the wait at once with a CrashLoopError for `unit`. */
  giveUp?: { unit: string; check: () => Promise<string | undefined>; everyMs?: number };
}

/**
 * Probes GET /health/instance every intervalMs until it answers 200 or the deadline passes.
 * HTTP has no readiness signal to subscribe to, so a short probe interval is how "ready" is seen quickly.
 * Resolves with the number of ms waited; rejects with the last status or error at the deadline, or
 * with a CrashLoopError as soon as `giveUp` gives a reason.
 */
export async function waitForHealth(ep: RegistryEndpoint, deadlineMs: number, opts: HealthWaitOptions = {}): Promise<number> {
  // One kept-alive connection for the whole wait: once Quay listens, each probe is a request, not a
  // TLS handshake on both sides (5 a second; each a visible cost on a small or emulated host).
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return await probeUntilHealthy(ep, deadlineMs, opts, agent);
  } finally {
    agent.destroy();
  }
}

async function probeUntilHealthy(ep: RegistryEndpoint, deadlineMs: number, { intervalMs = 250, giveUp }: HealthWaitOptions, agent: Agent): Promise<number> {
  const t0 = Date.now();
  let last = '';
  let checkedAt = t0;
  for (;;) {
    try {
      const r = await httpsRequest(ep, 'GET', '/health/instance', undefined, 5_000, {}, agent);
      if (r.status === 200) return Date.now() - t0;
      last = `HTTP ${r.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (giveUp && Date.now() - checkedAt >= (giveUp.everyMs ?? 1_000)) {
      checkedAt = Date.now();
      const reason = await giveUp.check();
      if (reason) throw new CrashLoopError(giveUp.unit, `${reason} (/health/instance: ${last})`);
    }
    if (Date.now() - t0 > deadlineMs) {
      throw new HostError(`https://${ep.hostname}:${ep.port}/health/instance did not answer 200 within ${Math.round(deadlineMs / 1000)} s (last: ${last})`,
        'see which unit fails with `mreg status`, then `mreg logs quay-app`');
    }
    await new Promise(r => setTimeout(r, intervalMs));
  }
}
