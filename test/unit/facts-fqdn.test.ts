// gatherFacts runs `hostname -f` only when asked: up and upgrade take the hostname from a flag or the
// install record, and a process costs a no-op `up` its spawn (issue 19).
import t from 'tap';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatherFacts } from '../../src/host/facts.js';
import type { Podman } from '../../src/host/podman.js';

t.test('fqdn: false runs no hostname process; the default runs one', async t => {
  const bin = mkdtempSync(join(tmpdir(), 'mreg-hostname-'));
  const calls = join(bin, 'calls');
  writeFileSync(join(bin, 'hostname'), `#!/bin/sh\necho "$@" >>${calls}\necho mirror.lab.example\n`);
  chmodSync(join(bin, 'hostname'), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  t.teardown(() => { process.env.PATH = saved; });
  const podman = { version: async () => [5, 4, 2] } as unknown as Podman;

  const lazy = await gatherFacts({ scope: 'rootful', podman, env: process.env, fqdn: false });
  t.equal(lazy.fqdn, '', 'fqdn left empty');
  t.notOk(existsSync(calls), 'hostname never ran');

  const full = await gatherFacts({ scope: 'rootful', podman, env: process.env });
  t.equal(full.fqdn, 'mirror.lab.example', 'the default asks hostname -f');
  t.equal(readFileSync(calls, 'utf8'), '-f\n', 'once');
});
