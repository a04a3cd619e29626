// logind's linger over D-Bus: whether a user's manager (and so a rootless registry) runs without a login.
import * as os from 'node:os';
import { HostError } from '../errors.js';
import { Connection, mapDbusError, PROPS } from './dbus.js';
import { lingerFileExists, userNameFromPasswd } from './fs.js';

const LOGIN = 'org.freedesktop.login1';
const LOGIN_PATH = '/org/freedesktop/login1';
const LOGIN_MANAGER = 'org.freedesktop.login1.Manager';

async function withLogind<T>(what: string, f: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await Connection.open('rootful', process.env);
  try {
    return await f(conn);
  } catch (err) {
    throw mapDbusError(err, what);
  } finally {
    conn.disconnect();
  }
}

async function userName(uid: number): Promise<string> {
  const me = os.userInfo();
  return uid === me.uid ? me.username : (await userNameFromPasswd(uid)) ?? String(uid);
}

/**
 * Whether logind keeps `uid`'s user manager running without a login (the User object's Linger).
 * When logind has no object for the user (no session yet) or the system bus is unreachable,
 * falls back to the flag file /var/lib/systemd/linger/USER.
 */
export async function getLinger(uid: number): Promise<boolean> {
  try {
    return await withLogind(`cannot read linger for uid ${uid}`, async (conn) => {
      const [path] = (await conn.call(LOGIN, LOGIN_PATH, LOGIN_MANAGER, 'GetUser', 'u', [uid])) as [string];
      const [v] = await conn.call(LOGIN, path, PROPS, 'Get', 'ss', ['org.freedesktop.login1.User', 'Linger']);
      return (v as { value: unknown }).value === true;
    });
  } catch {
    return lingerFileExists(await userName(uid));
  }
}

async function setLinger(uid: number, enable: boolean): Promise<void> {
  await withLogind(`cannot ${enable ? 'enable' : 'disable'} linger for uid ${uid}`, (conn) =>
    conn.call(LOGIN, LOGIN_PATH, LOGIN_MANAGER, 'SetUserLinger', 'ubb', [uid, enable, false]));
  if ((await getLinger(uid)) !== enable) {
    throw new HostError(`linger for uid ${uid} is still ${enable ? 'off' : 'on'} after SetUserLinger`,
      `run as root: loginctl ${enable ? 'enable' : 'disable'}-linger ${await userName(uid)}`);
  }
}

/** logind SetUserLinger(uid, true), then checks it took. Rejects with HostError (permission: run as root). */
export const enableLinger = (uid: number): Promise<void> => setLinger(uid, true);
/** logind SetUserLinger(uid, false), then checks it took. */
export const disableLinger = (uid: number): Promise<void> => setLinger(uid, false);
