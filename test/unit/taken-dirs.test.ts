// Which folders mreg may take for quayRoot and storage, and what --purge gives back (spec/taken-dirs.ts).
import t from 'tap';
import { looksLikeMregQuayRoot, mergeTaken, systemFolderProblem, takenDir, takeProblem, unrecordedVolumes, volumeTakeProblem, type DirState, type TakeCheck } from '../../src/install-spec/taken-dirs.js';

const HOME = '/home/alice';
const empty: DirState = { kind: 'dir', entries: [], mode: 0o755, uid: 0, gid: 0 };
const check = (path: string, state: DirState, over: Partial<TakeCheck> = {}): string | undefined =>
  takeProblem({ flag: '--quayStorage', path, state, recorded: false, isQuayRoot: false, home: HOME, ...over });

t.test('system folders, homes and volatile trees are never taken, even when recorded or empty', async t => {
  for (const p of ['/', '/etc', '/usr', '/usr/local', '/var', '/var/lib', '/opt', '/home', '/root', '/srv', '/tmp', '/etc/containers', '/var/lib/containers']) {
    t.match(check(p, empty), /is a system folder, which mreg never takes over; give a dedicated folder/, p);
    t.match(check(p, empty, { recorded: true }), /system folder/, `${p} even when recorded`);
  }
  for (const p of ['/home/bob', HOME]) t.match(check(p, empty), /is a home directory/, p);
  t.match(check(`${HOME}/.local/share/containers`, empty), /user's own configuration/);
  t.match(check('/run/quay', { kind: 'missing', firstMissing: '/run/quay' }), /under \/run, which does not keep data across a reboot/);
  for (const p of ['/etc/quay-install', '/srv/quay', '/var/lib/quay-storage', `${HOME}/quay-install`, '/mnt/data/blobs', '/opt/quay']) {
    t.equal(systemFolderProblem(p, HOME), undefined, `${p} may be used`);
  }
});

t.test('a file, an unreadable path and a non-empty folder are refused with one line naming the flag', async t => {
  t.equal(check('/etc/hostname', { kind: 'notDir' }), '--quayStorage /etc/hostname: exists and is not a directory; give a new or empty directory');
  t.match(check('/srv/x', { kind: 'unreadable' }), /^--quayStorage \/srv\/x: exists and cannot be read/);
  const full = check('/srv/data', { ...empty, entries: ['a', 'b', 'c', 'd'] });
  t.equal(full, '--quayStorage /srv/data: not empty (a, b, c, …) and not an mreg install\'s; give a new or empty directory, mreg never takes over existing files');
  for (const line of [full, check('/etc', empty)]) t.notMatch(line, /\n/, 'one line');
});

t.test('missing, empty (lost+found counts as empty) and recorded folders are taken', async t => {
  t.equal(check('/srv/new', { kind: 'missing', firstMissing: '/srv/new' }), undefined);
  t.equal(check('/mnt/disk', { ...empty, entries: ['lost+found'] }), undefined);
  t.equal(check('/srv/data', { ...empty, entries: ['sha256'] }, { recorded: true }), undefined);
});

t.test('a quayRoot with mreg\'s install record is an earlier (maybe interrupted) mreg run', async t => {
  const root = (entries: string[]) => check('/srv/qr', { ...empty, entries }, { flag: '--quayRoot', isQuayRoot: true });
  t.equal(root(['mreg-install.json', 'quay-rootCA', 'quay-config']), undefined, 'a run killed after TLS (the record comes first)');
  t.equal(root(['mreg-install.json', 'anything']), undefined);
  t.match(root(['quay-rootCA', 'quay-config']), /not an mreg install's \(a mirror-registry install\? see mreg adopt\)/,
    'mirror-registry 1.3\'s default quayRoot is not taken over (its config.yaml holds the key its data is encrypted with)');
  t.match(root(['quay-rootCA', 'quay-config', 'pg-data']), /not an mreg install's \(a mirror-registry install\? see mreg adopt\)/);
  t.match(root(['notes.txt']), /not empty \(notes\.txt\)/);
  t.notOk(looksLikeMregQuayRoot(['lost+found']), 'an empty mount point is not an install');
});

t.test('a quayRoot where up was killed while writing its first record is still the empty folder it took', async t => {
  // up makes quayRoot, then writes the record atomically (.mreg-install.json.mreg-PID.tmp, then rename):
  // a SIGKILL between the two left only the temporary file, and every later up refused the folder.
  const left: DirState = { ...empty, entries: ['.mreg-install.json.mreg-674.tmp'] };
  t.equal(check('/srv/qr', left, { flag: '--quayRoot', isQuayRoot: true }), undefined, 'taken, so up resumes there');
  t.same(takenDir('/srv/qr', left), { path: '/srv/qr', mode: 0o755, uid: 0, gid: 0 }, 'recorded as an empty folder');
  t.match(check('/srv/qr', { ...empty, entries: ['.mreg-install.json.mreg-674.tmp', 'notes.txt'] }, { flag: '--quayRoot', isQuayRoot: true }),
    /not empty \(notes\.txt\)/, 'anything else in it is still refused');
  for (const other of ['.mreg-install.json.mreg-x.tmp', '.config.yaml.mreg-674.tmp', 'mreg-install.json.mreg-674.tmp']) {
    t.match(check('/srv/qr', { ...empty, entries: [other] }, { flag: '--quayRoot', isQuayRoot: true }), /not empty/, `${other} is not a record's temporary file`);
  }
});

t.test('what the record keeps: created levels, or the old mode and owner of an empty folder', async t => {
  t.same(takenDir('/srv/a/b', { kind: 'missing', firstMissing: '/srv/a' }), { path: '/srv/a/b', createdFrom: '/srv/a' });
  t.same(takenDir('/srv/e', { ...empty, mode: 0o711, uid: 5, gid: 6 }), { path: '/srv/e', mode: 0o711, uid: 5, gid: 6 });
  t.equal(takenDir('/srv/full', { ...empty, entries: ['x'] }), undefined);
  const merged = mergeTaken([{ path: '/srv/e', mode: 0o700 }], [{ path: '/srv/e', createdFrom: '/srv/e' }, { path: '/a', createdFrom: '/a' }]);
  t.same(merged, [{ path: '/a', createdFrom: '/a' }, { path: '/srv/e', mode: 0o700 }], 'the first run that saw a folder decides');
});

t.test('volumes: taken only new or empty; one the record names is the install\'s own', async t => {
  const v = (state: DirState | undefined) => volumeTakeProblem({ flag: '--pgStorage', name: 'pg-storage', state });
  t.equal(v(undefined), undefined, 'no such volume: made at the first start');
  t.equal(v({ ...empty, entries: ['lost+found'] }), undefined, 'empty (a fresh file system\'s lost+found aside)');
  t.match(v({ ...empty, entries: ['userdata'] }), /^--pgStorage pg-storage: podman volume pg-storage exists, holds userdata, and is not an mreg install's/);
  t.match(v({ kind: 'unreadable' }), /exists, was used by a container \(this user cannot list it\)/, 'rootless: chowned to a container uid');
  t.notMatch(v({ kind: 'unreadable' }), /\n/, 'one line');
  const spec = { quayStorage: { kind: 'volume', name: 'quay-storage' }, pgStorage: { kind: 'path', path: '/srv/pg' } } as const;
  t.same(unrecordedVolumes(spec), [{ flag: '--quayStorage', name: 'quay-storage' }], 'bind paths are the folder check\'s');
  t.same(unrecordedVolumes(spec, { spec }), [], 'recorded');
  t.same(unrecordedVolumes({ ...spec, quayStorage: { kind: 'volume', name: 'blobs2' } }, { spec }), [{ flag: '--quayStorage', name: 'blobs2' }], 'another name than the record\'s');
});
