// One rendered mirror-registry install (test/fixtures/mirror-registry) taken over by mreg: a first user
// and an image under mirror-registry, `mreg adopt`, then the same image pulls with the same password.
// adopt-layouts.test.ts runs it on the four fixtures adopt.test.ts does not, two per scope.
import type { Test } from 'tap';
import { describe, sideBySide, SCOPES, type Scope } from './guest.js';
import { bootstrapUser, installRendered, renderForGuest } from './mr-install.js';
import { login, parseJson, pullDigest, pushTiny } from './scopes.js';
import { restoreSnapshot } from './snapshot.js';

const OLD = { username: 'init', password: 'mirror-registry-pw-1' };

/**
 * In rounds: the n-th fixture of each scope side by side. Each round after the first starts from the `clean`
 * snapshot (seconds) instead of each scope's `mreg down --purge` of the fixture before (about 25 s each).
 */
export function adoptInEachScope(t: Test, title: string, fixtures: Record<Scope['name'], readonly string[]>): void {
  const rounds = Math.max(...SCOPES.map(s => fixtures[s.name].length));
  for (let i = 0; i < rounds; i++) {
    const inRound = SCOPES.filter(s => fixtures[s.name][i] !== undefined);
    if (i > 0) t.test('back to the clean guest', () => restoreSnapshot('clean'));
    sideBySide(t, `${title} (${i + 1} of ${rounds})`, inRound, (t, scope) => {
      const fixture = fixtures[scope.name][i]!;
      t.test(fixture, t => adoptRendered(t, scope, fixture));
    });
  }
}

/** Installs `fixture` in `scope` as mirror-registry would, adopts it and checks what its users see. */
export async function adoptRendered(t: Test, scope: Scope, fixture: string): Promise<void> {
  const r = renderForGuest(fixture, scope);
  const s = r.scope;
  const clear = await s.run(`test ! -e ${s.quayRoot} && test ! -e ${r.unitDir}/quay-app.service`);
  t.equal(clear.exitCode, 0, 'starts without an install', { output: describe(clear) });
  const fx = await installRendered(r);
  if (!t.equal(fx.exitCode, 0, 'the rendered install is healthy', { output: describe(fx) })) return;
  const init = await bootstrapUser(s, OLD);
  t.equal(init.code, '200', 'first user through mirror-registry\'s bootstrap API', { output: describe(init.r) });
  t.equal((await login(s, OLD)).exitCode, 0, 'podman login');
  const pushed = await pushTiny(s, OLD);
  if (!t.equal(pushed.r.exitCode, 0, 'push', { output: describe(pushed.r) })) return;

  const a = await s.run('mreg adopt --json --remove-leftovers', { timeoutMs: 30 * 60_000 });
  if (!t.equal(a.exitCode, 0, 'mreg adopt exits 0', { output: describe(a) })) return;
  const j = parseJson<{ downtimeMs: number; durationMs: number }>(a);
  t.comment(`${fixture}: adopt ${((j?.durationMs ?? 0) / 1000).toFixed(1)} s, down ${((j?.downtimeMs ?? 0) / 1000).toFixed(1)} s`);
  const st = await s.run('mreg status', { timeoutMs: 300_000 });
  t.equal(st.exitCode, 0, 'mreg status: healthy', { output: describe(st) });
  t.equal((await login(s, OLD)).exitCode, 0, 'the old password logs in');
  t.equal((await pullDigest(s, OLD)).digest, pushed.digest, 'the image pulls with the digest it was pushed with');
  const units = await s.run(`${s.systemctl} show -p FragmentPath --value quay-app.service`);
  t.match(units.stdout, /\/generator\/quay-app\.service$/m, 'quay-app is Quadlet\'s unit now, not mirror-registry\'s', { output: describe(units) });
}
