import t from 'tap';
import { UsageError } from '../../src/errors.js';
import { parseAccessFlags, parseUpOptions, type OptionEnv, type RawUpFlags } from '../../src/install-spec/options.js';
import { recordSpec } from '../../src/install-spec/record.js';
import { DEFAULT_IMAGES } from '../../src/install-spec/defaults.js';

const ROOTFUL: OptionEnv = { scope: 'rootful', fqdn: 'registry.example.com', home: '/root' };
const ROOTLESS: OptionEnv = { scope: 'rootless', fqdn: 'mirror.lab.example', home: '/home/alice' };

const HOST_FIX = 'pass --quayHostname with a DNS name that resolves to this host, e.g. --quayHostname registry.example.com:8443';
const PATH_CHARS = "which mreg does not allow in paths that reach unit files; use only letters, digits and . _ - + @ /";
const BOTH_TLS = 'pass both --sslCert and --sslKey, or neither to generate a certificate';
const VOLUME_FIX = (ex: string) => `use letters, digits and _ . - (starting with a letter or digit), e.g. ${ex}, or an absolute path`;
const USER_FIX = 'use 2-255 lowercase letters and digits, optionally joined by single . _ or -, e.g. --initUser init';
const IMAGE_PROBLEM = 'not a fully qualified image reference (registry/repository[:tag][@sha256:digest], lowercase repository)';

function problemsOf(raw: RawUpFlags, env: OptionEnv = ROOTFUL): readonly string[] {
  try {
    parseUpOptions(raw, env);
  } catch (err) {
    if (err instanceof UsageError) return err.problems;
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(raw)}`);
}

// Each row: flags → the exact problem lines (one per bad flag), exit 2.
const BAD: [string, RawUpFlags, string[], OptionEnv?][] = [
  ['IPv4 hostname', { quayHostname: '10.0.0.5' }, [`--quayHostname 10.0.0.5: an IP address is not allowed; ${HOST_FIX}`]],
  ['IPv4 with port', { quayHostname: '10.0.0.5:8443' }, [`--quayHostname 10.0.0.5:8443: an IP address is not allowed; ${HOST_FIX}`]],
  ['bracketed IPv6', { quayHostname: '[::1]:8443' }, [`--quayHostname [::1]:8443: an IP address is not allowed; ${HOST_FIX}`]],
  ['bare IPv6', { quayHostname: 'fe80::1' }, [`--quayHostname fe80::1: an IP address is not allowed; ${HOST_FIX}`]],
  ['port 0', { quayHostname: 'reg.example.com:0' },
    ['--quayHostname reg.example.com:0: port 0 is out of range; use a port from 1 to 65535, e.g. --quayHostname reg.example.com:8443']],
  ['port too big', { quayHostname: 'reg.example.com:65536' },
    ['--quayHostname reg.example.com:65536: port 65536 is out of range; use a port from 1 to 65535, e.g. --quayHostname reg.example.com:8443']],
  ['port not a number', { quayHostname: 'reg.example.com:https' },
    ['--quayHostname reg.example.com:https: https is not a port number; use a port from 1 to 65535, e.g. --quayHostname reg.example.com:8443']],
  ['empty port', { quayHostname: 'reg.example.com:' },
    ['--quayHostname reg.example.com:: "" is not a port number; use a port from 1 to 65535, e.g. --quayHostname reg.example.com:8443']],
  ['port without host', { quayHostname: ':8443' }, [`--quayHostname :8443: no host name before the port; ${HOST_FIX}`]],
  // Quay's own health check goes to localhost:PORT inside its container (health/services.py), where it listens on 8443.
  ['localhost on another port', { quayHostname: 'localhost:9443' },
    ['--quayHostname localhost:9443: Quay checks its health at localhost:9443 inside its container, where it listens on 8443, so it would never be healthy; use this host\'s DNS name, e.g. --quayHostname registry.example.com:9443, or localhost with port 8443']],
  ['underscore label', { quayHostname: 'reg_1.example.com' },
    ['--quayHostname reg_1.example.com: reg_1 is not a valid DNS label; use letters, digits and inner hyphens, 1-63 characters per label']],
  ['leading hyphen', { quayHostname: '-reg.example.com' },
    ['--quayHostname -reg.example.com: -reg is not a valid DNS label; use letters, digits and inner hyphens, 1-63 characters per label']],
  ['empty label', { quayHostname: 'reg..example.com' },
    ['--quayHostname reg..example.com: "" is not a valid DNS label; use letters, digits and inner hyphens, 1-63 characters per label']],
  ['trailing dot', { quayHostname: 'reg.example.com.' },
    ['--quayHostname reg.example.com.: a trailing dot is not allowed; write it without the dot: --quayHostname reg.example.com']],
  ['two colons', { quayHostname: 'reg.example.com:80:80' },
    ['--quayHostname reg.example.com:80:80: more than one ":"; write host:port, e.g. --quayHostname registry.example.com:8443']],
  ['space in hostname', { quayHostname: 'reg example.com' },
    ['--quayHostname "reg example.com": "reg example" is not a valid DNS label; use letters, digits and inner hyphens, 1-63 characters per label']],
  ['empty hostname', { quayHostname: '' }, ['--quayHostname "": empty value; give a value or leave --quayHostname out for the default']],
  ['default hostname is an IP', {}, [`--quayHostname 10.1.2.3 (from hostname -f): an IP address is not allowed; ${HOST_FIX}`],
    { ...ROOTFUL, fqdn: '10.1.2.3' }],
  ['newline in hostname', { quayHostname: 'reg.example.com\n[Service]' },
    ['--quayHostname "reg.example.com\\n[Service]": contains a control character (newline, tab, …); remove it']],
  ['relative quayRoot', { quayRoot: 'quay-install' },
    ['--quayRoot quay-install: relative path; give an absolute path, e.g. --quayRoot /etc/quay-install']],
  ['quayRoot is /', { quayRoot: '/' },
    ['--quayRoot /: the root directory cannot be used; give a dedicated directory, e.g. /etc/quay-install']],
  ['space in quayRoot', { quayRoot: '/srv/my quay' }, [`--quayRoot "/srv/my quay": contains " ", ${PATH_CHARS}`]],
  ['colon in quayRoot', { quayRoot: '/srv/quay:z' }, [`--quayRoot /srv/quay:z: contains ":", ${PATH_CHARS}`]],
  ['specifier in quayRoot', { quayRoot: '/srv/%h' }, [`--quayRoot /srv/%h: contains "%", ${PATH_CHARS}`]],
  ['odd $HOME in the default quayRoot', {}, [`--quayRoot "/home/my user/quay-install": contains " ", ${PATH_CHARS}`],
    { ...ROOTLESS, home: '/home/my user' }],
  ['relative quayStorage ./', { quayStorage: './blobs' },
    ['--quayStorage ./blobs: relative path; give an absolute path (bind mount), e.g. /var/lib/quay-storage, or a podman volume name']],
  ['relative quayStorage a/b', { quayStorage: 'data/blobs' },
    ['--quayStorage data/blobs: relative path; give an absolute path (bind mount), e.g. /var/lib/quay-storage, or a podman volume name']],
  ['bad volume name', { quayStorage: 'bad name' },
    [`--quayStorage "bad name": not a valid podman volume name; ${VOLUME_FIX('quay-storage')}`]],
  ['volume name starting with -', { pgStorage: '-pg' }, [`--pgStorage -pg: not a valid podman volume name; ${VOLUME_FIX('pg-storage')}`]],
  ['comma in storage path', { pgStorage: '/srv/pg,ro' }, [`--pgStorage /srv/pg,ro: contains ",", ${PATH_CHARS}`]],
  ['same volume twice', { pgStorage: 'quay-storage' },
    ['--pgStorage quay-storage: same storage as --quayStorage; give Quay and Postgres separate volumes or directories']],
  ['nested storage paths', { quayStorage: '/srv/data', pgStorage: '/srv/data/pg' },
    ['--pgStorage /srv/data/pg: same storage as --quayStorage; give Quay and Postgres separate volumes or directories']],
  ['cert without key', { sslCert: '/etc/pki/quay.crt' }, [`--sslCert /etc/pki/quay.crt: given without --sslKey; ${BOTH_TLS}`]],
  ['key without cert', { sslKey: '/etc/pki/quay.key' }, [`--sslKey /etc/pki/quay.key: given without --sslCert; ${BOTH_TLS}`]],
  ['relative cert', { sslCert: 'quay.crt', sslKey: '/etc/pki/quay.key' },
    ['--sslCert quay.crt: relative path; give an absolute path, e.g. --sslCert /etc/pki/quay/ssl.cert']],
  ['uppercase init user', { initUser: 'Admin' }, [`--initUser Admin: not a valid Quay user name; ${USER_FIX}`]],
  ['one-letter init user', { initUser: 'a' }, [`--initUser a: not a valid Quay user name; ${USER_FIX}`]],
  ['double separator in init user', { initUser: 'bad..user' }, [`--initUser bad..user: not a valid Quay user name; ${USER_FIX}`]],
  ['short password (value hidden)', { initPassword: 'short' },
    ['--initPassword <hidden>: shorter than 8 characters; choose a longer password, or leave --initPassword out to have one generated']],
  ['password with whitespace', { initPassword: 'has space inside' },
    ['--initPassword <hidden>: contains whitespace; Quay does not allow whitespace in passwords; remove it']],
  ['relative image archive', { imageArchive: 'image-archive.tar' },
    ['--image-archive image-archive.tar: relative path; give an absolute path, e.g. --image-archive /root/image-archive.tar']],
  ['short image name', { quayImage: 'quay' }, [`--quayImage quay: ${IMAGE_PROBLEM}; e.g. --quayImage ${DEFAULT_IMAGES.quay}`]],
  ['uppercase repository', { pgImage: 'registry.redhat.io/RHEL9/postgresql-15' },
    [`--pgImage registry.redhat.io/RHEL9/postgresql-15: ${IMAGE_PROBLEM}; e.g. --pgImage ${DEFAULT_IMAGES.postgres}`]],
  ['space in tag', { redisImage: 'registry.redhat.io/rhel9/redis-7:bad tag' },
    [`--redisImage "registry.redhat.io/rhel9/redis-7:bad tag": ${IMAGE_PROBLEM}; e.g. --redisImage ${DEFAULT_IMAGES.redis}`]],
  ['flag without value', { quayRoot: true as unknown as string }, ['--quayRoot: needs a value; write --quayRoot VALUE']],
  ['flag given twice', { quayRoot: ['/a', '/b'] as unknown as string }, ['--quayRoot: given more than once; pass --quayRoot once']],
  ['every problem at once, in flag order', { quayHostname: '1.2.3.4', quayRoot: 'rel', initUser: 'X' }, [
    `--quayHostname 1.2.3.4: an IP address is not allowed; ${HOST_FIX}`,
    '--quayRoot rel: relative path; give an absolute path, e.g. --quayRoot /etc/quay-install',
    `--initUser X: not a valid Quay user name; ${USER_FIX}`,
  ]],
];

t.test('--anonymousAccess/--userCreation: true or false, set for this run, never recorded', async t => {
  t.same(parseUpOptions({ anonymousAccess: 'true', userCreation: 'false' }, ROOTFUL).accessRules, { FEATURE_ANONYMOUS_ACCESS: true, FEATURE_USER_CREATION: false });
  t.equal(parseUpOptions({}, ROOTFUL).accessRules, undefined, 'left out: config.yaml decides');
  t.strictSame(problemsOf({ anonymousAccess: 'yes', userCreation: '1' }), [
    '--anonymousAccess yes: expected true or false; e.g. --anonymousAccess false; leave it out to keep what config.yaml says',
    '--userCreation 1: expected true or false; e.g. --userCreation false; leave it out to keep what config.yaml says',
  ]);
  t.same(parseAccessFlags({ userCreation: 'true' }, 'adopt'), { FEATURE_USER_CREATION: true });
  t.equal(parseAccessFlags({}, 'adopt'), undefined);
  t.throws(() => parseAccessFlags({ anonymousAccess: 'on' }, 'adopt'), { name: 'UsageError', problems: ['--anonymousAccess on: expected true or false; e.g. --anonymousAccess false; leave it out to keep what config.yaml says'] });
  t.notOk('accessRules' in recordSpec(parseUpOptions({ anonymousAccess: 'true' }, ROOTFUL)), 'not in the install record: config.yaml keeps it');
});

t.test('bad invocations: exact one-line messages, UsageError exit 2', async t => {
  t.ok(BAD.length >= 30, `${BAD.length} rows`);
  for (const [name, raw, expected, env] of BAD) {
    t.strictSame(problemsOf(raw, env), expected, name);
  }
  const err = t.throws(() => parseUpOptions({ quayRoot: 'rel' }, ROOTFUL)) as unknown as UsageError;
  t.equal(err.exitCode, 2);
  t.equal(err.message, err.problems.join('\n'));
  for (const [, raw, , env] of BAD) {
    for (const line of problemsOf(raw, env)) t.notMatch(line, /[\n\r]/, 'one line each');
  }
});

t.test('a control character in any flag is refused, naming the flag', async t => {
  const flags: [keyof RawUpFlags, string][] = [
    ['quayHostname', '--quayHostname'], ['quayRoot', '--quayRoot'], ['quayStorage', '--quayStorage'],
    ['pgStorage', '--pgStorage'], ['sslCert', '--sslCert'], ['sslKey', '--sslKey'], ['initUser', '--initUser'],
    ['initPassword', '--initPassword'], ['imageArchive', '--image-archive'], ['quayImage', '--quayImage'],
    ['pgImage', '--pgImage'], ['redisImage', '--redisImage'],
  ];
  const good: RawUpFlags = {
    quayHostname: 'reg.example.com', quayRoot: '/srv/quay', quayStorage: 'qs', pgStorage: 'pg',
    sslCert: '/c.pem', sslKey: '/k.pem', initUser: 'init', initPassword: 'longenough1',
    imageArchive: '/a.tar', quayImage: 'localhost/q:1', pgImage: 'localhost/p:1', redisImage: 'localhost/r:1',
  };
  for (const injected of ['\n[Service]\nExecStartPre=/bin/sh -c evil', '\r\nX=1', '\tx', '\u0000', '\u007f']) {
    for (const [key, flag] of flags) {
      const raw = { ...good, [key]: `${good[key] as string}${injected}` };
      const lines = problemsOf(raw);
      t.equal(lines.length, 1, `${flag} ${JSON.stringify(injected)}: one problem`);
      t.ok(lines[0]!.startsWith(`${flag} `) && lines[0]!.includes('contains a control character'), lines[0]!);
    }
  }
});

t.test('defaults', async t => {
  t.strictSame(parseUpOptions({}, ROOTFUL), {
    scope: 'rootful', hostname: 'registry.example.com', port: 8443, quayRoot: '/etc/quay-install',
    quayStorage: { kind: 'volume', name: 'quay-storage' }, pgStorage: { kind: 'volume', name: 'pg-storage' },
    tls: { kind: 'generate' }, initUser: 'init', images: { ...DEFAULT_IMAGES },
  });
  const rootless = parseUpOptions({}, ROOTLESS);
  t.equal(rootless.quayRoot, '/home/alice/quay-install');
  t.equal(rootless.hostname, 'mirror.lab.example');
  t.equal(rootless.initPassword, undefined, 'no password: the caller generates one');
  t.notOk('imageArchive' in rootless);
});

t.test('good values', async t => {
  const hp = (v: string) => { const s = parseUpOptions({ quayHostname: v }, ROOTFUL); return [s.hostname, s.port]; };
  t.strictSame(hp('reg.example.com'), ['reg.example.com', 8443], 'no port: 8443');
  t.strictSame(hp('reg.example.com:443'), ['reg.example.com', 443], 'host:port sets the published port');
  t.strictSame(hp('localhost:8443'), ['localhost', 8443]);
  t.strictSame(hp('mreg-lab:1'), ['mreg-lab', 1]);
  t.strictSame(hp('a-b.c1.example'), ['a-b.c1.example', 8443]);
  t.strictSame(hp('Registry.Example.COM:9443'), ['registry.example.com', 9443], 'in lower case, as clients write it (certs.d/<name>:<port>)');

  const s = parseUpOptions({
    quayRoot: '~/mreg/', quayStorage: '/srv//x/../blobs/', pgStorage: 'my_pg.1', sslCert: '~/c.pem', sslKey: '/k.pem',
    sslCheckSkip: true, initUser: 'quay.admin_1', initPassword: 'correct-horse-battery', imageArchive: '~/image-archive.tar',
    quayImage: 'localhost/quay:test', pgImage: 'mirror.example:5000/rhel9/postgresql-15@sha256:' + 'a'.repeat(64),
    redisImage: 'registry.redhat.io/rhel9/redis-7:1-123.1700000000',
  }, ROOTLESS);
  t.strictSame(s, {
    scope: 'rootless', hostname: 'mirror.lab.example', port: 8443, quayRoot: '/home/alice/mreg',
    quayStorage: { kind: 'path', path: '/srv/blobs' }, pgStorage: { kind: 'volume', name: 'my_pg.1' },
    tls: { kind: 'provided', certPath: '/home/alice/c.pem', keyPath: '/k.pem', skipCheck: true },
    initUser: 'quay.admin_1', initPassword: 'correct-horse-battery', imageArchive: '/home/alice/image-archive.tar',
    images: {
      quay: 'localhost/quay:test', postgres: 'mirror.example:5000/rhel9/postgresql-15@sha256:' + 'a'.repeat(64),
      redis: 'registry.redhat.io/rhel9/redis-7:1-123.1700000000',
    },
  });
  t.strictSame(parseUpOptions({ sslCheckSkip: true }, ROOTFUL).tls, { kind: 'generate' }, '--sslCheckSkip alone is ignored, as in mirror-registry');
  t.equal(parseUpOptions({ initPassword: 12345678 as unknown as string }, ROOTFUL).initPassword, '12345678', 'a number from cac is read as text');
  t.equal(parseUpOptions({ quayStorage: '/srv/a', pgStorage: '/srv/ab' }, ROOTFUL).pgStorage.kind, 'path', 'prefix is not nesting');
});
