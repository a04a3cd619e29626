// quayRoot/credentials: the first user's login, written once (0600), read back on every re-run.
import { parse, stringify } from 'ini';
import { readIfExists, writeFileAtomic } from '../host/fs.js';

export interface Credentials {
  url: string;
  username: string;
  password: string;
  ca?: string | undefined;
}

export async function readCredentials(path: string): Promise<Credentials | undefined> {
  const text = await readIfExists(path);
  if (text === undefined) return undefined;
  const data = parse(text) as Record<string, unknown>;
  if (typeof data.username !== 'string' || typeof data.password !== 'string') return undefined;
  return { url: String(data.url ?? ''), username: data.username, password: data.password, ca: typeof data.ca === 'string' ? data.ca : undefined };
}

export async function writeCredentials(path: string, c: Credentials): Promise<void> {
  const body = stringify({ url: c.url, username: c.username, password: c.password, ...(c.ca ? { ca: c.ca } : {}) });
  await writeFileAtomic(path, `# mreg: the registry's first user (a superuser). Keep this file private.\n${body}`, 0o600);
}

