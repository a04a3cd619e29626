// The install lookup every command but up starts with: an install of the other scope is refused, never acted on.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findInstall } from '../../src/apply/install-lookup.js';
import { UsageError } from '../../src/errors.js';
import { ROOT, runningInstall } from '../support/running-install.js';

t.test('--quayRoot of a rootless install, looked up rootful: UsageError naming both scopes; of the same scope: found', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-lookup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'mreg-install.json'), runningInstall().files[`${ROOT}/mreg-install.json`]!.content);
  const err = await findInstall({ quayRoot: dir }, 'rootful', '/root').then(() => undefined, (e: unknown) => e);
  t.type(err, UsageError);
  t.match((err as Error).message, /a rootless install, and this mreg runs rootful \(as root\)/);
  t.equal((await findInstall({ quayRoot: dir }, 'rootless', '/home/alice')).record.spec.scope, 'rootless');
});
