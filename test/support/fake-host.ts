// An in-memory host behind the HostPorts and ActionPorts interfaces, for mreg's own control flow:
// what a command plans, runs, stops at and resumes. It claims nothing about how systemd or podman behave
// beyond the ports' contracts (a missing object is already removed, an unknown unit already stopped), and
// fails where the real ports fail: a write into a missing folder (ENOENT), a copy from or into a missing
// one (cp exits 1), a start or restart of a unit systemd does not know (NoSuchUnit).
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import { Writable } from 'node:stream';
import type { ActionPorts, ArchivePorts, FoundInstall, HealthAnswer, HostPorts, HostProbe, InspectPorts, SpaceInfo } from '../../src/actions/ports.js';
import type { Podman, QuadletDryRun } from '../../src/host/podman.js';
import type { CommandContext } from '../../src/cli.js';
import { HostError } from '../../src/errors.js';
import { mapDbusError } from '../../src/host/dbus.js';
import { COMPONENTS } from '../../src/model/components.js';
import { defaultQuayRoot, pointerPath } from '../../src/model/scope.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { parseRecord, serializeRecord, type InstallRecord } from '../../src/install-spec/record.js';
import type { DirState, TakenDir } from '../../src/install-spec/taken-dirs.js';
import { createOutput } from '../../src/ui/output.js';
import { refuseOtherScope } from '../../src/apply/install-lookup.js';

const COMPONENT_LIST = Object.values(COMPONENTS);

export interface FakeHostState {
  /** Loaded units and their ActiveState. */
  units: Record<string, 'active' | 'inactive' | 'failed'>;
  /** Regular files by path, with their mode. */
  files: Record<string, { content: string; mode: number }>;
  /** Folders by path, with mode and owner. */
  dirs: Record<string, { mode: number; uid: number; gid: number }>;
  secrets: string[];
  volumes: string[];
  containers: string[];
  pods: string[];
  linger: boolean;
  /**
   * When given, a clock that ticks at every write and start: files' mtimes and units' ActiveEnterTimestamp, so
   * "a file newer than its running service" (an up killed between a write and the restart) can be seen.
   */
  clock?: { now: number; mtimes: Record<string, number>; activeSince: Record<string, number> };
}

export interface FakeHostOptions {
  probe: HostProbe;
  state: FakeHostState;
  /** The n-th port call (1-based) fails with HostError before it changes anything: an interruption. */
  failAtCall?: number;
  /** Job results other than "done" for StopUnit. */
  stopResults?: Record<string, string>;
  /**
   * Units whose ExecStopPost fails: their container or pod stays when they stop. Any other active unit a
   * stop job ends removes it, as Quadlet's `podman rm` and `podman pod rm` do.
   */
  stopPostFails?: string[];
  /** What /health/instance answers (200 when not given). */
  health?: HealthAnswer;
  /** Free and total bytes of every file system (100 of 200 GiB when not given). */
  space?: SpaceInfo;
  /** What the archive ports do; a member not given rejects as not faked (tar and gpg are the VM suite's). */
  archive?: Partial<ArchivePorts>;
  /** The images podman holds, for podman.missingImages (not faked when not given). */
  images?: string[];
  /**
   * The values of state.secrets, for podman.secretValues and storedSecrets (not faked when not given); podman.secretCreate
   * writes into it, so a test hands the same object to the next fake host, as podman keeps them.
   */
  secretValues?: Record<string, string>;
  /** What podman.quadletDryRun answers (not faked when not given): whether real Quadlet accepts the units is the VM suite's. */
  quadletDryRun?: QuadletDryRun;
  /**
   * How each waitForHealth call ends, in turn (the last repeats): "timeout" rejects as host/http.ts does at
   * the deadline. When not given, `health` decides every call.
   */
  healthWaits?: ('ok' | 'timeout')[];
  /** What a TLS handshake to the registry presents (not faked when not given): which pair Quay serves is the VM suite's. */
  servedFingerprint?: (hostname: string, port: number) => Promise<string>;
  /**
   * A registry behind httpsRequest (not faked when not given): Quay's first-user API over `users` (name →
   * password), POST /api/v1/user/initialize (200 on an empty database, else 400) and GET /v2/auth (Basic).
   */
  quay?: { users: Record<string, string> };
  /** What preflight's port and name checks answer (not faked when not given). */
  network?: { portFree: boolean; resolves: boolean };
  /** What the PostgreSQL data check resolves with (not faked when not given). */
  pgData?: Awaited<ReturnType<InspectPorts['assertPgMajorCompatible']>>;
}

export interface FakeHost extends HostPorts {
  state: FakeHostState;
  /** Every ActionPorts call, in order, as "method argument". */
  calls: string[];
  isLocked(): boolean;
}

export function createFakeHost(opts: FakeHostOptions): FakeHost {
  const state = structuredClone(opts.state);
  const calls: string[] = [];
  let locked = false;
  let healthWaits = 0;
  const removedOnStop = new Set<string>();
  const call = (name: string, arg = '') => {
    const line = arg ? `${name} ${arg}` : name;
    if (calls.length + 1 === opts.failAtCall) throw new HostError(`injected failure at ${line}`);
    calls.push(line);
  };
  const drop = (list: string[], item: string) => { const i = list.indexOf(item); if (i >= 0) list.splice(i, 1); };
  const removeTree = (path: string) => {
    for (const p of Object.keys(state.files)) if (p === path || p.startsWith(`${path}/`)) delete state.files[p];
    for (const p of Object.keys(state.dirs)) if (p === path || p.startsWith(`${path}/`)) delete state.dirs[p];
  };
  const isEmpty = (dir: string) => ![...Object.keys(state.files), ...Object.keys(state.dirs)].some(p => p.startsWith(`${dir}/`));
  const exists = async (path: string) => Boolean(state.files[path] ?? state.dirs[path]);
  // A folder: `/`, one of state.dirs, or a parent of any file or folder (as dirState below).
  const isDir = (path: string) => path === '/' || Boolean(state.dirs[path])
    || [...Object.keys(state.files), ...Object.keys(state.dirs)].some(p => p.startsWith(`${path}/`));
  // host/fs.ts's words for a failed file-system call, with node's errno text.
  const fsFailed = (what: string, path: string, code: 'ENOENT' | 'ENOTDIR' | 'EEXIST' | 'EISDIR', syscall: string) => {
    const text = { ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EEXIST: 'file already exists', EISDIR: 'illegal operation on a directory' }[code];
    return new HostError(`${what} ${path}: ${code}: ${text}, ${syscall} '${path}'`);
  };
  // What systemd answers StartUnit/RestartUnit of a unit it has no file for, mapped as host/systemd.ts maps it.
  const noSuchUnit = (verb: string, unit: string) =>
    mapDbusError(Object.assign(new Error(`Unit ${unit} not found.`), { type: 'org.freedesktop.systemd1.NoSuchUnit', text: `Unit ${unit} not found.` }), `cannot ${verb} ${unit}`);
  // A folder is one of state.dirs or a parent of any file or folder (those with the user's owner, 0755).
  const dirState = async (path: string): Promise<DirState> => {
    if (state.files[path]) return { kind: 'notDir' };
    const inside = [...Object.keys(state.files), ...Object.keys(state.dirs)].filter(p => p.startsWith(`${path}/`));
    if (state.dirs[path] || inside.length > 0) {
      const entries = [...new Set(inside.map(p => p.slice(path.length + 1).split('/')[0]!))];
      return { kind: 'dir', entries, ...(state.dirs[path] ?? { mode: 0o755, uid: opts.probe.uid, gid: opts.probe.gid }) };
    }
    let top = path;
    while (posix.dirname(top) !== '/' && (await dirState(posix.dirname(top))).kind === 'missing') top = posix.dirname(top);
    return { kind: 'missing', firstMissing: top };
  };

  // What an active unit has made: its container or pod; a volume unit's volume, which every container
  // unit's Requires= starts first.
  const started = (unit: string): void => {
    state.units[unit] = 'active';
    if (state.clock) state.clock.activeSince[unit] = ++state.clock.now;
    const add = (list: string[], item: string) => { if (!list.includes(item)) list.push(item); };
    const made = COMPONENT_LIST.find(c => c.service === unit);
    if (made) add(made === COMPONENTS.pod ? state.pods : state.containers, made.podmanName);
    // A container's unit binds to the pod's (Quadlet's Pod=): its start starts the pod first.
    if (made && made !== COMPONENTS.pod && state.units[COMPONENTS.pod.service] !== undefined && state.units[COMPONENTS.pod.service] !== 'active') started(COMPONENTS.pod.service);
    for (const u of Object.keys(state.units)) {
      const volume = /^(.+)-volume\.service$/.exec(u)?.[1];
      if (volume && (u === unit || (made && made !== COMPONENTS.pod))) { state.units[u] = 'active'; add(state.volumes, volume); }
    }
  };

  const held = (names: readonly string[]) => new Map(names.flatMap(n => {
    const value = opts.secretValues?.[n];
    return state.secrets.includes(n) && value !== undefined ? [[n, value] as const] : [];
  }));

  const ports: ActionPorts = {
    systemd: {
      async stopUnit(unit) {
        call('stopUnit', unit);
        const result = opts.stopResults?.[unit] ?? 'done';
        if (state.units[unit] === 'active' && result === 'done' && !opts.stopPostFails?.includes(unit)) {
          removedOnStop.add(unit);
          const made = COMPONENT_LIST.find(c => c.service === unit)?.podmanName;
          if (made) { drop(state.containers, made); drop(state.pods, made); }
        }
        if (state.units[unit]) state.units[unit] = result === 'done' ? 'inactive' : 'failed';
        return result;
      },
      // A read (no call line): this fake's runs all start after `sinceMs`.
      async stopPostsSucceeded(unit) { return removedOnStop.has(unit); },
      async startUnit(unit) {
        call('startUnit', unit);
        if (!state.units[unit]) throw noSuchUnit('start', unit);
        started(unit);
        return 'done';
      },
      async restartUnit(unit) {
        call('restartUnit', unit);
        if (!state.units[unit]) throw noSuchUnit('restart', unit);
        started(unit);
        return 'done';
      },
      async resetFailed(unit) {
        call('resetFailed', unit);
        if (state.units[unit] === 'failed') state.units[unit] = 'inactive';
      },
      // A read (no call line). Restarts, exit codes and results are real systemd's to tell (the VM suite's).
      async unitState(unit) { return (await inspect.unitStates([unit]))[0]!; },
      async unitExits() { throw new Error('fake-host: systemd.unitExits is not faked'); },
      async reload() {
        call('reload');
        // Quadlet's generator no longer makes the units of removed files, and makes those of new ones.
        for (const unit of Object.keys(state.units)) if (state.units[unit] === 'inactive' && !hasSource(state, unit)) delete state.units[unit];
        for (const unit of generatedUnits(state, opts.probe.quadletDir)) state.units[unit] ??= 'inactive';
      },
    },
    podman: {
      async containersRemove(names) { call('containersRemove', names.join(',')); for (const name of names) drop(state.containers, name); },
      async podRemove(name) { call('podRemove', name); drop(state.pods, name); },
      async secretRemove(name) { call('secretRemove', name); drop(state.secrets, name); },
      async secretCreate(name, value, o) {
        if (!opts.secretValues) throw new Error('fake-host: podman.secretCreate is not faked (give secretValues)');
        call('secretCreate', name);
        if (state.secrets.includes(name) && !o?.replace) throw new HostError(`podman secret create ${name}: secret name in use`);
        if (!state.secrets.includes(name)) state.secrets.push(name);
        opts.secretValues[name] = value;
      },
      async volumeRemove(name) { call('volumeRemove', name); drop(state.volumes, name); },
    },
    files: {
      async remove(path) { call('remove', path); removeTree(path); },
      // A read changes nothing: not a call.
      read: async path => state.files[path]?.content,
      // writeFileAtomic: its temp file goes beside `path`, so the folder must exist; a folder is not replaced.
      async write(path, content, mode) {
        call('write', path);
        const parent = posix.dirname(path);
        if (state.files[parent]) throw fsFailed('cannot write', path, 'ENOTDIR', 'open');
        if (!isDir(parent)) throw fsFailed('cannot write', path, 'ENOENT', 'open');
        if (isDir(path)) throw fsFailed('cannot write', path, 'EISDIR', 'rename');
        state.files[path] = { content, mode };
        if (state.clock) state.clock.mtimes[path] = ++state.clock.now;
      },
      // makeDirIfMissing: the missing levels get `mode`; existing folders (and their parents) stay as they are.
      async makeDir(path, mode) {
        call('makeDir', path);
        if (state.files[path]) throw fsFailed('cannot create directory', path, 'EEXIST', 'mkdir');
        const missing: string[] = [];
        let p = path;
        for (; !isDir(p) && !state.files[p]; p = posix.dirname(p)) missing.push(p);
        if (state.files[p]) throw fsFailed('cannot create directory', path, 'ENOTDIR', 'mkdir');
        for (const level of missing) state.dirs[level] = { mode, uid: opts.probe.uid, gid: opts.probe.gid };
      },
      exists,
      // cp -a FROM/. INTO/: FROM must be a folder, and INTO one or a new name in a folder (cp makes it as a
      // copy of FROM), else cp exits 1 and runChecked rejects naming `what`. FROM may be a folder on the
      // real disk under tmpdir() (restore's scratch, which a faked archive port filled): its tree is copied
      // in as it is there.
      async copyInto(fromDir, intoDir, what) {
        call('copyInto', `${fromDir} ${intoDir}`);
        const from = fromDir.replace(/\/$/, '');
        const onDisk = isDir(from) || !from.startsWith(`${tmpdir()}/`) ? undefined : realDirTree(from);
        const cpFailed = (dir: string, why: string) => new HostError(`${what} failed: cp -a -- ${from}/. ${intoDir}/ exited with code 1\n  cp: cannot stat '${dir}': ${why}`);
        if (!onDisk && (!isDir(from) || state.files[from])) throw cpFailed(from, state.files[from] ? 'Not a directory' : 'No such file or directory');
        if (state.files[intoDir]) throw cpFailed(intoDir, 'Not a directory');
        if (!isDir(intoDir) && (!isDir(posix.dirname(intoDir)) || state.files[posix.dirname(intoDir)])) throw cpFailed(intoDir, 'No such file or directory');
        // `FROM/.` is the folder itself: INTO takes its mode, as a new copy or over the existing folder.
        const { mode } = onDisk?.dirs[from] ?? state.dirs[from] ?? { mode: 0o755 };
        state.dirs[intoDir] = { ...(state.dirs[intoDir] ?? { uid: opts.probe.uid, gid: opts.probe.gid }), mode };
        const moved = (p: string) => `${intoDir}${p.slice(from.length)}`;
        const source = onDisk ?? { files: state.files, dirs: state.dirs };
        for (const [p, f] of Object.entries(source.files)) if (p.startsWith(`${from}/`)) state.files[moved(p)] = { ...f };
        for (const [p, d] of Object.entries(source.dirs)) if (p.startsWith(`${from}/`)) state.dirs[moved(p)] = { ...d };
      },
      // fs.ensureMode: stat, then chmod when the bits differ; a file or a folder, a missing path left alone.
      async ensureMode(path, mode) {
        const f = state.files[path];
        if (f) {
          if (f.mode === mode) return;
          call('ensureMode', path);
          f.mode = mode;
          return;
        }
        if (!isDir(path) || path === '/') return;
        const d = state.dirs[path] ?? { mode: 0o755, uid: opts.probe.uid, gid: opts.probe.gid };
        if (d.mode === mode) return;
        call('ensureMode', path);
        state.dirs[path] = { ...d, mode };
      },
    },
    async disableLinger() { call('disableLinger'); state.linger = false; },
    async giveBackDir(d: TakenDir, only?: readonly string[], spare?: readonly string[]) {
      call('giveBackDir', d.path);
      if (!state.dirs[d.path]) return [];
      const top = (p: string) => p.slice(d.path.length + 1).split('/')[0]!;
      const inside = () => [...Object.keys(state.files), ...Object.keys(state.dirs)].filter(p => p.startsWith(`${d.path}/`));
      let left: string[] = [];
      if (only || spare) {
        for (const p of inside()) if (only ? only.includes(top(p)) : top(p) !== 'lost+found' && !spare!.includes(top(p))) removeTree(p);
        left = [...new Set(inside().map(top))].filter(n => n !== 'lost+found').sort();
      }
      if (d.createdFrom !== undefined) {
        if (left.length > 0) return left;
        removeTree(d.path);
        for (let p = posix.dirname(d.path); d.path !== d.createdFrom && p.length >= d.createdFrom.length; p = posix.dirname(p)) {
          if (!isEmpty(p)) break;
          delete state.dirs[p];
          if (p === d.createdFrom) break;
        }
        return [];
      }
      if (!only && !spare) for (const p of inside()) if (top(p) !== 'lost+found') removeTree(p);
      const dir = state.dirs[d.path]!;
      state.dirs[d.path] = { mode: d.mode ?? dir.mode, uid: d.uid ?? dir.uid, gid: d.gid ?? dir.gid };
      return left;
    },
    async journalTail(unit) { return [`${unit}: stop job failed (fake journal)`]; },
    async removeTree(path) { call('removeTree', path); removeTree(path); },
  };

  // Read-only: not counted as calls, so failAtCall keeps numbering the changes.
  const inspect: InspectPorts = {
    async unitStates(units) {
      return units.map(name => {
        const a = state.units[name];
        return { name, loadState: a ? 'loaded' : 'not-found', activeState: a ?? 'inactive', subState: a === 'active' ? 'running' : 'dead',
          stateChangeTimestamp: 0, activeEnterTimestamp: a === 'active' ? state.clock?.activeSince[name] : undefined, mainPid: a === 'active' ? 100 : 0, nRestarts: 0, result: a === 'failed' ? 'exit-code' : 'success', needDaemonReload: false,
          fragmentPath: a ? `/run/user/1000/systemd/generator/${name}` : '', sourcePath: '' };
      });
    },
    health: async () => opts.health ?? { ok: true, status: 200, error: null },
    readFile: async path => state.files[path]?.content,
    exists,
    async storagePath(s, what) {
      if (s.kind === 'path') return s.path;
      if (!state.volumes.includes(s.name)) throw new HostError(`podman volume ${s.name} (${what}) does not exist`);
      return `/var/lib/containers/storage/volumes/${s.name}/_data`;
    },
    async privateModes(paths) {
      return paths.flatMap(({ path, maxMode }) => {
        const mode = state.files[path]?.mode ?? state.dirs[path]?.mode;
        return mode !== undefined && (mode & ~maxMode) !== 0 ? [{ path, problem: `mode 0${mode.toString(8)} is too open (at most 0${maxMode.toString(8)})` }] : [];
      });
    },
    volumeMountpoints: async (names, recorded = {}) => new Map(names.filter(n => state.volumes.includes(n)).map(n => [n, recorded[n] ?? `/var/lib/containers/storage/volumes/${n}/_data`])),
    space: async () => opts.space ?? { freeBytes: 100 * 1024 ** 3, totalBytes: 200 * 1024 ** 3 },
    diskFree: async () => (opts.space ?? { freeBytes: 100 * 1024 ** 3 }).freeBytes,
    // Sockets and the resolver are the host's (the VM suite's).
    async portFree() { if (!opts.network) throw new Error('fake-host: inspect.portFree is not faked'); return opts.network.portFree; },
    async resolves() { if (!opts.network) throw new Error('fake-host: inspect.resolves is not faked'); return opts.network.resolves; },
    bucketProblem: async () => undefined,
    async waitForHealth(ep, deadlineMs) {
      if (opts.healthWaits) {
        const outcome = opts.healthWaits[Math.min(healthWaits++, opts.healthWaits.length - 1)];
        // The real wait's messages, without its waiting: the test decides the outcome, not a clock.
        if (outcome === 'timeout') {
          throw new HostError(`https://${ep.hostname}:${ep.port}/health/instance did not answer 200 within ${Math.round(deadlineMs / 1000)} s (last: HTTP 502)`,
            'see which unit fails with `mreg status`, then `mreg logs quay-app`');
        }
        return 0;
      }
      const h = opts.health ?? { ok: true, status: 200, error: null };
      if (!h.ok) throw new HostError(`the registry did not answer 200 (fake health: ${h.status ?? h.error})`);
      return 0;
    },
    async servedFingerprint(hostname, port) {
      if (!opts.servedFingerprint) throw new Error('fake-host: inspect.servedFingerprint is not faked');
      return opts.servedFingerprint(hostname, port);
    },
    dirState,
    async assertPgMajorCompatible() { if (!('pgData' in opts)) throw new Error('fake-host: inspect.assertPgMajorCompatible is not faked'); return opts.pgData; },
  };

  const archive = notFaked<ArchivePorts>('archive', opts.archive ?? {});
  const readRecordAt = async (root: string): Promise<FoundInstall | undefined> => {
    const layout = quayRootLayout(root);
    const text = state.files[layout.record]?.content;
    return text === undefined ? undefined : { layout, record: parseRecord(text, layout.record) };
  };

  return {
    state,
    calls,
    isLocked: () => locked,
    inspect: () => inspect,
    async showJournal(_who, unit, lines, follow) { call('showJournal', `${unit} ${lines}${follow ? ' follow' : ''}`); },
    podman: () => notFaked<Podman>('podman', {
      ...ports.podman,
      // Read-only: not counted as a call.
      ...(opts.images ? { missingImages: async (refs: readonly string[]) => refs.filter(r => !opts.images!.includes(r)) } : {}),
      ...(opts.secretValues ? {
        secretValues: async (names: readonly string[]) => held(names),
        storedSecrets: async (names: readonly string[]) => ({ values: held(names) }),
      } : {}),
      ...(opts.quadletDryRun ? { quadletDryRun: async () => opts.quadletDryRun! } : {}),
      // What runs inside a container is the container's (pg_dump, psql: the VM suite's); recorded, and a dump is a file.
      async exec(container: string, argv: string[]) { call('exec', `${container} ${argv.join(' ')}`); return { stdout: '', stderr: '' }; },
      async execToFile(container: string, argv: string[], file: string) {
        call('execToFile', `${container} ${argv.join(' ')} > ${file}`);
        state.files[file] = { content: `fake output of ${argv[0]}\n`, mode: 0o600 };
      },
      async execFromFile(container: string, argv: string[], file: string) { call('execFromFile', `${container} ${argv.join(' ')} < ${file}`); },
    }),
    files: ports.files,
    archive,
    probe: async () => { call('probe', ''); return opts.probe; },
    async hostFqdn() { throw new Error('fake-host: hostFqdn is not faked'); },
    async enableLinger() { call('enableLinger'); state.linger = true; },
    // Ownership as a container sees it, and HTTPS to a registry, are the VM suite's.
    async prepareBindDir() { throw new Error('fake-host: prepareBindDir is not faked'); },
    async httpsRequest(_ep, method, path, body, _timeout, headers) {
      const quay = opts.quay;
      if (!quay) throw new Error('fake-host: httpsRequest is not faked');
      if (method === 'POST' && path === '/api/v1/user/initialize') {
        call('httpsRequest', `${method} ${path}`);
        if (Object.keys(quay.users).length > 0) return { status: 400, body: '{"message":"Cannot initialize user in a non-empty database"}' };
        const { username, password } = body as { username: string; password: string };
        quay.users[username] = password;
        return { status: 200, body: '{}' };
      }
      if (method === 'GET' && path.startsWith('/v2/auth')) {
        const [user, password] = Buffer.from((headers?.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
        return { status: user !== undefined && quay.users[user] === password ? 200 : 401, body: '' };
      }
      throw new Error(`fake-host: httpsRequest ${method} ${path} is not faked`);
    },
    identify: () => {
      const { scope, uid, gid, user, home, quadletDir, runtimeDir, now } = opts.probe;
      return { scope, uid, gid, user, home, quadletDir, runtimeDir, now };
    },
    async findInstall(flags, scope, home) {
      const root = typeof flags.quayRoot === 'string' ? flags.quayRoot
        : state.files[pointerPath(scope, home)]?.content.trim() || defaultQuayRoot(scope, home);
      const found = await readRecordAt(root);
      if (!found) throw new HostError(`no ${scope} mreg install found at ${root} (no ${quayRootLayout(root).record})`);
      refuseOtherScope(found, scope);
      return found;
    },
    async findRecordedInstall(scope, home) {
      const pointer = state.files[pointerPath(scope, home)]?.content.trim();
      for (const root of [...(pointer ? [pointer] : []), defaultQuayRoot(scope, home)]) {
        const found = await readRecordAt(root);
        if (found) return found;
      }
      return undefined;
    },
    readRecordAt,
    async lock() {
      if (locked) throw new HostError('another mreg is running');
      locked = true;
      return async () => { locked = false; };
    },
    actionPorts: async () => ports,
    async close() {},
  };
}

/**
 * `faked` as a whole `T`: any other member is a function that rejects naming itself, so a command that
 * reaches past what a test fakes fails loudly rather than with "is not a function".
 */
function notFaked<T extends object>(what: string, faked: Partial<T>): T {
  return new Proxy(faked, {
    get(target, name) {
      if (name in target || typeof name === 'symbol' || name === 'then') return (target as Record<PropertyKey, unknown>)[name];
      return async () => { throw new Error(`fake-host: ${what}.${name} is not faked`); };
    },
  }) as T;
}

/** The tree of a real folder as FakeHostState's files and dirs, or undefined when `dir` is no folder on the disk. */
function realDirTree(dir: string): Pick<FakeHostState, 'files' | 'dirs'> | undefined {
  let top;
  try {
    top = lstatSync(dir);
  } catch {
    return undefined;
  }
  if (!top.isDirectory()) return undefined;
  const tree: Pick<FakeHostState, 'files' | 'dirs'> = { files: {}, dirs: { [dir]: { mode: top.mode & 0o7777, uid: top.uid, gid: top.gid } } };
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = posix.join(e.parentPath, e.name);
    const st = lstatSync(p);
    if (e.isDirectory()) tree.dirs[p] = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    else if (e.isFile()) tree.files[p] = { content: readFileSync(p, 'utf8'), mode: st.mode & 0o7777 };
  }
  return tree;
}

/** The units Quadlet generates from the files in `quadletDir`, and plain units in systemd's folders (podman 4's pod). */
function generatedUnits(state: FakeHostState, quadletDir: string): string[] {
  return Object.keys(state.files).flatMap(p => {
    const name = posix.basename(p);
    if (posix.dirname(p) !== quadletDir) return /\/systemd\/(system|user)\/[^/]+\.service$/.test(p) ? [name] : [];
    const m = /^(.+)\.(container|pod|volume)$/.exec(name);
    return m ? [m[2] === 'container' ? `${m[1]}.service` : `${m[1]}-${m[2]}.service`] : [];
  });
}

/** A unit Quadlet still generates: its Quadlet file is there. */
function hasSource(state: FakeHostState, unit: string): boolean {
  const base = unit.replace(/\.service$/, '').replace(/-(pod|volume)$/, '.$1');
  return Object.keys(state.files).some(p => [base, `${base}.container`].includes(posix.basename(p)));
}

/** A record file entry, as `mreg up` writes it. */
export function recordFile(record: InstallRecord): { content: string; mode: number } {
  return { content: serializeRecord(record), mode: 0o600 };
}

/**
 * Another mreg rewrites the record at `path` (with `updatedAt`) after the command read it, just before the
 * command takes the scope's lock.
 */
export function writeRecordBeforeLock(host: FakeHost, path: string, updatedAt: string): void {
  const lock = host.lock.bind(host);
  host.lock = async (...a: Parameters<typeof host.lock>) => {
    host.state.files[path] = recordFile({ ...parseRecord(host.state.files[path]!.content, path), updatedAt });
    return lock(...a);
  };
}

/** A CommandContext over the fake host; stdout and stderr are collected, durations blanked. */
export function fakeContext(host: FakeHost, flags: Record<string, unknown>, opts: { json?: boolean; isTTY?: boolean; verbose?: boolean } = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const sink = (to: string[]) => new Writable({ write(chunk, _enc, cb) { to.push(String(chunk)); cb(); } });
  const out = createOutput({ json: opts.json, verbose: opts.verbose, color: false, stdout: sink(stdout), stderr: sink(stderr), env: {} });
  const stdin = Object.assign(new Writable(), { isTTY: opts.isTTY ?? false }) as unknown as CommandContext['stdin'];
  const ctx: CommandContext = { out, flags: { json: opts.json, ...flags }, args: [], env: {}, stdin, host };
  return {
    ctx,
    stdout: () => stdout.join(''),
    stderr: () => stderr.join('').replace(/ \(\d+\.\d+s\)$/gm, ''),
  };
}
