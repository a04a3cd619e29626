// --passphrase-file: a backup refuses a first line that ends in a carriage return (gpg would keep it as part
// of the passphrase, and the passphrase typed or saved again later would not decrypt); restore takes it.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { readPassphraseFlag } from '../../src/backup/passphrase.js';

t.test('CRLF: refused by backup, taken by restore (a backup made so decrypts with the same file)', async t => {
  const dir = t.testdir();
  const crlf = join(dir, 'crlf');
  const lf = join(dir, 'lf');
  writeFileSync(crlf, 'correct horse battery\r\n');
  writeFileSync(lf, 'correct horse battery\n');
  await t.rejects(readPassphraseFlag({ passphraseFile: crlf }, 'backup'), UsageError);
  await t.rejects(readPassphraseFlag({ passphraseFile: crlf }, 'backup'), { message: /ends with a carriage return/, hint: /dos2unix/ });
  t.equal(await readPassphraseFlag({ passphraseFile: crlf }, 'restore'), crlf);
  t.equal(await readPassphraseFlag({ passphraseFile: lf }, 'backup'), lf);
});
