// src/ports.ts: commands share one D-Bus connection per run. Two callers asking at once (up's start
// jobs and its crash watch, say) must get the same one, and close() must close it: a second, forgotten
// connection would keep mreg's process alive after its work is done. Also: which ports are one and the same.
import t from 'tap';
import type { Identity } from '../../src/actions/ports.js';
import type { Output } from '../../src/ui/output.js';

interface FakeBus { id: number; closed: boolean; close(): Promise<void> }

async function portsWith(connect: () => Promise<FakeBus>) {
  const { createHostPorts } = await t.mockImport<typeof import('../../src/ports.js')>('../../src/ports.js', {
    '../../src/host/systemd.js': { connectSystemd: connect },
  });
  return createHostPorts({ env: {}, out: { verbose: false, debug: () => undefined } as unknown as Output });
}

const who = { scope: 'rootful', uid: 0 } as unknown as Identity;

t.test('callers at once share one connection, and close() closes it', async t => {
  const made: FakeBus[] = [];
  const host = await portsWith(async () => {
    await new Promise(r => setTimeout(r, 10));
    const bus: FakeBus = { id: made.length, closed: false, async close() { this.closed = true; } };
    made.push(bus);
    return bus;
  });
  const [a, b] = await Promise.all([host.actionPorts(who), host.actionPorts(who)]);
  t.equal(made.length, 1, 'one connection');
  t.equal(a.systemd, b.systemd);
  await host.close();
  t.equal(made[0]!.closed, true, 'closed');
  await host.close(); // safe twice
});

t.test('a failed connect is tried again by the next caller', async t => {
  let calls = 0;
  const host = await portsWith(async (): Promise<FakeBus> => {
    calls += 1;
    if (calls === 1) throw new Error('no bus');
    const bus: FakeBus = { id: calls, closed: false, async close() { this.closed = true; } };
    return bus;
  });
  await t.rejects(host.actionPorts(who), /no bus/);
  const p = await host.actionPorts(who);
  t.equal(calls, 2);
  t.ok(p.systemd);
  await host.close();
});

t.test('close() with no connection made does nothing', async t => {
  const host = await portsWith(async () => { throw new Error('must not connect'); });
  await host.close();
  t.pass();
});

t.test('whether a path exists is one function, whoever asks (FilePorts and InspectPorts)', async t => {
  const host = await portsWith(async () => { throw new Error('must not connect'); });
  t.equal(host.inspect(who).exists, host.files.exists);
  t.equal(await host.files.exists('/'), true);
  t.equal(await host.files.exists('/no/such/path/mreg'), false);
});
