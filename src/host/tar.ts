// Reads tar archives with the host's GNU tar (on every RHEL host), so mreg parses no archive format itself.
import { createHash } from 'node:crypto';
import { loadExeca } from './execa.js';
import { HostError } from '../errors.js';
import { runChecked } from './exec.js';

/** Member names of an uncompressed or compressed tar, without a leading `./`. */
export async function listTar(archive: string): Promise<string[]> {
  const res = await runChecked('tar', ['-tf', archive], { what: `tar -tf ${archive}`, hint: 'give a tar archive: `podman save` output or mirror-registry\'s image-archive.tar' });
  return res.stdout.split('\n').filter(l => l !== '').map(l => l.replace(/^\.\//, ''));
}

/** The sha256 (hex) of one member's bytes, streamed (members are root filesystems of a gigabyte or more). */
export async function hashTarMember(archive: string, member: string): Promise<string> {
  const hash = createHash('sha256');
  const { execa } = await loadExeca();
  const child = execa('tar', ['-xOf', archive, member], { buffer: { stdout: false }, reject: false, env: { LC_ALL: 'C' } });
  child.stdout.on('data', (chunk: Buffer) => hash.update(chunk));
  const res = await child;
  if (res.exitCode !== 0) throw new HostError(`tar -xOf ${archive} ${member} failed (exit ${res.exitCode}): ${res.stderr.trim().split('\n').pop() ?? ''}`);
  return hash.digest('hex');
}
