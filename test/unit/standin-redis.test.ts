// The Redis stand-in (test/images/redis/run-redis) refuses a password sclorg's image refuses, before the
// server starts, as sclorg/redis-container's validate-variables.sh does with common.sh's regex (test/README.md):
// mreg's generated passwords must pass it, and an adopted install's literal "password" too.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecrets } from '../../src/apply/secrets-step.js';

const SCRIPT = fileURLToPath(new URL('../images/redis/run-redis', import.meta.url));

/** run-redis with a redis-server on PATH that only says it ran and with which config. */
function run(password: string | undefined) {
  const d = mkdtempSync(join(tmpdir(), 'mreg-redis-standin-'));
  writeFileSync(join(d, 'redis-server'), '#!/bin/sh\necho "redis-server $1"\n');
  chmodSync(join(d, 'redis-server'), 0o755);
  const env: NodeJS.ProcessEnv = { PATH: `${d}:/usr/bin:/bin`, MREG_STANDIN_REDIS_CONF: join(d, 'redis.conf'), ...(password === undefined ? {} : { REDIS_PASSWORD: password }) };
  const r = spawnSync('sh', [SCRIPT], { env, encoding: 'utf8' });
  const conf = (() => { try { return readFileSync(join(d, 'redis.conf'), 'utf8'); } catch { return ''; } })();
  return { code: r.status, out: r.stdout, conf };
}

t.test('a password outside sclorg\'s characters: exit 1 with its message, the server never starts', async t => {
  for (const bad of ['with space', 'quote"d', 'back\\slash', 'new\nline', '']) {
    const r = run(bad);
    t.equal(r.code, 1, JSON.stringify(bad));
    t.match(r.out, /^error: Invalid password\n/, 'says so');
    t.notMatch(r.out, /redis-server/, 'no server');
  }
});

t.test('mreg\'s generated password, mirror-registry\'s "password" and none at all start the server', async t => {
  for (const good of [generateSecrets().redisPassword, 'password', 'a-b=c;d|e', undefined]) {
    const r = run(good);
    t.equal(r.code, 0, JSON.stringify(good));
    t.match(r.out, /^redis-server \S+redis\.conf$/m, 'the server starts on the written config');
    if (good !== undefined) t.match(r.conf, `requirepass "${good}"`);
  }
});
