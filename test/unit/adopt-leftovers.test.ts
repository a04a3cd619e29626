// adopt's leftovers: mirror-registry's installer key pair and the authorized_keys lines that let it in
// (quay/mirror-registry cmd/utils.go setupLocalSSH), found and removed without touching any other key;
// the image tars its role unpacks into the quayRoot (tasks/autodetect-image-archive.yaml).
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSshLeftover, findLeftovers, findSshLeftover, removeSshLeftover } from '../../src/adopt/leftovers.js';

const INSTALLER = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCinstallerkey== root@mirror.example.com';
const ADMIN = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIadminkey admin@laptop';

function home(files: Record<string, string>): string {
  const h = mkdtempSync(join(tmpdir(), 'mreg-home-'));
  mkdirSync(join(h, '.ssh'), { mode: 0o700 });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(h, '.ssh', name), text, { mode: 0o600 });
  return h;
}

t.test('nothing of the installer: nothing to offer', async t => {
  t.equal(await findSshLeftover(home({ authorized_keys: `${ADMIN}\n` })), undefined);
});

t.test('the pair and its line (as mirror-registry appends it, with a blank line) go; every other key stays', async t => {
  // /bin/echo "$(cat quay_installer.pub)" >> authorized_keys: the key's line and an empty one.
  const h = home({ quay_installer: 'PRIVATE', 'quay_installer.pub': `${INSTALLER}\n`, authorized_keys: `${ADMIN}\n${INSTALLER}\n\n` });
  const l = await findSshLeftover(h);
  t.match(l, { key: join(h, '.ssh/quay_installer'), lines: 1 });
  t.equal(describeSshLeftover(l!), `mirror-registry's ssh key ${join(h, '.ssh/quay_installer')} (and .pub), let in by a line of ${join(h, '.ssh/authorized_keys')}`);
  await removeSshLeftover(l!);
  t.equal(readFileSync(join(h, '.ssh/authorized_keys'), 'utf8'), `${ADMIN}\n\n`, 'only the installer key\'s line is gone');
  t.equal(statSync(join(h, '.ssh/authorized_keys')).mode & 0o777, 0o600, 'authorized_keys keeps its mode');
  t.notOk(existsSync(join(h, '.ssh/quay_installer')) || existsSync(join(h, '.ssh/quay_installer.pub')), 'the pair is deleted');
});

t.test('the same key with options or another comment, twice (two installs), is still that key', async t => {
  const [type, blob] = INSTALLER.split(' ');
  const h = home({ 'quay_installer.pub': `${INSTALLER}\n`, authorized_keys: `from="10.0.0.0/8" ${type} ${blob} renamed\n${ADMIN}\n${INSTALLER}\n` });
  const l = await findSshLeftover(h);
  t.equal(l?.lines, 2);
  await removeSshLeftover(l!);
  t.equal(readFileSync(join(h, '.ssh/authorized_keys'), 'utf8'), `${ADMIN}\n`);
});

t.test('a pair the user never authorised: offered, and authorized_keys is not rewritten', async t => {
  const h = home({ quay_installer: 'PRIVATE', 'quay_installer.pub': `${INSTALLER}\n`, authorized_keys: `${ADMIN}\n` });
  const before = statSync(join(h, '.ssh/authorized_keys')).mtimeMs;
  const l = await findSshLeftover(h);
  t.equal(l?.lines, 0);
  t.equal(describeSshLeftover(l!), `mirror-registry's ssh key ${join(h, '.ssh/quay_installer')} (and .pub)`);
  await removeSshLeftover(l!);
  t.equal(statSync(join(h, '.ssh/authorized_keys')).mtimeMs, before, 'untouched');
  t.notOk(existsSync(join(h, '.ssh/quay_installer')));
});

t.test('image tars: the names the role writes, regular files only; the user\'s own files stay', async t => {
  const root = mkdtempSync(join(tmpdir(), 'mreg-quayroot-'));
  const h = home({});
  writeFileSync(join(root, 'image-archive.tar'), Buffer.alloc(3 * 1024 * 1024));
  writeFileSync(join(root, 'quay.tar'), 'q');
  writeFileSync(join(root, 'postgres.tar'), 'p');
  writeFileSync(join(root, 'mine.tar'), 'the user\'s');
  mkdirSync(join(root, 'redis.tar'));
  symlinkSync('/etc/hostname', join(root, 'pause.tar'));
  const found = await findLeftovers(h, root, []);
  t.same(found.map(l => [l.what, l.path]), [['image-tar', join(root, 'image-archive.tar')], ['image-tar', join(root, 'quay.tar')], ['image-tar', join(root, 'postgres.tar')]],
    'a folder or a symlink under a tar\'s name is not the role\'s');
  t.equal(found[0]!.text, `mirror-registry's image tar ${join(root, 'image-archive.tar')} (3.0 MiB)`);
  t.equal(found[0]!.byHand, `rm ${join(root, 'image-archive.tar')}`);
  for (const l of found) await l.remove();
  t.same(readdirSync(root).sort(), ['mine.tar', 'pause.tar', 'redis.tar']);
  t.same(await findLeftovers(h, join(root, 'missing'), []), [], 'no quayRoot: nothing');
});

t.test('the key and the tars together, the key first', async t => {
  const root = mkdtempSync(join(tmpdir(), 'mreg-quayroot-'));
  writeFileSync(join(root, 'redis.tar'), 'r');
  const h = home({ 'quay_installer.pub': `${INSTALLER}\n`, authorized_keys: `${INSTALLER}\n` });
  t.same((await findLeftovers(h, root, [])).map(l => l.what), ['ssh-key', 'image-tar']);
});
