// upgrade's rollback gives each start its own time: a restore of a large database (Quay's log tables grow to
// gigabytes) used to spend the whole budget, and quay-app was then never started, the registry left down.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { HostError, UnitFailedError } from '../../src/errors.js';
import { createOutput } from '../../src/ui/output.js';
import { stepLog } from '../../src/ui/step-log.js';
import { switchOver } from '../../src/upgrade/switch.js';

t.test('a 12-minute database restore in the rollback: quay-app is started after it, and the registry serves again', async t => {
  let skew = 0;
  const realNow = Date.now;
  Date.now = () => realNow() + skew;
  t.teardown(() => { Date.now = realNow; });
  const active: Record<string, boolean> = { 'quay-app.service': true };
  const systemd = {
    reload: async () => undefined,
    unitState: async () => ({ loadState: 'loaded', activeState: 'active' }),
    resetFailed: async () => undefined,
    restartUnit: async (u: string) => { active[u] = true; return 'done'; },
    stopUnit: async (u: string) => { active[u] = false; return 'done'; },
    unitExits: async () => ({ activeState: 'active', result: 'success', nRestarts: 0 }),
  };
  const podman = {
    exec: async () => ({ stdout: '', stderr: '' }),
    execToFile: async (_c: string, _a: string[], f: string) => writeFileSync(f, 'PGDMP', { mode: 0o600 }),
    execFromFile: async () => { skew += 12 * 60_000; },
  };
  let waits = 0;
  const files = { remove: async () => undefined, read: async () => undefined, makeDir: async () => undefined, write: async () => undefined, ensureMode: async () => undefined };
  const ports = {
    actions: { systemd, podman, files, journalTail: async () => [] }, podman,
    waitForHealth: async () => { if (waits++ === 0) throw new HostError('did not answer 200 within 600 s'); return 0; },
  } as never;
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  const out = createOutput({ stdout: sink, stderr: sink, env: {} });
  const err = await switchOver(out, ports, stepLog(out), {
    changes: [{ path: '/qd/quay-app.container', mode: 0o644, before: 'v1', after: 'v2' }],
    recorded: { quay: 'q:v1', postgres: 'p', redis: 'r' }, images: { quay: 'q:v2', postgres: 'p', redis: 'r' },
    root: mkdtempSync(join(tmpdir(), 'mreg-rollback-')), ep: { hostname: 'h', port: 8443 } as never, timeoutMs: 600_000, started: Date.now(),
  }).then(() => undefined, (e: unknown) => e);
  t.type(err, UnitFailedError);
  t.equal((err as UnitFailedError).result, 'rolled-back', 'the previous version with its database serves again');
  t.equal(active['quay-app.service'], true, 'quay-app started after the restore');
});
