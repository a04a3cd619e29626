// host/fs.ts over a fake host's files, as t.mockImport mocks: upgrade reads config.yaml, the credentials
// and the CA, and writes its database dump and the install record, through host/fs.ts (db-snapshot.ts
// also through node:fs/promises), not through the ports, so fake-host.ts alone cannot see them. Paths
// under the fake user's home are the fake host's; changes go through its file ports, so they show in
// `calls` in order. Any other path (validateUnits' scratch folder in tmpdir) stays on the real disk.
import * as realFsPromises from 'node:fs/promises';
import * as realFs from '../../src/host/fs.js';
import type { FakeHost } from './fake-host.js';

/**
 * The mocks for t.mockImport, keyed as a test file in test/unit names them. `host` is read at each call, so
 * mocks made once can follow a test's successive hosts (a getter that returns the current one).
 */
export function fakeFsMocks(host: Pick<FakeHost, 'state' | 'files'>, home: string): Record<string, object> {
  const isFake = (p: string) => p === home || p.startsWith(`${home}/`);
  const text = (c: string | Uint8Array) => (typeof c === 'string' ? c : Buffer.from(c).toString('utf8'));
  const notFound = (p: string) => Object.assign(new Error(`ENOENT: no such file or directory, '${p}'`), { code: 'ENOENT' });
  const fs: typeof realFs = {
    ...realFs,
    pathExists: async p => (isFake(p) ? host.files.exists(p) : realFs.pathExists(p)),
    readIfExists: async p => (isFake(p) ? host.state.files[p]?.content : realFs.readIfExists(p)),
    // ensureDir sets `mode` on the folder itself even when it existed (mkdir's mode is masked by the umask).
    async ensureDir(p, mode = 0o755) {
      if (!isFake(p)) return realFs.ensureDir(p, mode);
      await host.files.makeDir(p, mode);
      await host.files.ensureMode(p, mode);
    },
    makeDirIfMissing: async (p, mode = 0o700) => (isFake(p) ? host.files.makeDir(p, mode) : realFs.makeDirIfMissing(p, mode)),
    async ensureMode(p, mode) {
      if (!isFake(p)) return realFs.ensureMode(p, mode);
      const had = host.state.files[p]?.mode;
      await host.files.ensureMode(p, mode);
      return had !== undefined && had !== mode;
    },
    writeFileAtomic: async (p, content, mode = 0o644) => (isFake(p) ? host.files.write(p, text(content), mode) : realFs.writeFileAtomic(p, content, mode)),
    removeIfExists: async p => (isFake(p) ? host.files.remove(p) : realFs.removeIfExists(p)),
    // Durability is the real file system's; a fake file must exist to be synced.
    syncPath: async p => { if (!isFake(p)) return realFs.syncPath(p); if (!host.state.files[p] && !(await host.files.exists(p))) throw notFound(p); },
  };
  // db-snapshot.ts sizes and renames its dump directly; no port has these, so they change state without a call.
  const fsPromises = {
    ...realFsPromises,
    async stat(p: string, ...rest: unknown[]) {
      if (!isFake(p)) return (realFsPromises.stat as (...a: unknown[]) => unknown)(p, ...rest);
      const f = host.state.files[p];
      if (!f) throw notFound(p);
      return { size: Buffer.byteLength(f.content), mode: 0o100000 | f.mode, mtimeMs: host.state.clock?.mtimes[p] ?? 0, isFile: () => true, isDirectory: () => false };
    },
    async rename(from: string, to: string) {
      if (!isFake(from)) return realFsPromises.rename(from, to);
      const f = host.state.files[from];
      if (!f) throw notFound(from);
      host.state.files[to] = f;
      delete host.state.files[from];
    },
  };
  return { '../../src/host/fs.js': fs, 'node:fs/promises': fsPromises };
}
