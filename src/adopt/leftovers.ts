// What mirror-registry leaves behind that mreg's install does not use (issue 15, item 6). Its installer
// ran Ansible over ssh to this host with a key it made for that (quay/mirror-registry cmd/utils.go,
// setupLocalSSH: `ssh-keygen -f ~/.ssh/quay_installer`, the public key appended to ~/.ssh/authorized_keys).
// Whoever holds the private key logs in as this user without a password, so adopt offers to remove it.
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../host/fs.js';

export interface SshLeftover {
  key: string;
  pub: string;
  authorizedKeys: string;
  /** The public key as keyOf gives it; undefined without a readable .pub (no line can then be matched). */
  publicKey?: string;
  /** Lines of authorized_keys that hold the key (mirror-registry appends one per install). */
  lines: number;
}

/** "type base64" of a public key line, which identifies the key whatever its options and comment. */
function keyOf(line: string): string | undefined {
  const m = /(?:^|\s)((?:ssh|ecdsa|sk)-[\w@.-]+)\s+([A-Za-z0-9+/]+=*)(?:\s|$)/.exec(line.trim());
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** The installer's key pair in `home`, and how many authorized_keys lines let it in; undefined when none is there. */
export async function findSshLeftover(home: string): Promise<SshLeftover | undefined> {
  const key = join(home, '.ssh', 'quay_installer');
  const pub = `${key}.pub`;
  const authorizedKeys = join(home, '.ssh', 'authorized_keys');
  const pubText = await readFile(pub, 'utf8').catch(() => undefined);
  const keyThere = await stat(key).then(() => true, () => false);
  if (pubText === undefined && !keyThere) return undefined;
  const publicKey = pubText === undefined ? undefined : keyOf(pubText);
  const allowed = await readFile(authorizedKeys, 'utf8').catch(() => '');
  const lines = publicKey === undefined ? 0 : allowed.split('\n').filter(l => keyOf(l) === publicKey).length;
  return { key, pub, authorizedKeys, lines, ...(publicKey ? { publicKey } : {}) };
}

export function describeSshLeftover(l: SshLeftover): string {
  return `mirror-registry's ssh key ${l.key} (and .pub)${l.lines > 0 ? `, let in by ${l.lines === 1 ? 'a line' : `${l.lines} lines`} of ${l.authorizedKeys}` : ''}`;
}

/** Drops the key's lines from authorized_keys (every other line kept, same mode), then deletes the pair. */
export async function removeSshLeftover(l: SshLeftover): Promise<void> {
  if (l.lines > 0) {
    const text = await readFile(l.authorizedKeys, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const kept = text.split('\n').filter(line => keyOf(line) !== l.publicKey).join('\n');
      if (kept !== text) await writeFileAtomic(l.authorizedKeys, kept, (await stat(l.authorizedKeys)).mode & 0o777);
    }
  }
  await rm(l.key, { force: true });
  await rm(l.pub, { force: true });
}
