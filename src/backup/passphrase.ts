// --passphrase-file of backup and restore: checked here, passed to gpg by path.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { stringFlag } from '../install-spec/flags.js';

/** --passphrase-file: a readable file whose first line is the passphrase (gpg reads it; mreg never holds it). */
export async function readPassphraseFlag(flags: Record<string, unknown>, command: string): Promise<string | undefined> {
  const file = stringFlag(flags, 'passphraseFile', command);
  if (file === undefined) return undefined;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) throw new UsageError(`--passphrase-file ${file}: cannot be read; give a file whose first line is the passphrase`);
  const line = text.split('\n')[0] ?? '';
  if (line.length < 8) throw new UsageError(`--passphrase-file ${file}: the passphrase (its first line) is shorter than 8 characters; use a longer one`);
  // gpg keeps a carriage return as part of the passphrase: typed or recreated later, it would not decrypt.
  // A backup already made so still restores with the same file.
  if (command === 'backup' && line.endsWith('\r')) {
    throw new UsageError(`--passphrase-file ${file}: its first line ends with a carriage return (Windows line endings), which gpg would make part of the passphrase`,
      `save it with Unix line endings (dos2unix ${file}), so the passphrase typed later decrypts the backup`);
  }
  return resolve(file);
}
