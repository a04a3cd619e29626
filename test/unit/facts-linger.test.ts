// gatherFacts asks logind about linger only for a rootless install: root's units are system units, and
// for root the question cost every command a D-Bus client load and a connection (issue 19).
import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatherFacts } from '../../src/host/facts.js';
import type { Podman } from '../../src/host/podman.js';

t.test('rootful: no connection to the system bus; rootless: one', async t => {
  const sock = join(mkdtempSync(join(tmpdir(), 'mreg-bus-')), 'system_bus_socket');
  let connections = 0;
  const open: Socket[] = [];
  const server = createServer(c => { connections++; open.push(c); c.destroy(); });
  await new Promise<void>(r => server.listen(sock, r));
  const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${sock}`;
  t.teardown(() => { process.env.DBUS_SYSTEM_BUS_ADDRESS = saved; server.close(); });
  const podman = { version: async () => [5, 4, 2] } as unknown as Podman;

  const root = await gatherFacts({ scope: 'rootful', podman, env: process.env });
  t.equal(root.lingerEnabled, false, 'root: linger not asked');
  t.equal(connections, 0, 'and the system bus never opened');

  await gatherFacts({ scope: 'rootless', podman, env: process.env });
  t.equal(connections, 1, 'rootless: logind asked over the system bus');
});
