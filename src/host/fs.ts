// File-system port: atomic writes, directories, removal, the run lock and a few host-file reads.
import { constants as C } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { HostError } from '../errors.js';
import { atomicTempName } from '../model/atomic-name.js';

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function fsError(what: string, file: string, err: unknown): HostError {
  const code = errCode(err);
  const hint = code === 'EACCES' || code === 'EPERM' ? 'check the owner and mode of the path, or run as root for a rootful install' : undefined;
  return new HostError(`${what} ${file}: ${(err as Error).message ?? String(err)}`, hint, { cause: err });
}

/** Whether `file` exists (any type). */
export async function pathExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return false;
    throw fsError('cannot stat', file, err);
  }
}

/** Reads a UTF-8 file; resolves undefined when it does not exist. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return undefined;
    throw fsError('cannot read', file, err);
  }
}

/**
 * Creates `dir` and its parents; sets `mode` on the last one even when it existed (mkdir's mode is
 * masked by the umask). Only for directories that are mreg's own (quayRoot and its folders).
 */
export async function ensureDir(dir: string, mode = 0o755): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode });
    await fs.chmod(dir, mode);
  } catch (err) {
    throw fsError('cannot create directory', dir, err);
  }
}

/**
 * Creates `dir` if missing and leaves an existing one (and every existing parent) as it is: for
 * directories mreg shares with the system or the user, like XDG_RUNTIME_DIR (must stay 0700) or a
 * user's own 0700 ~/.config/containers/systemd. The levels it creates get `mode`, whatever the umask.
 */
export async function makeDirIfMissing(dir: string, mode = 0o700): Promise<void> {
  try {
    const first = await fs.mkdir(dir, { recursive: true, mode });
    if (first === undefined) return;
    const rel = path.relative(first, dir);
    let level = first;
    await fs.chmod(level, mode);
    for (const part of rel === '' ? [] : rel.split(path.sep)) {
      level = path.join(level, part);
      await fs.chmod(level, mode);
    }
  } catch (err) {
    throw fsError('cannot create directory', dir, err);
  }
}

/**
 * Puts back the permission bits of an existing file (someone chmodded a key or config.yaml).
 * Resolves whether it had to; a missing file is left to the writer.
 */
export async function ensureMode(file: string, mode: number): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if ((st.mode & 0o7777) === mode) return false;
    await fs.chmod(file, mode);
    return true;
  } catch (err) {
    if (errCode(err) === 'ENOENT') return false;
    throw fsError('cannot set the mode of', file, err);
  }
}

/**
 * Writes `content` so readers see either the old or the new file, never a torn one: a temp file
 * in the same directory (same file system, so rename is atomic), fsync, rename, fsync the directory.
 * The parent directory must exist. Resolves once the rename is durable.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, atomicTempName(path.basename(file), process.pid));
  try {
    const fh = await fs.open(tmp, C.O_WRONLY | C.O_CREAT | C.O_TRUNC, mode);
    try {
      await fh.writeFile(content);
      await fh.chmod(mode); // open's mode is masked by the umask; secrets must be exactly 0600
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    await syncDir(dir);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw fsError('cannot write', file, err);
  }
}

/** fsync of a file or folder by path: for a file another process wrote and closed (tar, gpg, pg_dump). */
export async function syncPath(file: string): Promise<void> {
  const fh = await fs.open(file, C.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, C.O_RDONLY);
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Removes a file or a whole directory tree; a missing path is not an error. */
export async function removeIfExists(file: string): Promise<void> {
  try {
    await fs.rm(file, { recursive: true, force: true });
  } catch (err) {
    throw fsError('cannot remove', file, err);
  }
}

/** Sets the owner (rootful writes into a rootless user's tree, e.g. a credentials file). */
export async function chown(file: string, uid: number, gid: number): Promise<void> {
  try {
    await fs.lchown(file, uid, gid);
  } catch (err) {
    throw fsError('cannot chown', file, err);
  }
}

/** Regular files under `dir`, recursively, as absolute paths sorted by name; [] when dir is missing. */
export async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw fsError('cannot list', dir, err);
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.resolve(e.parentPath ?? dir, e.name))
    .sort();
}

/** Free bytes for an unprivileged user on the file system holding `file` (or its nearest existing parent). */
export async function diskFreeBytes(file: string): Promise<number> {
  let p = path.resolve(file);
  for (;;) {
    try {
      const s = await fs.statfs(p);
      return s.bavail * s.bsize;
    } catch (err) {
      const parent = path.dirname(p);
      if (errCode(err) !== 'ENOENT' || parent === p) throw fsError('cannot statfs', p, err);
      p = parent;
    }
  }
}

/** Whether logind's on-disk linger flag exists for `user` (the state logind itself reads at boot). */
export async function lingerFileExists(user: string): Promise<boolean> {
  return pathExists(path.join('/var/lib/systemd/linger', user));
}

/** The user name for `uid` from /etc/passwd, or undefined (callers fall back to os.userInfo()). */
export async function userNameFromPasswd(uid: number): Promise<string | undefined> {
  const text = (await readIfExists('/etc/passwd')) ?? '';
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && Number(id) === uid) return name;
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errCode(err) === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes the stale lock whose text was `seen`, holding the breaker (`lockPath.break`, made like the lock) so
 * that no two mregs remove at once. Moving the lock aside and linking it back when it was not the stale one
 * left a window: a third mreg's fresh lock could appear between the two, the link back failed, and two held
 * the lock (lock.test.ts caught it in CI). Under the breaker, the lock read as `seen` can only be removed by
 * this mreg, and a fresh one only appears where there is none. Resolves false when another mreg holds the
 * breaker (the caller tries the lock again).
 */
async function removeStale(lockPath: string, seen: string, tmp: string): Promise<boolean> {
  const breaker = `${lockPath}.break`;
  try {
    await fs.link(tmp, breaker);
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw fsError('cannot take over the stale lock', lockPath, err);
    const holder = Number.parseInt((await readIfExists(breaker)) ?? '', 10);
    // Killed in the few milliseconds it holds it: nothing else removes a breaker left behind.
    if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) {
      throw new HostError(`cannot take over the stale lock ${lockPath}: an mreg (pid ${holder}) was killed while taking it over`, `remove ${breaker} and ${lockPath}, then retry`);
    }
    return false;
  }
  try {
    if ((await readIfExists(lockPath)) === seen) await fs.rm(lockPath, { force: true });
    return true;
  } finally {
    await fs.rm(breaker, { force: true });
  }
}

/**
 * Takes the run lock: `lockPath` holding our pid, created with link(2) from a complete temp file,
 * so it appears atomically and never half-written. A lock left by a dead process is taken over;
 * a live holder (this process included) makes this reject with HostError. Resolves with the
 * release function, which the caller must await in a finally (it only removes our own lock).
 */
export async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  const mine = `${process.pid}\n`;
  const unique = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = `${lockPath}.${unique}.tmp`;
  try {
    await fs.writeFile(tmp, mine, { mode: 0o644 });
  } catch (err) {
    throw fsError('cannot create lock', lockPath, err);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.link(tmp, lockPath); // EEXIST when held: the O_EXCL of link(2)
        break;
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw fsError('cannot create lock', lockPath, err);
      }
      const seen = await readIfExists(lockPath);
      const holder = Number.parseInt(seen ?? '', 10);
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new HostError(
          `another mreg (pid ${holder}) is running; wait for it or remove ${lockPath}`,
          `if pid ${holder} is not mreg, remove ${lockPath} and retry`,
        );
      }
      if (attempt >= 20) throw new HostError(`cannot take over the stale lock ${lockPath}`, `remove ${lockPath} and retry`);
      // Another mreg taking it over holds the breaker for a few milliseconds: try again after them.
      if (seen !== undefined && !(await removeStale(lockPath, seen, tmp))) await new Promise(r => setTimeout(r, 10 + attempt * 5));
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return async () => {
    if ((await readIfExists(lockPath)) === mine) await fs.rm(lockPath, { force: true });
  };
}
