// -H/--targetHostname, pure parts: local-target detection, flag checks, ssh argv and the remote command line.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  forwardFlags, haveExecutableScript, isLocalTarget, parseTarget, remoteCommandLine, remoteEnv, remoteExecutableName, shellQuote, sshBaseArgs, uploadScript,
} from '../../src/remote/argv.js';
import { UsageError } from '../../src/errors.js';

/** What a POSIX shell makes of `line`: NUL-terminated words (printf), so quoting is checked by a real sh. */
function words(line: string): string[] {
  return execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

t.test('shellQuote survives a real shell', async t => {
  const nasty = ['plain', 'with space', "it's", '$(touch /tmp/pwned)', '`x`', 'a"b', 'semi;colon', '', '*', 'new\nline', '--flag=v'];
  t.same(words(nasty.map(shellQuote).join(' ')), nasty);
  t.equal(shellQuote('registry.example.com:8443'), 'registry.example.com:8443', 'safe words stay bare');
});

t.test('isLocalTarget', async t => {
  const names = { hostname: 'box', fqdn: 'box.example.com' };
  for (const h of ['localhost', '127.0.0.1', '::1', 'box', 'BOX.example.com', 'box.example.com.']) t.ok(isLocalTarget(h, names), h);
  for (const h of ['other', 'box.example.org.other', '10.0.0.5', 'mreg-vm.example.test']) t.notOk(isLocalTarget(h, names), h);
});

t.test('parseTarget', async t => {
  t.equal(parseTarget({}), undefined, 'no -H');
  t.equal(parseTarget({ targetUsername: 'root' }), undefined, '-u alone acts here');
  t.same(parseTarget({ targetHostname: 'h.example.com', targetUsername: 'root', sshKey: '/k' }), { hostname: 'h.example.com', user: 'root', key: '/k' });
  for (const flags of [
    { targetHostname: '-oProxyCommand=x' }, { targetHostname: 'a b' }, { targetHostname: true },
    { targetHostname: 'h', targetUsername: 'root;id' }, { targetHostname: 'h', targetUsername: '-l' },
    { targetHostname: 'h', sshKey: '-oX' },
  ]) t.throws(() => parseTarget(flags), UsageError, JSON.stringify(flags));
});

t.test('sshBaseArgs', async t => {
  t.same(sshBaseArgs({ hostname: 'h', user: 'root', key: '/k' }, '/tmp/d/cm', '/cfg'),
    ['-F', '/cfg', '-T', '-o', 'BatchMode=yes', '-o', 'ControlPath=/tmp/d/cm', '-i', '/k', '-l', 'root']);
  t.same(sshBaseArgs({ hostname: 'h' }, '/tmp/d/cm'), ['-T', '-o', 'BatchMode=yes', '-o', 'ControlPath=/tmp/d/cm']);
});

t.test('forwardFlags drops -H/-u/-k and rewrites what the remote side needs', async t => {
  const target = { hostname: 'reg.example.com', user: 'root', key: '/k' };
  const up = forwardFlags('up', {
    targetHostname: 'reg.example.com', targetUsername: 'root', sshKey: '/k', imageArchive: '/local/a.tar',
    quayImage: 'q.example.com/quay:v1', initPassword: "p a's", sslCheckSkip: true, json: true, color: false, verbose: true,
  }, target, { archiveFromStdin: true });
  // No --quayHostname added: as a flag it would re-name (and re-port) an install already on the target.
  t.same(up, ['--verbose', '--no-color', '--json', '--sslCheckSkip', "--initPassword=p a's",
    '--image-archive=-', '--quayImage=q.example.com/quay:v1']);
  t.same(remoteEnv('up', {}, target), { MREG_DEFAULT_HOSTNAME: 'reg.example.com' }, 'a new install there is named after the target, as a default');
  t.same(forwardFlags('up', { quayHostname: 'x.example.com:9443' }, target), ['--quayHostname=x.example.com:9443'], 'explicit --quayHostname is sent');
  t.same(remoteEnv('up', { quayHostname: 'x.example.com:9443' }, target), {}, 'and then no default');
  t.same(remoteEnv('upgrade', {}, target), {}, 'only up names a registry');
  t.same(forwardFlags('down', { purge: true }, target, { confirmed: true }), ['--purge', '--yes']);
  t.same(forwardFlags('status', { quayRoot: '/srv/q', dryRun: true }, target), ['--quayRoot=/srv/q'], 'flags status lacks are not sent');
  t.same(forwardFlags('upgrade', { timeout: '60', quayImage: 'q.example.com/quay:v2' }, target), ['--quayImage=q.example.com/quay:v2', '--timeout=60']);
});

t.test('remote command line and upload script', async t => {
  const name = remoteExecutableName('0.1.0', 'abcdef0123456789');
  t.equal(name, 'mreg-0.1.0-abcdef012345');
  const line = remoteCommandLine(name, 'up', ["--initPassword=p a's $(x)", '--image-archive=-']);
  t.equal(line, `"$HOME/.cache/mreg/${name}" up '--initPassword=p a'\\''s $(x)' --image-archive=-`);
  t.same(words(line.replace(/^"\$HOME[^"]*"/, 'EXE')), ['EXE', 'up', "--initPassword=p a's $(x)", '--image-archive=-']);
  t.equal(remoteCommandLine(name, 'up', ['--json'], { MREG_DEFAULT_HOSTNAME: "reg.example.com" }),
    `MREG_DEFAULT_HOSTNAME=reg.example.com "$HOME/.cache/mreg/${name}" up --json`, 'the default travels as an environment assignment');
  t.match(uploadScript(name, 'a'.repeat(64)), /cat > .*&& chmod 755 .*&& mv -f /);
});

t.test('the upload and the cached executable are checked by their sha256, in a real shell', async t => {
  const home = t.testdir();
  const exe = Buffer.from('#!/bin/sh\necho mreg\n');
  const sha = createHash('sha256').update(exe).digest('hex');
  const name = remoteExecutableName('0.1.0', sha);
  const sh = (script: string, input: Buffer | string = '') => spawnSync('sh', ['-c', script], { input, env: { ...process.env, HOME: home } });
  t.not(sh(haveExecutableScript(name, sha)).status, 0, 'nothing cached yet');
  // A stream cut to nothing (the local file could not be read) must not become an empty executable: sh
  // runs an empty file as an empty script, exit 0, and status -H or backup -H would report success.
  const empty = sh(uploadScript(name, sha), '');
  t.equal(empty.status, 1, 'an empty stream is refused');
  t.match(String(empty.stderr), /arrived damaged/);
  t.same(readdirSync(join(home, '.cache/mreg')), [], 'and leaves no file');
  t.equal(sh(uploadScript(name, sha), exe).status, 0, 'the executable itself is taken');
  t.equal(sh(haveExecutableScript(name, sha)).status, 0, 'and found next time');
  writeFileSync(join(home, '.cache/mreg', name), '');
  t.not(sh(haveExecutableScript(name, sha)).status, 0, 'a cached file that is not the executable any more is copied again');
});

t.test('up -H: the target\'s name is checked as a registry name only where it may become one', async t => {
  const { checkFlagsForTarget } = await import('../../src/up/flags.js');
  const { UsageError } = await import('../../src/errors.js');
  t.doesNotThrow(() => checkFlagsForTarget({}, 'reg.example.com'));
  // An IP address: an install there keeps its recorded name, a new one is refused there, with its own words.
  t.doesNotThrow(() => checkFlagsForTarget({}, '10.0.0.5'), 'no --quayHostname the user did not give');
  const err = (() => { try { checkFlagsForTarget({ quayStorage: 'rel/blobs' }, '10.0.0.5'); } catch (e) { return e; } })();
  t.type(err, UsageError);
  t.match((err as InstanceType<typeof UsageError>).problems, [/^--quayStorage rel\/blobs: /], 'other flags are still checked, alone');
  t.equal((err as InstanceType<typeof UsageError>).problems.length, 1);
  t.throws(() => checkFlagsForTarget({ quayHostname: '10.0.0.9' }, 'reg.example.com'), { message: /^--quayHostname 10\.0\.0\.9: an IP address is not allowed/ }, 'a given name is');
});

t.test('-H naming this host as another user (-u root from alice) goes over ssh as that user, not here as this one', async t => {
  const { remoteTarget } = await import('../../src/remote/run.js');
  const { userInfo } = await import('node:os');
  const other = userInfo().username === 'root' ? 'alice' : 'root';
  t.match(await remoteTarget({ targetHostname: 'localhost', targetUsername: other }), { hostname: 'localhost', user: other });
  t.equal(await remoteTarget({ targetHostname: 'localhost', targetUsername: userInfo().username }), undefined, 'as this user: here');
  t.equal(await remoteTarget({ targetHostname: 'localhost' }), undefined, 'no -u: here');
});

t.test('down -H --purge --dry-run asks nothing (it deletes nothing); a real --purge asks here', async t => {
  const captured: Array<{ confirm?: unknown }> = [];
  const { down } = await t.mockImport<typeof import('../../src/commands/down.js')>('../../src/commands/down.js', {
    '../../src/remote/on-target.js': { checkQuayRootForTarget: () => undefined, runOnTarget: async (_c: string, _ctx: unknown, hooks: { confirm?: unknown }) => { captured.push(hooks); return true; } },
  });
  const ctx = { out: {}, flags: { targetHostname: 'reg.example.com', purge: true, dryRun: true }, args: [], env: {}, stdin: {}, host: {} } as never;
  await down(ctx);
  await down({ ...(ctx as object), flags: { targetHostname: 'reg.example.com', purge: true } } as never);
  t.equal(captured[0]?.confirm, undefined, 'the dry run: no question');
  t.type(captured[1]?.confirm, 'function', 'the purge: asked here before ssh');
});

t.test('--verbose shows the command run over ssh without the first user\'s password', async t => {
  const dir = t.testdir({ 'mreg-exe': 'not really mreg\n' });
  // An ssh that answers every call with exit 0: the master, the cached-executable check, the run.
  writeFileSync(join(dir, 'ssh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path ?? ''}`;
  t.teardown(() => { process.env.PATH = path; });
  const { runRemote } = await import('../../src/remote/run.js');
  const { createOutput } = await import('../../src/ui/output.js');
  const { Writable } = await import('node:stream');
  const err: string[] = [];
  const out = createOutput({ verbose: true, color: false, env: {}, stdout: new Writable({ write(_c, _e, cb) { cb(); } }),
    stderr: new Writable({ write(c, _e, cb) { err.push(String(c)); cb(); } }) });
  await runRemote('up', { hostname: 'reg.example.com' }, { out, flags: { initPassword: 'Correct-Horse-42', verbose: true }, env: { MREG_BUNDLE: join(dir, 'mreg-exe') } });
  const said = err.join('');
  t.match(said, /\$ ssh … reg\.example\.com .* up .*--initPassword=<hidden>/, 'the command is shown');
  t.notMatch(said, /Correct-Horse-42/, 'its password is not');
});
