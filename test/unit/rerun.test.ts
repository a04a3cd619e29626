// mreg up over an existing install: left-out flags come from the record; disagreeing flags are refused or named.
import t from 'tap';
import { parseUpOptions } from '../../src/install-spec/options.js';
import { reviewRerun, withRecordedFlags } from '../../src/install-spec/rerun.js';
import { quayRootLayout } from '../../src/install-spec/layout.js';
import { recordSpec } from '../../src/install-spec/record.js';

const env = { scope: 'rootful' as const, fqdn: 'other-name.example.com', home: '/root' };
const first = parseUpOptions({ quayHostname: 'reg.example.com:9443', quayRoot: '/srv/qr', quayStorage: '/srv/blobs', pgStorage: 'pgvol',
  quayImage: 'registry.example.com/quay/quay:v1', pgImage: 'registry.example.com/pg:15', redisImage: 'registry.example.com/redis:7', initUser: 'admin' }, env);
const rec = recordSpec(first);
const layout = quayRootLayout('/srv/qr');

t.test('up with no flags at all is the recorded install, not a new one from hostname -f and defaults', async t => {
  const spec = parseUpOptions(withRecordedFlags({}, rec, layout), env);
  t.same(recordSpec(spec), rec);
  t.same(reviewRerun(spec, rec, true, { username: 'admin', password: 'pw-123456' }), { refused: [], changes: [] });
});

t.test('a certificate of the user\'s own stays: the installed pair in quayRoot, not a reissue from mreg\'s CA', async t => {
  const own = { ...rec, tls: { kind: 'provided' as const, certPath: '/tmp/gone.pem', keyPath: '/tmp/gone.key', skipCheck: true } };
  const spec = parseUpOptions(withRecordedFlags({}, own, layout), env);
  t.same(spec.tls, { kind: 'provided', certPath: layout.sslCert, keyPath: layout.sslKey, skipCheck: true });
});

t.test('flags that disagree: storage and (on a live install) images are refused with the way to do it', async t => {
  const spec = parseUpOptions(withRecordedFlags({ quayStorage: 'newvol', quayImage: 'registry.example.com/quay/quay:v2', initUser: 'root1', initPassword: 'another-pw' }, rec, layout), env);
  const r = reviewRerun(spec, rec, true, { username: 'admin', password: 'pw-123456' });
  t.same(r.refused, [
    '--quayStorage newvol: this install keeps its data in /srv/blobs, and mreg up never moves data; leave --quayStorage out (or pass /srv/blobs)',
    '--quayImage registry.example.com/quay/quay:v2: this install runs registry.example.com/quay/quay:v1; switch images with `mreg upgrade --quayImage registry.example.com/quay/quay:v2`, which rolls back if the new one is unhealthy',
    '--initUser root1: this install\'s first user is admin, created once; leave --initUser out, and add users in Quay',
    '--initPassword <hidden>: differs from the first user\'s password, which mreg sets only once; leave --initPassword out, and change the password in Quay',
  ]);
  t.notMatch(r.refused.join('\n'), /another-pw/, 'the password is never shown');
  const afterDown = reviewRerun(spec, rec, false, undefined);
  t.equal(afterDown.refused.length, 1, 'after mreg down only the storage move is refused (nothing runs, so images may change)');
});

t.test('the pod\'s infra image: kept from the record when left out, a change up names when given', async t => {
  const withInfra = { ...rec, infraImage: 'registry.access.redhat.com/ubi8/pause:8.7-6' };
  const kept = parseUpOptions(withRecordedFlags({}, withInfra, layout), env);
  t.equal(kept.infraImage, withInfra.infraImage);
  t.same(reviewRerun(kept, withInfra, true, undefined), { refused: [], changes: [] });
  const other = parseUpOptions(withRecordedFlags({ infraImage: 'registry.example.com/pause:2' }, withInfra, layout), env);
  t.same(reviewRerun(other, withInfra, true, undefined).changes,
    ['--infraImage: registry.access.redhat.com/ubi8/pause:8.7-6 → registry.example.com/pause:2 (the pod and every container restart)']);
  t.equal(parseUpOptions(withRecordedFlags({}, rec, layout), env).infraImage, undefined, 'none recorded: podman\'s own');
  t.throws(() => parseUpOptions({ infraImage: 'pause' }, env), /--infraImage pause: not a fully qualified image reference/);
});

t.test('--quayRoot is read by the same rules in every command (status, down, upgrade, cert find installs with it)', async t => {
  const { parseQuayRootFlag } = await import('../../src/install-spec/options.js');
  const { locateQuayRoot } = await import('../../src/apply/install-lookup.js');
  t.equal(await locateQuayRoot({ quayRoot: '~/qr/' }, 'rootless', '/home/u'), '/home/u/qr', '~ and a trailing slash as up reads them');
  await t.rejects(locateQuayRoot({ quayRoot: 'rel/dir' }, 'rootless', '/home/u'), { message: /^--quayRoot rel\/dir: relative path; give an absolute path/ });
  await t.rejects(locateQuayRoot({ quayRoot: '/srv/a b' }, 'rootful', '/root'), { message: /--quayRoot "\/srv\/a b": contains " "/ });
  t.throws(() => parseQuayRootFlag(true, { scope: 'rootful', home: '/root', fqdn: '' }), { message: /--quayRoot: needs a value/ });
});

t.test('a new hostname is a change up names before it makes it; without a port it keeps the recorded one (until 2026-12-06 it became 8443)', async t => {
  const renamed = parseUpOptions(withRecordedFlags({ quayHostname: 'new.example.com' }, rec, layout), env);
  t.same([renamed.hostname, renamed.port], ['new.example.com', 9443]);
  t.same(reviewRerun(renamed, rec, true, undefined).changes, [
    '--quayHostname: reg.example.com:9443 → new.example.com:9443 (new server certificate, quay-app restarts; clients must use the new name)',
  ]);
  const moved = parseUpOptions(withRecordedFlags({ quayHostname: 'reg.example.com:8443' }, rec, layout), env);
  t.same([moved.hostname, moved.port], ['reg.example.com', 8443], 'an explicit port is taken');
  const upper = parseUpOptions(withRecordedFlags({ quayHostname: 'REG.example.com' }, rec, layout), env);
  t.same(reviewRerun(upper, rec, true, undefined).changes, [], 'the recorded name in other case: nothing changes');
  const same = parseUpOptions(withRecordedFlags({ quayHostname: 'reg.example.com' }, rec, layout), env);
  t.same(reviewRerun(same, rec, true, undefined).changes, [], 'the recorded name alone: nothing changes');
});
