import t from 'tap';
import { secretsFromConfig } from '../../src/apply/config-secrets.js';
import { readStoredSecrets, resolveSecrets } from '../../src/apply/secrets-step.js';
import { executeActions, filesOnly } from '../../src/actions/execute.js';
import { planSecrets } from '../../src/plan/secrets.js';
import { describeAction } from '../../src/actions/action.js';
import type { Podman } from '../../src/host/podman.js';
import { SECRET_NAMES } from '../../src/install-spec/layout.js';
import { renderQuayConfig } from '../../src/plan/quay-config.js';
import { readFileSync } from 'node:fs';
import type { InstallSecrets, InstallSpec } from '../../src/install-spec/spec.js';

const GOLDEN = new URL('../golden/', import.meta.url);

for (const set of ['rootful', 'podman-5.0']) {
  t.test(`${set}: every secret in config.yaml is recovered exactly`, async t => {
    const spec = JSON.parse(readFileSync(new URL(`${set}/spec.json`, GOLDEN), 'utf8')) as InstallSpec;
    const secrets = JSON.parse(readFileSync(new URL(`${set}/secrets.json`, GOLDEN), 'utf8')) as InstallSecrets;
    const got = secretsFromConfig(renderQuayConfig(spec, secrets));
    t.same(got, { secretKey: secrets.secretKey, databaseSecretKey: secrets.databaseSecretKey, pgPassword: secrets.pgPassword, redisPassword: secrets.redisPassword });
  });
}

t.test('a config.yaml without them gives nothing', async t => {
  t.same(secretsFromConfig('FEATURE_USER_CREATION: false\n'), {});
  t.same(secretsFromConfig('DB_URI: "not a url"\n'), {});
});

/** Only the secret calls readStoredSecrets and the secrets' actions make; records them. */
function fakePodman(stored: Record<string, string>, failCreate: string[] = []) {
  const calls: string[] = [];
  const created: Record<string, string> = {};
  const podman = {
    async secretValues(names: readonly string[]) {
      calls.push(`values ${names.join(' ')}`);
      return new Map(names.filter(n => n in stored).map(n => [n, stored[n]!]));
    },
    async secretCreate(name: string, value: string) {
      calls.push(`create ${name}`);
      await new Promise(r => setTimeout(r, failCreate.includes(name) ? 1 : 5));
      if (failCreate.includes(name)) throw new Error(`create ${name} failed`);
      created[name] = value;
    },
  } as unknown as Podman;
  return { podman, calls, created };
}

t.test('resolveSecrets: podman store first, then config.yaml, then fresh; one read for all names', async t => {
  const { podman, calls } = fakePodman({ [SECRET_NAMES.pgPassword]: 'stored-pg', [SECRET_NAMES.secretKey]: '' });
  const config = 'SECRET_KEY: "from-config"\nDATABASE_SECRET_KEY: "db-from-config"\n';
  const { secrets, missing } = resolveSecrets(await readStoredSecrets(podman), 'init', config);
  t.same(calls, [`values ${Object.values(SECRET_NAMES).join(' ')}`]);
  t.equal(secrets.pgPassword, 'stored-pg');
  t.equal(secrets.secretKey, 'from-config', 'an empty stored value counts as missing');
  t.equal(secrets.databaseSecretKey, 'db-from-config');
  t.equal(secrets.initPassword, 'init');
  t.match(secrets.redisPassword, /^[A-Za-z0-9]{32}$/);
  t.same(missing, Object.values(SECRET_NAMES).filter(n => n !== SECRET_NAMES.pgPassword), 'in SECRET_NAMES order');
});

/** The executor runs planSecrets' actions with podman alone: a secret needs no systemd. */
const createSecrets = (podman: Podman, secrets: InstallSecrets, names: string[]) =>
  executeActions(planSecrets(secrets, names), { ...filesOnly({} as never), podman }, { out: {} as never });

t.test('the secrets\' actions create every name at once, wait for all, then reject with the first failure in order', async t => {
  const { secrets } = resolveSecrets(new Map(), 'init');
  const names = Object.values(SECRET_NAMES);
  const ok = fakePodman({});
  await createSecrets(ok.podman, secrets, names);
  t.same(Object.keys(ok.created).sort(), [...names].sort());
  t.equal(ok.created[SECRET_NAMES.pgPassword], secrets.pgPassword);

  const bad = fakePodman({}, [SECRET_NAMES.secretKey, SECRET_NAMES.redisPassword]);
  await t.rejects(createSecrets(bad.podman, secrets, names), { message: `create ${SECRET_NAMES.redisPassword} failed` });
  t.same(Object.keys(bad.created).sort(), names.filter(n => n !== SECRET_NAMES.secretKey && n !== SECRET_NAMES.redisPassword).sort());
});

t.test('planSecrets: one action a name, its value never in the id or the line printed', async t => {
  const { secrets } = resolveSecrets(new Map(), 'init');
  const plan = planSecrets(secrets, [SECRET_NAMES.pgPassword], { replace: true });
  t.same(plan.map(a => a.id), [`create-secret:${SECRET_NAMES.pgPassword}`]);
  t.notMatch(describeAction(plan[0]!), secrets.pgPassword);
  t.match(describeAction(plan[0]!), /replacing/);
});
