// Claims in README.md and the man pages, checked against what the code does (issue 12: the README said
// 397-day certificates and secrets only as podman secrets, while the code issues 365 days and Quay's
// config.yaml holds four secrets in plain text).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { plan } from '../../src/plan/plan.js';
import { SECRET_NAMES } from '../../src/install-spec/layout.js';
import type { InstallSecrets } from '../../src/install-spec/spec.js';
import { SERVER_DEFAULT_DAYS, SERVER_MAX_DAYS } from '../../src/tls/index.js';
import { listScenarios, loadScenario } from '../support/golden.js';

const ROOT = new URL('../../', import.meta.url);
const README = readFileSync(new URL('README.md', ROOT), 'utf8');
const MAN = Object.fromEntries(readdirSync(new URL('man/', ROOT)).filter(f => f.endsWith('.1'))
  .map(f => [f, readFileSync(new URL(`man/${f}`, ROOT), 'utf8')]));
/** roff → words: escapes and macro names dropped, so "mreg\-pg\-password" reads as in the README. */
const text = (roff: string) => roff.replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '').replace(/^\.[A-Z]+ ?/gm, '').replace(/"/g, '');
/** The README paragraph or list item that contains `needle`, on one line. */
const paragraph = (needle: string) => README.split(/\n(?=- |\n)/).find(p => p.includes(needle))?.replace(/\s+/g, ' ') ?? '';

t.test('the server certificate lifetime is the one the code issues', async t => {
  t.match(README, `(ECDSA P-256, ${SERVER_DEFAULT_DAYS} days)`, `README says ${SERVER_DEFAULT_DAYS} days`);
  t.match(text(MAN['mreg-cert.1']!), `${SERVER_DEFAULT_DAYS} days`, `mreg-cert(1) says ${SERVER_DEFAULT_DAYS} days`);
  // The cap (SERVER_MAX_DAYS) is no lifetime mreg issues; it once stood in the README as one.
  for (const [name, doc] of [['README.md', README], ...Object.entries(MAN)] as const) {
    t.notMatch(doc, new RegExp(`\\b${SERVER_MAX_DAYS}\\b`), `${name} does not give ${SERVER_MAX_DAYS} days`);
  }
});

for (const name of listScenarios().filter(n => n === 'rootful' || n === 'rootless')) {
  t.test(`${name}: README and mreg-up(1) say where each secret is, as the plan puts it`, async t => {
    const s = loadScenario(name);
    const p = plan(s.spec, s.facts, s.secrets);
    const config = p.files.find(f => f.path.endsWith('/quay-config/config.yaml'));
    t.ok(config, 'the plan writes config.yaml');
    if (!config) return;
    const inConfig = (Object.keys(s.secrets) as (keyof InstallSecrets)[]).filter(k => config.content.includes(s.secrets[k])).sort();
    t.same(inConfig, ['databaseSecretKey', 'pgPassword', 'redisPassword', 'secretKey'], 'config.yaml holds these four secrets in plain text');
    t.equal(config.mode, 0o640, 'config.yaml is written with mode 0640');

    const units = p.files.filter(f => f.kind === 'quadlet');
    const mounting = units.filter(f => /^Volume=.*\/quay-config:/m.test(f.content)).map(f => f.path.split('/').pop());
    t.same(mounting, ['quay-app.container'], 'only quay-app mounts quay-config/');
    const withSecrets = units.filter(f => /^Secret=/m.test(f.content)).map(f => f.path.split('/').pop()).sort();
    t.same(withSecrets, ['quay-postgres.container', 'quay-redis.container'], 'only PostgreSQL and Redis get podman secrets');

    const claim = paragraph('quay-config/config.yaml');
    t.notMatch(README, /reach the containers only as podman secrets/, 'README no longer claims that every secret is a podman secret');
    for (const words of ['database and Redis passwords', '`SECRET_KEY`', '`DATABASE_SECRET_KEY`', 'plain text', 'mode 0640', 'bind-mounted into `quay-app` alone', 'PostgreSQL and Redis receive theirs only that way']) {
      t.ok(claim.includes(words), `README: "${words}"`, { claim });
    }
    // apply/secrets-step.ts creates (or reuses) one podman secret per SECRET_NAMES entry.
    for (const secret of Object.values(SECRET_NAMES)) t.ok(claim.includes(`\`${secret}\``), `README lists ${secret}`);

    const up = text(MAN['mreg-up.1']!).replace(/\s+/g, ' ');
    for (const words of ['PostgreSQL and Redis passwords, SECRET_KEY and DATABASE_SECRET_KEY in plain text', 'mode 0640', 'quay-app alone', 'PostgreSQL and Redis receive their passwords only as these secrets']) {
      t.ok(up.includes(words), `mreg-up(1): "${words}"`);
    }
    for (const secret of Object.values(SECRET_NAMES)) t.ok(up.includes(secret), `mreg-up(1) lists ${secret}`);
  });
}
