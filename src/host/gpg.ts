// Passphrase encryption of backups through GnuPG (gnupg2 is on every RHEL host): OpenPGP symmetric
// encryption (AES-256, integrity-protected), the passphrase read from a file, never from argv or a tty.
// mreg composes no cryptography of its own.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './exec.js';
import { removeIfExists } from './fs.js';

/** A private, throw-away GnuPG home: the user's keyring and agent are never touched. */
export async function withGpgHome<T>(fn: (home: string) => Promise<T>): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), 'mreg-gpg-'));
  try {
    return await fn(home);
  } finally {
    await runCommand('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']).catch(() => undefined);
    await removeIfExists(home);
  }
}

const COMMON = (home: string, passphraseFile: string) => ['--homedir', home, '--batch', '--no-tty', '--quiet', '--pinentry-mode', 'loopback',
  '--no-symkey-cache', '--passphrase-file', passphraseFile];

/** gpg argv that encrypts stdin to `output` ('-' for stdout). */
export function encryptArgs(home: string, passphraseFile: string, output: string): string[] {
  return [...COMMON(home, passphraseFile), '--symmetric', '--cipher-algo', 'AES256', '--s2k-digest-algo', 'SHA512', '--s2k-mode', '3',
    '--s2k-count', '65011712', '--compress-algo', 'none', '--yes', '--output', output];
}

/** gpg argv that decrypts `input` to stdout; it fails on a wrong passphrase or a modified file. */
export function decryptArgs(home: string, passphraseFile: string, input: string): string[] {
  return [...COMMON(home, passphraseFile), '--decrypt', '--output', '-', input];
}

/** Whether a file starts like an OpenPGP message (a symmetric-key packet), not like a tar archive. */
export function looksEncrypted(firstBytes: Uint8Array): boolean {
  const b = firstBytes[0];
  // Old-format tag 3 (0x8c-0x8f) or new-format tag 3 (0xc3): the symmetric-key encrypted session key.
  return b !== undefined && ((b & 0xfc) === 0x8c || b === 0xc3);
}
