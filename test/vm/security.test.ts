// Security checks, rootful and rootless side by side: on a clean guest, a newline in a flag is refused
// before anything is written; on the shared base install (base.ts, made with --verbose while root
// sampled ps), no secret reaches unit files, generated units, argv, `mreg up --verbose` output or the
// journal; secret files have tight modes and the right owner; anonymous clients cannot create users or
// read the registry; the init user is a superuser.
import t from 'tap';
import { requireVm, describe } from './guest.js';
import { asRoot as root, SCOPES, caPath, upCmd, login, shellQuote, collectSecrets, journalSecrets, type Scope, type Creds } from './scopes.js';
import { fromClean } from './snapshot.js';
import { useBase, BASE_SCOPES, PS_LOG } from './base.js';

requireVm();
t.setTimeout(40 * 60_000);

const both = (fn: (s: Scope) => Promise<void>) => Promise.all(BASE_SCOPES.map(fn));
const secretsFile = (s: Scope) => (s.name === 'rootful' ? '/root/mreg-sec-secrets' : '/home/mreg/.mreg-sec-secrets');
const upOut = new Map<string, { stdout: string; stderr: string; creds?: Creds }>();

t.before(fromClean);

t.test('a newline in a flag value is refused with exit 2 and writes nothing', async t => {
  await Promise.all(SCOPES.map(async s => {
    for (const [flag, value] of [['--quayRoot', '/tmp/mreg-nl\nx'], ['--initPassword', 'abcdefgh12\nX=1'], ['--quayHostname', 'mreg-vm.example.test\nevil']] as const) {
      const args = flag === '--quayHostname' ? `mreg up --quayHostname ${bashAnsi(value)}` : `${upCmd(s)} ${flag} ${bashAnsi(value)}`;
      const r = await s.run(`${args}; echo "exit=$?"`);
      t.match(r.stdout, /exit=2$/m, `${s.name}: ${flag} with a newline exits 2`, { output: describe(r) });
      t.match(r.stderr, /newline|line break|control character/i, `${s.name}: ${flag}: the message says why`, { output: describe(r) });
    }
    const left = await s.run(`ls -d /tmp/mreg-nl* ${s.quayRoot} 2>/dev/null; ls ${s.quadletDir} 2>/dev/null | grep -E 'quay|storage'; podman secret ls --format '{{.Name}}' | grep mreg-; true`);
    t.equal(left.stdout.trim(), '', `${s.name}: nothing written (no quayRoot, units or secrets)`, { output: describe(left) });
  }));
});

t.test('the base install, made with --verbose while ps was sampled', async t => {
  const base = await useBase();
  await both(async s => {
    const b = base.get(s.name);
    const r = b?.up;
    if (!r) return void t.fail(`${s.name}: no base install`);
    t.equal(r.exitCode, 0, `${s.name}: mreg up --verbose exits 0`, { output: describe(r) });
    const cr = await s.run(`sed -n 's/^username *= *//p; s/^password *= *//p' ${s.quayRoot}/credentials`);
    const [username, password] = cr.stdout.trim().split('\n');
    upOut.set(s.name, { stdout: r.stdout, stderr: r.stderr, ...(username && password ? { creds: { username, password } } : {}) });
    const w = await collectSecrets(s, secretsFile(s));
    t.ok(Number(w.stdout.trim()) >= 6, `${s.name}: collected the secrets (${w.stdout.trim()} distinct values of 12+ characters)`, { output: describe(w) });
  });
  t.ok(Number((await root(`grep -c '^COMMAND' ${PS_LOG}`)).stdout.trim()) > 50, 'ps was sampled more than 50 times');
});

t.test('no secret in unit files, generated units, argv, verbose output or the journal', async t => {
  await both(async s => {
    const f = secretsFile(s);
    const genDir = s.name === 'rootful' ? '/run/systemd/generator' : '/run/user/1000/systemd/generator';
    const units = await s.run(`grep -rlF -f ${f} ${s.quadletDir} ${genDir} || echo clean`);
    t.equal(units.stdout.trim(), 'clean', `${s.name}: no secret in ${s.quadletDir} or ${genDir}`, { output: describe(units) });
    const ps = await root(`grep -cF -f ${f} ${PS_LOG} || true`);
    t.equal(ps.stdout.trim(), '0', `${s.name}: no secret in any sampled ps -eo args line`);
    // Root reads every journal file (system and users'); the user's own view goes through --user.
    // Each read must hold quay-app's lines first: an empty read (no journal files, no access) finds nothing.
    const sys = await journalSecrets(s, f, 'root');
    t.ok(sys.unitLines > 0, `${s.name}: root's journal holds quay-app's lines (${sys.unitLines})`, { output: describe(sys.r) });
    t.equal(sys.hits, 0, `${s.name}: no secret in the journal (journalctl -o cat as root)`, { output: describe(sys.r) });
    const own = await journalSecrets(s, f, 'own');
    t.ok(own.unitLines > 0, `${s.name}: ${s.journalctl} holds quay-app's lines (${own.unitLines})`, { output: describe(own.r) });
    t.equal(own.hits, 0, `${s.name}: no secret in ${s.journalctl} -o cat`, { output: describe(own.r) });
    const o = upOut.get(s.name);
    const values = (await s.run(`cat ${f}`)).stdout.trim().split('\n').filter(Boolean);
    const init = o?.creds?.password;
    t.notOk(values.some(v => o?.stderr.includes(v)), `${s.name}: no secret in mreg up --verbose progress output (stderr)`);
    // The report on stdout prints the init password by design (like mirror-registry); nothing else.
    t.notOk(values.some(v => v !== init && o?.stdout.includes(v)), `${s.name}: no secret but the init password in the report (stdout)`);
  });
});

t.test('file modes and owners', async t => {
  await both(async s => {
    const R = s.quayRoot;
    const st = await s.run(`stat -c '%a %u %g %n' ${R} ${R}/credentials ${R}/quay-rootCA/rootCA.key ${R}/quay-config/ssl.key ${R}/quay-config/config.yaml ${R}/mreg-install.json`);
    const rows = st.stdout.trim().split('\n').map(l => l.split(' '));
    t.equal(rows.length, 6, `${s.name}: all files exist`, { output: describe(st) });
    const gid = s.uid; // the container's group: root's gid 0 rootful; mreg's own group rootless (maps to gid 0 inside)
    for (const [mode, uid, g, path] of rows) {
      const allowed = path === R ? ['700'] : /credentials$|rootCA\.key$|mreg-install\.json$/.test(path!) ? ['600'] : ['600', '640'];
      t.ok(allowed.includes(mode!), `${s.name}: ${path} mode ${mode} is one of ${allowed.join('/')}`);
      t.equal(Number(uid), s.uid, `${s.name}: ${path} owned by uid ${s.uid}`);
      if (mode === '640') t.equal(Number(g), gid, `${s.name}: ${path} is group-readable only by gid ${gid}`);
    }
  });
});

t.test('anonymous clients cannot create users or read; the init user is a superuser', async t => {
  await both(async s => {
    const curl = (method: string, path: string, body?: string) =>
      s.run(`curl -s -o /dev/null -w '%{http_code}' --cacert ${caPath(s)} -X ${method} ${body ? `-H 'Content-Type: application/json' -d ${shellQuote(body)}` : ''} https://${s.host}${path}`);
    const init = await curl('POST', '/api/v1/user/initialize', JSON.stringify({ username: 'mallory', password: 'mallory-pass-123', email: 'm@x.test', access_token: true }));
    t.equal(init.stdout, '400', `${s.name}: user/initialize without auth is refused once the init user exists`);
    const create = await curl('POST', '/api/v1/user/', JSON.stringify({ username: 'mallory', password: 'mallory-pass-123', email: 'm@x.test' }));
    t.notOk(/^2/.test(create.stdout), `${s.name}: POST /api/v1/user/ without auth does not create a user (HTTP ${create.stdout})`);
    t.equal((await curl('GET', '/v2/')).stdout, '401', `${s.name}: /v2/ without auth is 401`);
    t.equal((await curl('GET', '/v2/init/tiny/tags/list')).stdout, '401', `${s.name}: anonymous reads are 401`);
    const mallory = await s.run(`podman login -u mallory --password-stdin ${s.host}`, { input: 'mallory-pass-123' });
    t.not(mallory.exitCode, 0, `${s.name}: the would-be anonymous user cannot log in`);
    const cfg = (await s.run(`grep -E '^(FEATURE_USER_CREATION|FEATURE_ANONYMOUS_ACCESS):|^SUPER_USERS:|^  - ' ${s.quayRoot}/quay-config/config.yaml`)).stdout;
    t.match(cfg, /^FEATURE_USER_CREATION: false$/m, `${s.name}: config.yaml turns user creation off`);
    t.match(cfg, /^FEATURE_ANONYMOUS_ACCESS: false$/m, `${s.name}: config.yaml turns anonymous access off`);
    const c = upOut.get(s.name)?.creds;
    if (!c) return void t.fail(`${s.name}: no credentials`);
    t.match(cfg, new RegExp(`^SUPER_USERS:\\s*(\\n  - "?${c.username}"?$|\\[\\s*"?${c.username}"?\\s*\\])`, 'm'), `${s.name}: the init user ${c.username} is in SUPER_USERS`, { cfg });
    const l = await login(s, c);
    t.equal(l.exitCode, 0, `${s.name}: the init user logs in`, { output: describe(l) });
  });
});

/** A bash $'…' literal: the newline reaches mreg as a real newline, not as a shell line break. */
function bashAnsi(v: string): string {
  return `$'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}
