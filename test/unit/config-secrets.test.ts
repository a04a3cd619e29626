import t from 'tap';
import { secretsFromConfig } from '../../src/apply/config-secrets.js';
import { renderQuayConfig } from '../../src/plan/quay-config.js';
import { readFileSync } from 'node:fs';
import type { InstallSecrets, InstallSpec } from '../../src/spec/spec.js';

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
