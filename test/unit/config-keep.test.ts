// config.yaml keeps the registry's settings and every key mreg does not set through a render (issue 15 item 4):
// mreg's own file renders to itself, mirror-registry's 1.3.10 file keeps its access rules and its 19 other keys.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../../src/errors.js';
import { accessRuleChanges, configChanges, describeConfigChange, keptFromConfig, ownedKeyResets, parseConfig } from '../../src/plan/config-keep.js';
import { recordedConfigRender, renderQuayConfig, TEMPLATE_KEYS } from '../../src/plan/quay-config.js';
import { recordSpec, type InstallRecord } from '../../src/install-spec/record.js';
import { listScenarios, loadScenario } from '../support/golden.js';

const FILE = '/etc/quay-install/quay-config/config.yaml';
const MR_1310 = readFileSync(join(import.meta.dirname, '../fixtures/mirror-registry/1.3.10-rootful/files/root/quay-install/quay-config/config.yaml'), 'utf8');
const scenario = loadScenario(listScenarios()[0]!);
const { spec, secrets } = scenario;
const keep = (text: string | undefined) => keptFromConfig(text, FILE, TEMPLATE_KEYS);

t.test('mreg\'s own config.yaml renders to itself, byte for byte (no restart after upgrading mreg)', async t => {
  for (const name of listScenarios()) {
    const s = loadScenario(name);
    const mine = renderQuayConfig(s.spec, s.secrets);
    t.equal(renderQuayConfig(s.spec, s.secrets, keep(mine)), mine, name);
  }
  t.same(keep(renderQuayConfig(spec, secrets)).foreign, [], 'nothing foreign in it');
});

t.test('mirror-registry 1.3.10: its access rules and its 19 other keys are kept, the wiring is mreg\'s', async t => {
  const kept = keep(MR_1310);
  t.equal(kept.foreign.length, 19, 'the 19 keys mreg does not set');
  const out = parseConfig(renderQuayConfig(spec, secrets, kept), FILE);
  t.equal(out.FEATURE_ANONYMOUS_ACCESS, true, 'anonymous pulls stay on');
  t.equal(out.FEATURE_USER_CREATION, true, 'self-registration stays on');
  t.same(out.SUPER_USERS, ['admin'], 'the same superusers');
  t.equal(out.REGISTRY_TITLE, 'Red Hat Quay');
  t.same(out.GITHUB_LOGIN_CONFIG, {});
  t.equal(out.REPO_MIRROR_SERVER_HOSTNAME, null);
  t.equal(out.TEAM_RESYNC_STALE_TIME, '60m');
  t.equal(out.SERVER_HOSTNAME, `${spec.hostname}:${spec.port}`);
  t.match(String(out.DB_URI), /@127\.0\.0\.1:5432\//, 'the database is the pod\'s');
  t.equal(out.FEATURE_REPO_MIRROR, false, 'no mirror worker runs: mreg\'s value');
  const again = renderQuayConfig(spec, secrets, keep(renderQuayConfig(spec, secrets, kept)));
  t.equal(again, renderQuayConfig(spec, secrets, kept), 'a second render changes nothing');
});

t.test('a hand edit survives: LDAP, nested maps and lists, keys that need quotes, YAML 1.1 booleans', async t => {
  const mine = renderQuayConfig(spec, secrets);
  const edited = `${mine.replace('AUTHENTICATION_TYPE: "Database"', 'AUTHENTICATION_TYPE: LDAP')}
LDAP_URI: ldaps://ldap.example.com:636
LDAP_BASE_DN: [dc=example, dc=com]
LDAP_ADMIN_PASSWD: 'a: b # c'
LDAP_USER_FILTER: "(memberof=cn=quay,ou=groups)"
FEATURE_TEAM_SYNCING: yes
"odd key: x": 1
NESTED:
  a:
    - {x: 1}
    - two
`;
  const out = renderQuayConfig(spec, secrets, keep(edited));
  const doc = parseConfig(out, FILE);
  t.equal(doc.AUTHENTICATION_TYPE, 'LDAP', 'LDAP stays: nobody is locked out');
  t.same(doc.LDAP_BASE_DN, ['dc=example', 'dc=com']);
  t.equal(doc.LDAP_ADMIN_PASSWD, 'a: b # c');
  t.equal(doc.FEATURE_TEAM_SYNCING, true, 'yes is true, as PyYAML reads it');
  t.equal(doc['odd key: x'], 1);
  t.same(doc.NESTED, { a: [{ x: 1 }, 'two'] });
  t.equal(renderQuayConfig(spec, secrets, keep(out)), out, 'the next render is the same file');
});

t.test('a config.yaml that is not YAML, or not a mapping, is refused with the file and line', async t => {
  const refusal = (text: string) => { try { keep(text); return undefined; } catch (e) { return e; } };
  const bad = refusal('A: 1\nB: [unclosed\n');
  t.ok(bad instanceof HostError, 'a HostError (exit 1, one line and a hint)');
  t.match((bad as Error).message, /config\.yaml is not valid YAML \(line \d+\)/);
  t.match((refusal('- a\n- b\n') as Error).message, /not a YAML mapping/);
  t.same(keep(''), { settings: {}, foreign: [] }, 'an empty file keeps nothing');
  t.same(keep(undefined), { settings: {}, foreign: [] });
});

t.test('configChanges: key by key, secrets never shown, owned keys say why', async t => {
  // adopt keeps Quay's two keys (adopt/spec.ts adoptedSecrets)
  const old = parseConfig(MR_1310, FILE);
  const adopted = { ...secrets, secretKey: String(old.SECRET_KEY), databaseSecretKey: String(old.DATABASE_SECRET_KEY) };
  const changes = configChanges(MR_1310, renderQuayConfig(spec, adopted, keep(MR_1310)), FILE);
  const byKey = new Map(changes.map(c => [c.key, c]));
  t.same(byKey.get('FEATURE_REPO_MIRROR'), { key: 'FEATURE_REPO_MIRROR', before: 'true', after: 'false', why: 'the registry runs no repository mirror worker' });
  t.equal(byKey.get('DB_URI')?.before, '<secret>');
  t.equal(describeConfigChange(byKey.get('DB_URI')!), 'config.yaml DB_URI: changed (mreg\'s PostgreSQL role and password)');
  t.notOk(byKey.has('FEATURE_ANONYMOUS_ACCESS'), 'access rules unchanged');
  t.notOk(byKey.has('SECRET_KEY'), 'Quay\'s keys unchanged');
  const text = changes.map(describeConfigChange).join('\n');
  t.notMatch(text, /password@|"password"/, 'no secret value in the lines');
  t.notOk(changes.some(c => c.key === 'GITHUB_LOGIN_CONFIG'), 'kept keys are no change');
});

t.test('an access-rule flag wins over the kept value, and only it changes', async t => {
  const kept = keep(MR_1310); // mirror-registry: anonymous access and self-registration on
  const off = renderQuayConfig({ ...spec, accessRules: { FEATURE_ANONYMOUS_ACCESS: false } }, secrets, kept);
  t.match(off, /^FEATURE_ANONYMOUS_ACCESS: false$/m, 'the flag');
  t.match(off, /^FEATURE_USER_CREATION: true$/m, 'the other rule kept as found');
  t.same(configChanges(renderQuayConfig(spec, secrets, kept), off, FILE).map(c => c.key), ['FEATURE_ANONYMOUS_ACCESS'], 'the one key that differs from a run without the flag');
  t.same(accessRuleChanges(kept, { FEATURE_ANONYMOUS_ACCESS: false, FEATURE_USER_CREATION: true }),
    ['FEATURE_ANONYMOUS_ACCESS: true → false (config.yaml; quay-app restarts)'], 'a flag that repeats the file\'s value changes nothing');
  t.same(accessRuleChanges(keep('SERVER_HOSTNAME: x\n'), { FEATURE_USER_CREATION: false }), ['FEATURE_USER_CREATION: unset → false (config.yaml; quay-app restarts)']);
  t.same(accessRuleChanges(kept, undefined), []);
});

t.test('a re-run says which hand edits of mreg\'s own keys it sets back, and only those', async t => {
  const mine = renderQuayConfig(spec, secrets);
  t.same(ownedKeyResets(mine, renderQuayConfig(spec, secrets, keep(mine)), FILE), [], 'nothing edited: nothing said');
  t.same(ownedKeyResets(undefined, mine, FILE), [], 'a first install has nothing to set back');
  const edited = mine
    .replace(/^SERVER_HOSTNAME: .*$/m, 'SERVER_HOSTNAME: quay.lab.example.com')
    .replace(/^DB_URI: .*$/m, 'DB_URI: postgresql://quay:hunter2@db.example.com/quay')
    .replace(/^FEATURE_ANONYMOUS_ACCESS: .*$/m, 'FEATURE_ANONYMOUS_ACCESS: true')
    + 'LDAP_URI: ldap://ldap.example.com\n';
  const rendered = renderQuayConfig(spec, secrets, keep(edited));
  const lines = ownedKeyResets(edited, rendered, FILE);
  const hostLine = `config.yaml SERVER_HOSTNAME: "quay.lab.example.com" → "${spec.hostname}:${spec.port}"`;
  t.same(lines, [
    'config.yaml DB_URI: changed (mreg\'s PostgreSQL role and password)',
    hostLine,
  ], 'the owned keys, in the file\'s order; the setting and the foreign key are kept');
  t.notMatch(lines.join('\n'), /hunter2/, 'no secret value shown');
  t.same(ownedKeyResets(edited, rendered, FILE, { secretsRendered: false }), [hostLine], 'a dry run\'s stand-in secrets: secret keys left out');
});

t.test('a key a flag changes this run is that change, not a hand edit set back; a hand edit beside it still is', async t => {
  const mine = renderQuayConfig(spec, secrets);
  const record = { spec: recordSpec(spec) } as InstallRecord;
  const moved = { ...spec, hostname: 'mirror.example.org', port: 9443 };
  const edited = mine.replace(/^FEATURE_USER_LOG_ACCESS: .*$/m, 'FEATURE_USER_LOG_ACCESS: false');
  const rendered = renderQuayConfig(moved, secrets, keep(edited));
  const recordedRender = recordedConfigRender(moved, record, secrets, keep(edited));
  t.same(configChanges(edited, rendered, FILE).map(c => c.key).filter(k => k === 'SERVER_HOSTNAME'), ['SERVER_HOSTNAME'], 'the flag does change SERVER_HOSTNAME on disk');
  const lines = ownedKeyResets(edited, rendered, FILE, { recordedRender });
  t.notMatch(lines.join('\n'), /SERVER_HOSTNAME/, '--quayHostname\'s change is not called a set-back');
  t.same(ownedKeyResets(mine, rendered, FILE, { recordedRender }).filter(l => /SERVER_HOSTNAME/.test(l)), [], 'nor without any hand edit');
  const handEdited = mine.replace(/^SERVER_HOSTNAME: .*$/m, 'SERVER_HOSTNAME: by-hand.example.com');
  t.match(ownedKeyResets(handEdited, renderQuayConfig(spec, secrets, keep(handEdited)), FILE, { recordedRender: recordedConfigRender(spec, record, secrets, keep(handEdited)) }).join('\n'),
    /SERVER_HOSTNAME: "by-hand\.example\.com" →/, 'with no flag change, a hand edit of it is set back and said');
  t.equal(recordedConfigRender(spec, undefined, secrets, keep(mine)), undefined, 'a new install has no recorded render');
});

// Issue 19: a re-run of up read config.yaml five times (what is kept, then the owned keys against the
// render and the recorded render), about 50 ms a parse under the test VM's emulation.
t.test('the same text is parsed once: a render equal to the file changes nothing, without a parse', async t => {
  const mine = renderQuayConfig(spec, secrets);
  t.equal(parseConfig(mine, FILE), parseConfig(mine, FILE), 'the same document for the same text');
  t.same(configChanges(mine, mine, FILE), [], 'equal texts: no change');
  t.same(configChanges('not: [yaml', 'not: [yaml', FILE), [], 'not parsed at all when equal');
  t.throws(() => parseConfig('not: [yaml', FILE), HostError, 'a text that is not YAML still throws when parsed');
  t.throws(() => parseConfig('not: [yaml', FILE), HostError, 'and again: a failure is not remembered');
});
