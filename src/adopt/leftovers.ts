// What mirror-registry leaves behind that mreg's install does not use (issue 15, item 6). Its installer
// ran Ansible over ssh to this host with a key it made for that (quay/mirror-registry cmd/utils.go,
// setupLocalSSH: `ssh-keygen -f ~/.ssh/quay_installer`, the public key appended to ~/.ssh/authorized_keys).
// Whoever holds the private key logs in as this user without a password, so adopt offers to remove it.
// Installed on another host (-H), its role copies image-archive.tar into the quayRoot and unpacks the
// image tars there (roles/mirror_appliance/tasks/autodetect-image-archive.yaml, -sqlite-archive.yaml;
// members per its Dockerfile): gigabytes podman already holds as images once they are imported.
// 1.3 creates both named volumes whatever --quayStorage/--pgStorage say (install-{postgres,quay}-service.yaml:
// podman_volume has no `when`), so an install on folders leaves two that nothing ever mounted.
import { lstat, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { runCommand } from '../host/exec.js';
import { HostError } from '../errors.js';
import { writeFileAtomic } from '../host/fs.js';
import { sizeText } from '../ui/bytes.js';
import type { Output } from '../ui/output.js';
import type { InstallSpec } from '../install-spec/spec.js';

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

/** The tars mirror-registry's role leaves in the quayRoot: the archive, and what it unpacks from it. */
export const IMAGE_TARS = ['image-archive.tar', 'quay.tar', 'redis.tar', 'postgres.tar', 'pause.tar', 'sqlite3.tar'] as const;

/** Those of IMAGE_TARS that are regular files in `quayRoot`, with their sizes. */
export async function findImageTars(quayRoot: string): Promise<Array<{ path: string; bytes: number }>> {
  const found = await Promise.all(IMAGE_TARS.map(async name => {
    const path = join(quayRoot, name);
    const st = await lstat(path).catch(() => undefined);
    return st?.isFile() ? [{ path, bytes: st.size }] : [];
  }));
  return found.flat();
}

/** The named volumes mirror-registry 1.3's role creates. */
export const ROLE_VOLUMES = ['pg-storage', 'quay-storage'] as const;

/**
 * Of `names`, the volumes no container uses that hold nothing: made and never mounted, so removing one
 * loses nothing. A volume podman cannot list or whose folder cannot be read is not one of them.
 */
export async function findEmptyVolumes(names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const r = await runCommand('podman', ['volume', 'ls', '--filter', 'dangling=true', '--format', '{{.Name}}\t{{.Mountpoint}}']);
  if (r.exitCode !== 0) return [];
  const dangling = r.stdout.split('\n').map(l => l.split('\t')).filter(([n, m]) => n && m && names.includes(n));
  const empty = await Promise.all(dangling.map(async ([n, m]) => ((await readdir(m!).catch(() => undefined))?.length === 0 ? [n!] : [])));
  return empty.flat();
}

/** One thing adopt offers to remove, however it is removed. */
export interface Leftover {
  what: 'ssh-key' | 'image-tar' | 'volume';
  path: string;
  /** For the question and the step line. */
  text: string;
  /** Why it should go, for the question. */
  why: string;
  /** What to do by hand when it is kept. */
  byHand: string;
  remove: () => Promise<void>;
}

/**
 * Everything of mirror-registry's that nothing uses once adopted: the installer key, the image tars, and
 * of `spareVolumes` (its volumes the adopted install does not mount) the empty ones.
 */
export async function findLeftovers(home: string, quayRoot: string, spareVolumes: readonly string[]): Promise<Leftover[]> {
  const [ssh, tars, volumes] = await Promise.all([findSshLeftover(home), findImageTars(quayRoot), findEmptyVolumes(spareVolumes)]);
  return [
    ...(ssh ? [{ what: 'ssh-key' as const, path: ssh.key, text: describeSshLeftover(ssh), why: 'whoever holds the key logs in as this user',
      byHand: `remove its line${ssh.lines === 1 ? '' : 's'} from ${ssh.authorizedKeys} and delete ${ssh.key} ${ssh.pub}`, remove: () => removeSshLeftover(ssh) }] : []),
    ...tars.map(t => ({ what: 'image-tar' as const, path: t.path, text: `mirror-registry's image tar ${t.path} (${sizeText(t.bytes)})`, why: 'podman holds its image',
      byHand: `rm ${t.path}`, remove: () => rm(t.path, { force: true }) })),
    ...volumes.map(v => ({ what: 'volume' as const, path: v, text: `mirror-registry's volume ${v} (empty)`, why: 'no unit mounts it',
      byHand: `podman volume rm ${v}`, remove: () => removeVolume(v) })),
  ];
}

/** `podman volume rm` without --force: a volume some container took meanwhile stays. */
async function removeVolume(name: string): Promise<void> {
  const r = await runCommand('podman', ['volume', 'rm', name]);
  if (r.exitCode !== 0) throw new HostError(`podman volume rm ${name}: ${r.stderr.trim()}`, `the registry is adopted; remove the volume by hand once nothing uses it: podman volume rm ${name}`);
}

/** mirror-registry's volumes the adopted install does not mount (its storage is on folders). */
export function spareVolumes(spec: InstallSpec): string[] {
  return ROLE_VOLUMES.filter(v => ![spec.quayStorage, spec.pgStorage].some(s => s.kind === 'volume' && s.name === v));
}

export type Leftovers = Array<{ what: string; path: string; removed: boolean }>;

/**
 * Once mreg's registry is healthy: what mirror-registry left that nothing uses now, removed with
 * --remove-leftovers, or after a yes on a terminal; otherwise kept and named, with how to remove it.
 */
export async function offerLeftovers(out: Output, stdin: NodeJS.ReadableStream & { isTTY?: boolean }, removeLeftovers: boolean,
  home: string, quayRoot: string, volumes: readonly string[]): Promise<Leftovers> {
  const found = await findLeftovers(home, quayRoot, volumes);
  if (found.length === 0) return [];
  let remove = removeLeftovers;
  if (!remove && stdin.isTTY && !out.json) {
    const rl = createInterface({ input: stdin, output: process.stderr });
    try {
      const list = found.map(l => `  ${l.text}: ${l.why}\n`).join('');
      remove = /^y(es)?$/i.test((await rl.question(`mirror-registry left what nothing uses now:\n${list}Remove ${found.length === 1 ? 'it' : 'them'}? [y/N] `)).trim());
    } finally {
      rl.close();
    }
  }
  for (const l of found) {
    if (remove) await out.step(`remove ${l.text}`, l.remove);
    else out.warn(`kept ${l.text}; nothing uses it now: ${l.byHand}`);
  }
  return found.map(l => ({ what: l.what, path: l.path, removed: remove }));
}
