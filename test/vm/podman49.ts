// The podman 4.9 guest profile (RHEL 8.10 / 9.4 ship podman 4.9.4): the booted Debian 13 guest with
// podman, quadlet and rootlessport 4.9.4 (built from upstream source, ../shared/podman-4.9/) in place
// of Debian's 5.4.2, and fresh image stores, rootful and rootless, that 4.9 made itself by loading the
// contract images. Made once per boot from `clean` and kept as the `p49` snapshot; one base image
// serves both profiles. Debian's binaries stay in /usr/local/lib/podman-5 for the host upgrade path.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { asRoot as root, describe, requireVm } from './guest.js';
import { fromClean, hasSnapshot, restoreSnapshot, saveSnapshot } from './snapshot.js';

export const PODMAN49 = '4.9.4';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const TARBALL = 'podman-4.9/podman-4.9.4-linux-amd64.tar.gz';
const BINARIES = [['podman', '/usr/bin/podman'], ['quadlet', '/usr/libexec/podman/quadlet'], ['rootlessport', '/usr/libexec/podman/rootlessport']] as const;
const KEEP5 = '/usr/local/lib/podman-5';
const KEEP49 = '/usr/local/lib/podman-4.9';

/** The 4.9.4 binaries: MREG_PODMAN49_TARBALL, else ../shared beside the project (or /work/shared). A missing one fails the suite. */
function tarball(): string {
  const tries = [process.env['MREG_PODMAN49_TARBALL'], join(ROOT, '..', 'shared', TARBALL), join('/work/shared', TARBALL)].filter((p): p is string => Boolean(p));
  const found = tries.find(p => existsSync(p));
  if (!found) throw new Error(`podman 4.9.4 binaries not found (tried ${tries.join(', ')}); set MREG_PODMAN49_TARBALL to podman-4.9.4-linux-amd64.tar.gz`);
  return found;
}

/** Puts the given podman's three files in place (`4.9` or Debian's `5`); the next daemon-reload runs that generator. */
export function switchPodman(to: '4.9' | '5'): string {
  const from = to === '5' ? KEEP5 : KEEP49;
  return BINARIES.map(([name, dest]) => `install -m 0755 ${from}/${name} ${dest}`).join('; ');
}

async function make(): Promise<void> {
  await fromClean();
  const dir = mkdtempSync(join(tmpdir(), 'mreg-p49-'));
  try {
    execFileSync('tar', ['-xzf', tarball(), '-C', dir, '--strip-components=1']);
    const push = await execa('bash', [requireVm(), 'push', dir, KEEP49], { reject: false, stdin: 'ignore', all: true });
    if (push.exitCode !== 0) throw new Error(`could not copy podman 4.9.4 into the guest: ${push.all}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  // The contract images leave through one archive (layers shared) and come back through 4.9's own load.
  const r = await root(`set -e; a=/var/tmp/contract-images.tar; mkdir -p ${KEEP5}
    ${BINARIES.map(([name, dest]) => `cp -a ${dest} ${KEEP5}/${name}`).join('; ')}
    podman save -q -m -o $a $(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/mreg-test/'); chmod 0644 $a
    podman system reset -f >/dev/null 2>&1; sudo -iu mreg podman system reset -f >/dev/null 2>&1
    ${switchPodman('4.9')}
    podman load -q -i $a >/dev/null & p=$!; sudo -iu mreg podman load -q -i $a >/dev/null; wait $p; rm -f $a
    systemctl daemon-reload; systemctl --user -M mreg@ daemon-reload
    podman --version; sudo -iu mreg podman --version; /usr/libexec/podman/quadlet -version
    podman images --format '{{.Repository}}:{{.Tag}}' | grep -c '^localhost/mreg-test/'; sudo -iu mreg podman images --format '{{.Repository}}:{{.Tag}}' | grep -c '^localhost/mreg-test/'`, { timeoutMs: 15 * 60_000 });
  const lines = r.stdout.trim().split('\n');
  const want = [`podman version ${PODMAN49}`, `podman version ${PODMAN49}`, PODMAN49];
  if (r.exitCode !== 0 || want.some((w, i) => lines[i] !== w) || !(Number(lines[3]) >= 7 && lines[3] === lines[4])) {
    throw new Error(`the podman ${PODMAN49} profile could not be made:\n${describe(r)}`);
  }
  await saveSnapshot('p49');
}

/** Puts the guest at the podman 4.9 profile (made now if this boot has none); throws when it cannot. */
export async function usePodman49(): Promise<void> {
  if (await hasSnapshot('p49')) await restoreSnapshot('p49');
  else await make();
}
