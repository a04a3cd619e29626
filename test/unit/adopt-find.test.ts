// mreg adopt, file side: finding a rootless 1.3 install under a fake $HOME and moving its units aside.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupLegacyConfig, backupLegacyUnits, findLegacy } from '../../src/adopt/find.js';
import { HostError } from '../../src/errors.js';

const APP = (root: string) => `[Service]\nExecStart=/usr/bin/podman run --name quay-app \\\n  -v ${root}/quay-config:/quay-registry/conf/stack:Z \\\n  -v quay-storage:/datastorage:Z img:1\n`;

function fakeHome(): { home: string; root: string; unitDir: string } {
  const home = mkdtempSync(join(tmpdir(), 'mreg-adopt-'));
  const root = join(home, 'quay-install');
  const unitDir = join(home, '.config/systemd/user');
  mkdirSync(join(root, 'quay-config'), { recursive: true });
  mkdirSync(join(unitDir, 'default.target.wants'), { recursive: true });
  mkdirSync(join(unitDir, 'timers.target.wants'), { recursive: true });
  writeFileSync(join(root, 'quay-config/config.yaml'), 'SECRET_KEY: x\n');
  for (const u of ['quay-pod', 'quay-postgres', 'quay-redis']) writeFileSync(join(unitDir, `${u}.service`), '[Service]\nExecStart=/usr/bin/podman run x\n');
  writeFileSync(join(unitDir, 'quay-app.service'), APP(root));
  writeFileSync(join(unitDir, 'other.timer'), '');
  for (const u of ['quay-pod', 'quay-app']) symlinkSync(join(unitDir, `${u}.service`), join(unitDir, 'default.target.wants', `${u}.service`));
  symlinkSync(join(unitDir, 'other.timer'), join(unitDir, 'timers.target.wants', 'other.timer'));
  return { home, root, unitDir };
}

t.test('finds the install, quayRoot from the app unit', async t => {
  const { home, root, unitDir } = fakeHome();
  const f = await findLegacy('rootless', home, undefined);
  t.equal(f.quayRoot, root);
  t.equal(f.unitPaths.length, 4);
  t.same(f.wantsLinks, [join(unitDir, 'default.target.wants/quay-app.service'), join(unitDir, 'default.target.wants/quay-pod.service')]);
  t.equal(f.files.hasRootCa, false);

  await backupLegacyConfig(f);
  const dir = await backupLegacyUnits(f);
  t.same(readdirSync(dir).sort(), ['config.yaml', 'links.txt', 'quay-app.service', 'quay-pod.service', 'quay-postgres.service', 'quay-redis.service']);
  t.match(readFileSync(join(dir, 'links.txt'), 'utf8'), /default\.target\.wants\/quay-app\.service -> .*quay-app\.service/);
  t.same(readdirSync(unitDir).sort(), ['other.timer', 'timers.target.wants'], 'units and their emptied wants folder gone; the rest kept');
  t.ok(existsSync(join(unitDir, 'timers.target.wants/other.timer')));
});

t.test('nothing to adopt', async t => {
  const home = mkdtempSync(join(tmpdir(), 'mreg-adopt-'));
  await t.rejects(findLegacy('rootless', home, undefined), HostError);
  const { home: h2, unitDir } = fakeHome();
  writeFileSync(join(unitDir, 'quay-app.service'), '[Service]\nExecStart=/usr/bin/podman run x\n');
  await t.rejects(findLegacy('rootless', h2, undefined), /cannot tell the quayRoot/);
  await t.rejects(findLegacy('rootless', h2, join(h2, 'elsewhere')), /config\.yaml does not exist/);
});
