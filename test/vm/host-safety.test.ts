// Never harm the host (rootful and rootless side by side, no install needed): every refused `mreg up`
// (a system folder, a file, a folder with someone's files, a port in use, missing or bad input files, a
// missing image, units podman's generator rejects) exits non-zero with one line naming the flag (or the
// generator's words), and leaves modes, owners and contents of /, /etc, /opt, /srv and the user's home as they were.
import t, { type Test } from 'tap';
import { requireVm, describe, sideBySide } from './guest.js';
import { asRoot as root, IMG, SCOPES, upCmd, type Scope } from './scopes.js';
import { fromClean } from './snapshot.js';

requireVm();
t.before(fromClean);
t.setTimeout(30 * 60_000);

const HOME = '/home/mreg';
// Podman's own store (touched by the image check) and caches are not mreg's writes. The snapshots
// live in the guest, one series per scope (the scopes run side by side): each check diffs against
// that scope's previous one, so a change made by either scope shows up in at least one check.
const snapFile = (s: Scope) => `/root/mreg-safety-${s.name}.snap`;
const SNAPSHOT = `{ stat -c '%n %a %u %g %s %Y' / /etc /opt /srv ${HOME}
  find /etc /opt /srv ${HOME} -xdev \\( -path ${HOME}/.local/share/containers -o -path ${HOME}/.cache \\) -prune -o -printf '%p %m %U %G %s %T@\\n'; } | sort`;

// A shell line that fails unless snapshot file $1 holds a line for each folder it covers: a snapshot
// that failed (the pipe hides find's status) or a missing one would otherwise diff as "no change".
const SNAP_COMPLETE = `snapComplete() { for p in / /etc /opt /srv ${HOME}; do grep -q "^$p " "$1" || { echo "snapshot $1 has no line for $p" >&2; return 1; }; done; }`;

/** Takes a new snapshot and returns the lines that differ from the scope's previous one (< old, > new). */
async function changedSinceLast(s: Scope): Promise<string[]> {
  const f = snapFile(s);
  // diff exits 2 on trouble (no previous snapshot): that fails the check instead of reading as no change.
  const r = await root(`${SNAP_COMPLETE}; set -e; snapComplete ${f}; ${SNAPSHOT} >${f}.new; snapComplete ${f}.new
    rc=0; diff ${f} ${f}.new >${f}.diff || rc=$?; [ $rc -le 1 ]
    grep '^[<>]' ${f}.diff | head -20 || true; mv ${f}.new ${f}; rm -f ${f}.diff`);
  if (r.exitCode !== 0) throw new Error(`snapshot failed: ${describe(r)}`);
  return r.stdout.split('\n').filter(Boolean);
}

interface Row { what: string; args: (s: Scope) => string; exit: number; message: RegExp }

const command = (row: Row, s: Scope) => { const a = row.args(s); return a.startsWith('mreg ') ? a : `${upCmd(s)} ${a}`; };

const ROWS: Row[] = [
  { what: 'quayRoot /etc', args: () => '--quayRoot /etc', exit: 2, message: /^mreg: error: --quayRoot \/etc: is a system folder, which mreg never takes over/m },
  { what: 'quayStorage /opt', args: () => '--quayStorage /opt', exit: 2, message: /^mreg: error: --quayStorage \/opt: is a system folder/m },
  { what: 'pgStorage /srv', args: () => '--pgStorage /srv', exit: 2, message: /^mreg: error: --pgStorage \/srv: is a system folder/m },
  { what: 'quayRoot is the home', args: () => `--quayRoot ${HOME}`, exit: 2, message: /--quayRoot \/home\/mreg: is a home directory/ },
  { what: 'quayStorage is a file', args: () => '--quayStorage /etc/hostname', exit: 2, message: /^mreg: error: --quayStorage \/etc\/hostname: exists and is not a directory/m },
  { what: 'quayStorage holds files', args: s => `--quayStorage ${full(s)}`, exit: 2, message: /--quayStorage \S+: not empty \(keep-me\.txt\) and not an mreg install's/ },
  { what: 'quayRoot holds files', args: s => `--quayRoot ${full(s)}`, exit: 2, message: /--quayRoot \S+: not empty \(keep-me\.txt\)/ },
  // What mirror-registry 1.3 keeps in its quayRoot; before, mreg took it for an interrupted run of its own.
  { what: 'quayRoot is a mirror-registry one', args: s => `--quayRoot ${mrRoot(s)}`, exit: 2,
    message: /--quayRoot \S+: not empty \(quay-config, quay-rootCA\) and not an mreg install's \(a mirror-registry install\? see mreg adopt\)/ },
  { what: 'port in use (sshd\'s 22)', args: s => upCmd(s).replace(s.host, `${s.host.split(':')[0]}:22`), exit: 1,
    message: /port 22 is already in use; free it or choose another port with --quayHostname|--quayHostname \S+:22: a rootless install cannot publish a port below 1024/ },
  { what: 'certificate files missing', args: () => '--sslCert /nonexistent/c.pem --sslKey /nonexistent/k.pem', exit: 2, message: /^mreg: error: --sslCert \/nonexistent\/c\.pem: file not found or not readable/m },
  { what: 'image archive missing', args: () => '-i /nonexistent/images.tar', exit: 2, message: /^mreg: error: --image-archive \/nonexistent\/images\.tar: file not found or not readable/m },
  { what: 'image archive is not a tar', args: () => '-i /etc/hostname', exit: 2, message: /^mreg: error: --image-archive \/etc\/hostname: not a tar archive/m },
  { what: 'an image is missing', args: s => upCmd(s).replace(`${IMG}/quay:v1`, `${IMG}/quay:not-loaded`), exit: 1, message: /image not present on this host: --quayImage localhost\/mreg-test\/quay:not-loaded/ },
];

const full = (s: Scope) => (s.name === 'rootful' ? '/srv/mreg-full' : `${HOME}/mreg-full`);
const mrRoot = (s: Scope) => (s.name === 'rootful' ? '/srv/mr-quay-install' : `${HOME}/mr-quay-install`);

t.before(async () => {
  // A folder with a file of the user's in it, per scope; then the first snapshot, the one the first row
  // of each scope is compared with: checked here, so a failed setup stops the suite instead of passing it.
  const r = await root(`${SNAP_COMPLETE}; mkdir -p /srv/mreg-full ${HOME}/mreg-full && echo mine >/srv/mreg-full/keep-me.txt && echo mine >${HOME}/mreg-full/keep-me.txt
    for d in /srv/mr-quay-install ${HOME}/mr-quay-install; do mkdir -p $d/quay-config $d/quay-rootCA
      echo 'DATABASE_SECRET_KEY: kept' >$d/quay-config/config.yaml; echo ca >$d/quay-rootCA/rootCA.pem; done
    chown -R mreg:mreg ${HOME}/mreg-full ${HOME}/mr-quay-install && ${SNAPSHOT} >${snapFile(SCOPES[0]!)}${SCOPES.slice(1).map(s => ` && cp ${snapFile(SCOPES[0]!)} ${snapFile(s)}`).join('')}${SCOPES.map(s => ` && snapComplete ${snapFile(s)}`).join('')}`);
  if (r.exitCode !== 0) throw new Error(`the first snapshot failed: ${describe(r)}`);
});

t.test('no install yet in either scope', async t => {
  for (const s of SCOPES) {
    const r = await s.run(`test -e ${s.quayRoot} && echo exists; ls ${s.quadletDir} 2>/dev/null | grep -c quay || true`);
    t.equal(r.stdout.trim(), '0', `${s.name}: no quayRoot and no units (an earlier suite cleaned up)`, { output: describe(r) });
  }
});

/** Runs a refused command, then asks in the same session what it might have left: quayRoot, units, secrets. */
async function assertRefused(t: Test, s: Scope, row: Row): Promise<void> {
  const r = await s.run(`${command(row, s)}; echo "exit=$?"
    test -e ${s.quayRoot} && echo "left: quayRoot"; ls ${s.quadletDir} 2>/dev/null | grep quay | sed 's/^/left: /'
    podman secret ls --format '{{.Name}}' | grep mreg- | sed 's/^/left: /'; true`, { timeoutMs: 10 * 60_000 });
  t.match(r.stdout, new RegExp(`^exit=${row.exit}$`, 'm'), `${s.name}: ${row.what}: exit ${row.exit}`, { output: describe(r) });
  t.match(r.stderr, row.message, `${s.name}: ${row.what}: the message names the flag and the fix`, { output: describe(r) });
  t.notMatch(r.stderr, /internal error|\n\s+at /, `${s.name}: ${row.what}: no stack trace`);
  t.same(r.stdout.split('\n').filter(l => l.startsWith('left: ')), [], `${s.name}: ${row.what}: no quayRoot, units or secrets`);
  t.same(await changedSinceLast(s), [], `${s.name}: ${row.what}: /, /etc, /opt, /srv and ${HOME} unchanged`);
}

sideBySide(t, 'each refused mreg up exits non-zero, names the flag, and changes nothing on the host', SCOPES, (t, s) => {
  t.test('every refusal in turn', async t => {
    for (const row of ROWS) await assertRefused(t, s, row);
  });
});

// The generator judges the units among up's checks. Until 2026-12-06 it ran after up had made quayRoot, the CA
// and the podman secrets, and up still said "nothing was changed". Here the real generator is given a copy of
// the units with a key it does not know, as an older podman meets a key it has never heard of.
const GENERATOR = '/usr/libexec/podman/quadlet';
const REAL_GENERATOR = '/usr/local/lib/mreg-test/quadlet';
const REJECTING = '/usr/local/lib/mreg-test/quadlet-rejecting';
const REJECTING_SCRIPT = `#!/bin/sh
d=$(mktemp -d); cp "$QUADLET_UNIT_DIRS"/* "$d"/
printf '\\n[Container]\\nNotAQuadletKey=1\\n' >>"$d/quay-app.container"
QUADLET_UNIT_DIRS="$d" ${REAL_GENERATOR} "$@"; rc=$?; rm -rf "$d"; exit $rc
`;

t.test('podman\'s Quadlet generator rejects a unit: exit 1, the generator\'s words, and nothing made', async t => {
  const wrap = await root(`set -e; mkdir -p /usr/local/lib/mreg-test; cp ${GENERATOR} ${REAL_GENERATOR}
    base64 -d >${REJECTING} <<<${Buffer.from(REJECTING_SCRIPT).toString('base64')}
    chmod 755 ${REJECTING}; mount --bind ${REJECTING} ${GENERATOR}`);
  if (!t.equal(wrap.exitCode, 0, 'the generator sees an unknown key in quay-app.container', { output: describe(wrap) })) return;
  try {
    const rejected: Row = { what: 'a unit the generator rejects', args: () => '', exit: 1, message: /podman's Quadlet generator rejected the units:[\s\S]*NotAQuadletKey/ };
    await Promise.all(SCOPES.map(s => assertRefused(t, s, rejected)));
  } finally {
    await root(`umount ${GENERATOR}; rm -rf /usr/local/lib/mreg-test`);
  }
});

t.teardown(async () => {
  await root(`rm -rf /srv/mreg-full ${HOME}/mreg-full /srv/mr-quay-install ${HOME}/mr-quay-install ${SCOPES.map(s => `${snapFile(s)} ${snapFile(s)}.new ${snapFile(s)}.diff`).join(' ')}`);
});
