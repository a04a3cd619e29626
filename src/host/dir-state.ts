// Reads what is at a path before mreg takes it (see spec/taken-dirs.ts); changes nothing.
import { lstat, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DirState } from '../install-spec/taken-dirs.js';

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The state of `path`; a missing one names the top-most level that mkdir -p would create. */
export async function readDirState(path: string): Promise<DirState> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if (code(err) === 'ENOENT') return { kind: 'missing', firstMissing: await firstMissing(path) };
    if (code(err) === 'ENOTDIR') return { kind: 'notDir' };
    if (code(err) === 'EACCES') return { kind: 'unreadable' };
    throw err;
  }
  if (!st.isDirectory()) return { kind: 'notDir' };
  try {
    return { kind: 'dir', entries: await readdir(path), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    if (code(err) === 'EACCES' || code(err) === 'EPERM') return { kind: 'unreadable' };
    throw err;
  }
}

async function firstMissing(path: string): Promise<string> {
  let top = path;
  for (let p = dirname(path); p !== top; top = p, p = dirname(p)) {
    try { await lstat(p); return top; } catch (err) { if (code(err) !== 'ENOENT') return top; }
  }
  return top;
}
