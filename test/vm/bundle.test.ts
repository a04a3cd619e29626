// The air-gapped release (npm run bundle) on a host without Node.js: unpack the tarball, hide node,
// then the lone `mreg` executable re-runs `up` on the rootful base install (made by the same executable,
// base.ts), reports healthy and purges everything.
// The runner (test/run.mjs) builds the tarball and pushes it to /opt/mreg-release in the guest.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { root, requireVm, describe, waitFor } from './guest.js';
import { useBase, BASE_SCOPES } from './base.js';

requireVm();
t.setTimeout(30 * 60_000);

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const TARBALL = `/opt/mreg-release/mreg-${version}-linux-x86_64.tar.gz`;
const DIR = `/root/bundle-test/mreg-${version}-linux-x86_64`;
// Later test files use node in the guest: move it back however this file ends (also after a crashed run).
const RESTORE_NODE = 'for f in node nodejs; do if [ -e /usr/bin/$f.hidden ] || [ -L /usr/bin/$f.hidden ]; then mv -f /usr/bin/$f.hidden /usr/bin/$f; fi; done';

const QUAY_ROOT = BASE_SCOPES.find(s => s.name === 'rootful')!.quayRoot;

t.before(async () => { await useBase(); });
// The next file restores its own snapshot; node comes back here only for a dev loop on this guest.
t.teardown(async () => { await root(RESTORE_NODE); });

t.test('the release tarball unpacks and runs without node', async t => {
  const unpack = await root(`set -e; ${RESTORE_NODE}; rm -rf /root/bundle-test; mkdir -p /root/bundle-test
    tar -C /root/bundle-test -xzf ${TARBALL}; ls ${DIR}`);
  t.equal(unpack.exitCode, 0, `${TARBALL} unpacks (run.mjs pushes it; in a dev loop push dist/release yourself)`, { output: describe(unpack) });
  t.match(unpack.stdout, /^README$/m, 'README next to the executable');
  const hide = await root('set -e; for f in node nodejs; do [ -e /usr/bin/$f ] || [ -L /usr/bin/$f ] && mv /usr/bin/$f /usr/bin/$f.hidden; done; command -v node nodejs || echo none');
  t.equal(hide.stdout.trim(), 'none', 'no node or nodejs on PATH', { output: describe(hide) });
  const v = await root(`cd ${DIR} && ./mreg --version`);
  t.equal(v.exitCode, 0, 'mreg --version exits 0', { output: describe(v) });
  t.match(v.stdout, new RegExp(`\\b${version.replace(/\./g, '\\.')}\\b`), `reports ${version}`);
  t.notMatch(v.stderr, /ExperimentalWarning|single executable/i, 'no SEA warning');
});

t.test('rootful up, status and down --purge with the lone executable', async t => {
  const up = await root(`cd ${DIR} && ./mreg up --json`, { timeoutMs: 30 * 60_000 });
  t.equal(up.exitCode, 0, 'mreg up exits 0', { output: describe(up) });
  t.notMatch(up.stderr, /Warning:/, 'no node warnings (e.g. a require() the SEA cannot serve)', { output: describe(up) });
  // Under TCG the first health probe can miss its 5 s budget; mreg.test.ts polls the same way.
  let st = await root(`cd ${DIR} && ./mreg status --json`);
  if (st.exitCode !== 0) await waitFor(async () => (st = await root(`cd ${DIR} && ./mreg status --json`)).exitCode === 0, 3 * 60_000);
  t.equal(st.exitCode, 0, 'mreg status exits 0', { output: describe(st) });
  t.notMatch(st.stderr, /Warning:/, 'no node warnings', { output: describe(st) });
  let healthy: unknown;
  try { healthy = (JSON.parse(st.stdout) as { healthy?: unknown }).healthy; } catch { /* asserted below */ }
  t.equal(healthy, true, 'status --json says healthy', { output: describe(st) });
  const down = await root(`cd ${DIR} && ./mreg down --purge --yes`, { timeoutMs: 10 * 60_000 });
  t.equal(down.exitCode, 0, 'mreg down --purge --yes exits 0', { output: describe(down) });
  const left = await root(`podman ps -a --format '{{.Names}}'; podman pod ls --format '{{.Name}}'; podman secret ls --format '{{.Name}}' | grep mreg- ; podman volume ls --format '{{.Name}}' | grep -E 'quay-storage|pg-storage'; ls /etc/containers/systemd 2>/dev/null | grep -E 'quay|storage'; systemctl list-units --all --no-legend 'quay-*' | grep -v not-found; ls -d ${QUAY_ROOT} 2>/dev/null; true`);
  t.equal(left.stdout.trim(), '', 'nothing left behind', { output: describe(left) });
});
