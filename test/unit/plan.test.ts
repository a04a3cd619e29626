import t from 'tap';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { HostError, UsageError } from '../../src/errors.js';
import { generateSecrets } from '../../src/apply/secrets-step.js';
import { checkCompat } from '../../src/plan/compat.js';
import { plan, type Plan } from '../../src/plan/plan.js';
import { REDACTED, redact } from '../../src/plan/redact.js';
import { getValues, parseUnit, renderUnit } from '../../src/plan/unit-file.js';
import { TEMPLATES, fillTemplate, serviceName, type TemplateName } from '../../src/plan/units.js';
import { MANAGED_LABEL, PG_DATABASE, PG_USER } from '../../src/install-spec/defaults.js';
import { SECRET_NAMES } from '../../src/install-spec/layout.js';
import { parseUpOptions, type RawUpFlags } from '../../src/install-spec/options.js';
import type { InstallSecrets } from '../../src/install-spec/spec.js';
import {
  goldenFilePath, listGoldenFiles, listScenarios, loadScenario, renderManifest, type Scenario,
} from '../support/golden.js';

const scenarios: Scenario[] = listScenarios().map(n => loadScenario(n));
const planned = new Map<string, Plan>(scenarios.map(s => [s.name, plan(s.spec, s.facts, s.secrets)]));
const quadlets = (p: Plan) => p.files.filter(f => f.kind === 'quadlet');
const secretForms = (s: InstallSecrets) =>
  Object.values(s).flatMap(v => [v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)]);

t.test('golden files: re-plan and compare byte for byte', async t => {
  t.strictSame(scenarios.map(s => s.name), ['podman-4.9', 'podman-5.0', 'rootful', 'rootless', 'selinux-rootful', 'selinux-rootless']);
  for (const s of scenarios) {
    const p = planned.get(s.name)!;
    for (const f of p.files) {
      t.equal(f.content, readFileSync(goldenFilePath(s.dir, f.path), 'utf8'), `${s.name}: ${f.path}`);
    }
    t.equal(renderManifest(p), readFileSync(`${s.dir}/plan.json`, 'utf8'), `${s.name}: plan.json`);
    t.strictSame(listGoldenFiles(s.dir), p.files.map(f => f.path.slice(1)).sort(), `${s.name}: no stale golden files`);
  }
  t.comment('to update after an intended change: node --import @tapjs/typescript/import test/golden/regen.ts --write');
});

t.test('invariants over every golden set', async t => {
  for (const s of scenarios) {
    const p = planned.get(s.name)!;
    const version = s.facts.podmanVersion!;
    const v4 = version[0] === 4;
    for (const f of quadlets(p)) {
      const name = `${s.name}/${basename(f.path)}`;
      for (const form of secretForms(s.secrets)) t.notOk(f.content.includes(form), `${name}: no secret value`);
      t.notOk(f.sensitive, `${name}: not sensitive`);
      const u = parseUnit(f.content);
      t.strictSame(checkCompat(u, version), [], `${name}: every key passes compat for podman ${version.join('.')}`);
      t.equal(renderUnit(u), f.content.replace(/^#.*\n/, ''), `${name}: round-trips through the serializer`);
      for (const [section, key] of u.entries) t.notMatch(`${section}${key}`, /\{\{|\}\}/, `${name}: placeholders only in values`);
      t.notMatch(f.content, /\{\{/, `${name}: every placeholder filled`);
      t.strictSame(getValues(u, 'Install', 'WantedBy').length <= 1, true);
      if (f.path.endsWith('.volume')) continue;
      t.strictSame(getValues(u, 'Install', 'WantedBy'), [s.spec.scope === 'rootful' ? 'multi-user.target' : 'default.target'],
        `${name}: comes back after reboot`);
      if (!f.path.endsWith('.container')) continue;
      const app = basename(f.path) === 'quay-app.container';
      if (v4) {
        t.strictSame(getValues(u, 'Container', 'Pod'), [], `${name}: no Pod= on 4.x`);
        t.ok(getValues(u, 'Container', 'PodmanArgs').includes('--pod quay-pod'), `${name}: joins quay-pod`);
        t.strictSame(getValues(u, 'Unit', 'BindsTo'), ['quay-pod.service'], `${name}: BindsTo the pod unit`);

      } else {
        t.strictSame(getValues(u, 'Container', 'Pod'), ['quay.pod'], `${name}: Pod=quay.pod`);
      }
      t.equal(getValues(u, 'Container', 'ContainerName')[0], basename(f.path, '.container'), `${name}: ContainerName set`);
      t.strictSame(getValues(u, 'Container', 'Pull'), ['never'], `${name}: Pull=never`);
      // quay-app's start job ends when it runs (mreg polls /health/instance); its dependencies' end at healthy,
      // polled by ExecStartPost (Notify=healthy would wait for podman's next periodic check).
      t.strictSame(getValues(u, 'Container', 'Notify'), [], `${name}: no Notify=`);
      if (app) t.strictSame(getValues(u, 'Service', 'ExecStartPost'), [], `${name}: mreg probes Quay's health itself`);
      else t.match(getValues(u, 'Service', 'ExecStartPost')[0] ?? '', `until /usr/bin/podman healthcheck run ${basename(f.path, '.container')} `, `${name}: start job waits for health`);
      t.equal(getValues(u, 'Container', 'HealthCmd').length, 1, `${name}: has a healthcheck`);
      t.strictSame(getValues(u, 'Service', 'Restart'), ['always'], `${name}: Restart=always`);
      t.ok(Number(getValues(u, 'Service', 'TimeoutStartSec')[0]) >= 300, `${name}: generous TimeoutStartSec`);
      t.strictSame(getValues(u, 'Container', 'PublishPort'), [], `${name}: ports only on the pod`);
      t.strictSame(getValues(u, 'Container', 'Label'), [MANAGED_LABEL]);
      for (const secret of getValues(u, 'Container', 'Secret')) {
        t.match(secret, /^[a-z-]+,type=env,target=[A-Z_]+$/, `${name}: secret as env`);
        t.ok((Object.values(SECRET_NAMES) as string[]).includes(secret.split(',')[0]!), `${name}: known secret name`);
      }
      t.notOk(getValues(u, 'Container', 'Environment').some(e => /PASSWORD/.test(e)), `${name}: no password in Environment=`);
    }
    const app = parseUnit(quadlets(p).find(f => f.path.endsWith('/quay-app.container'))!.content);
    t.strictSame(getValues(app, 'Unit', 'Requires'), ['quay-postgres.service quay-redis.service'], `${s.name}: quay-app Requires=`);
    t.strictSame(getValues(app, 'Unit', 'After').slice(0, 1), ['quay-postgres.service quay-redis.service'], `${s.name}: quay-app After=`);
    if (v4) {
      const units = p.files.filter(f => f.kind === 'unit');
      t.strictSame(units.map(f => f.path), [`${s.facts.home}/.config/systemd/user/quay-pod.service`], `${s.name}: one plain unit, the pod`);
      t.notOk(quadlets(p).some(f => f.path.endsWith('.pod')), `${s.name}: no .pod file on 4.x`);
      const pod = parseUnit(units[0]!.content);
      t.match(getValues(pod, 'Service', 'ExecStartPre')[0], `--replace --infra-name quay-pod-infra --name quay-pod --label ${MANAGED_LABEL} -p ${s.spec.port}:8443`);
      t.strictSame(getValues(pod, 'Unit', 'Wants'), ['quay-postgres.service quay-redis.service quay-app.service'], 'starting the pod starts the registry');
    } else {
      const pod = parseUnit(quadlets(p).find(f => f.path.endsWith('/quay.pod'))!.content);
      t.strictSame(getValues(pod, 'Pod', 'PodName'), ['quay-pod']);
      t.strictSame(getValues(pod, 'Pod', 'PublishPort'), [`${s.spec.port}:8443`], `${s.name}: pod publishes <port>:8443`);
    }
    const config = p.files.find(f => f.path.endsWith('/quay-config/config.yaml'))!;
    t.equal(config.path, `${s.spec.quayRoot}/quay-config/config.yaml`);
    t.ok(config.sensitive && config.mode === 0o640, 'config.yaml is sensitive, 0640');
    t.strictSame(p.secrets.map(x => x.name), [SECRET_NAMES.pgPassword, SECRET_NAMES.pgAdminPassword, SECRET_NAMES.redisPassword]);
    t.strictSame(p.services, ['quay-postgres.service', 'quay-redis.service', 'quay-app.service']);
    t.equal(p.pod, 'quay-pod.service');
    for (const f of quadlets(p)) t.ok(f.path.startsWith(`${s.facts.quadletDir}/`), 'quadlet files in quadletDir');
  }
});

t.test('SELinux on: storage bind paths are labelled by mreg and mounted without :Z; off: :Z as before', async t => {
  t.ok(scenarios.some(s => s.facts.selinux !== 'disabled' && s.spec.scope === 'rootful')
    && scenarios.some(s => s.facts.selinux !== 'disabled' && s.spec.scope === 'rootless'), 'both scopes have a set with SELinux on');
  for (const s of scenarios) {
    const p = planned.get(s.name)!;
    const on = s.facts.selinux !== 'disabled';
    const binds = [s.spec.quayStorage, s.spec.pgStorage].flatMap(st => (st.kind === 'path' ? [st.path] : []));
    t.strictSame(p.selinuxLabels, on ? binds : [], `${s.name}: labels ${on ? 'every bind path' : 'nothing'}`);
    for (const f of quadlets(p)) {
      for (const v of getValues(parseUnit(f.content), 'Container', 'Volume')) {
        const [source = '', , options = ''] = v.split(':');
        const relabels = options.split(',').includes('Z');
        const name = `${s.name}/${basename(f.path)}: ${v}`;
        // quayRoot's folders are small; :Z keeps config.yaml in the container's private categories.
        if (source.startsWith(`${s.spec.quayRoot}/`)) t.ok(relabels, `${name}: quayRoot folder keeps :Z`);
        else if (binds.includes(source)) t.equal(relabels, !on, `${name}: ${on ? 'no :Z' : ':Z'}`);
        else t.notOk(relabels, `${name}: named volume, labelled by podman`);
        if (source === (s.spec.pgStorage.kind === 'path' ? s.spec.pgStorage.path : `${s.spec.pgStorage.name}.volume`)) {
          t.ok(options.split(',').includes('U'), `${name}: Postgres data keeps :U`);
        }
      }
    }
  }
});

t.test('config.yaml has the keys Quay needs', async t => {
  const s = scenarios.find(x => x.name === 'rootful')!;
  const yaml = planned.get(s.name)!.files.find(f => f.path.endsWith('config.yaml'))!.content;
  const want = [
    `DB_URI: "postgresql://${PG_USER}:${s.secrets.pgPassword}@127.0.0.1:5432/${PG_DATABASE}"`,
    'SERVER_HOSTNAME: "registry.example.com:8443"', 'FEATURE_USER_INITIALIZE: true', 'SUPER_USERS: ["init"]',
    'FEATURE_USER_CREATION: false', 'FEATURE_ANONYMOUS_ACCESS: false', `SECRET_KEY: "${s.secrets.secretKey}"`,
    `DATABASE_SECRET_KEY: "${s.secrets.databaseSecretKey}"`, 'PREFERRED_URL_SCHEME: "https"', 'SETUP_COMPLETE: true',
    'AUTHENTICATION_TYPE: "Database"', 'DISTRIBUTED_STORAGE_CONFIG:\n  default: ["LocalStorage", {"storage_path": "/datastorage"}]',
    `BUILDLOGS_REDIS:\n  host: "127.0.0.1"\n  password: "${s.secrets.redisPassword}"\n  port: 6379`,
    `USER_EVENTS_REDIS:\n  host: "127.0.0.1"\n  password: "${s.secrets.redisPassword}"\n  port: 6379`,
  ];
  for (const w of want) t.ok(yaml.includes(`\n${w}\n`), w.split('\n')[0]!);
  const odd = scenarios.find(x => x.name === 'podman-5.0')!;
  const oddYaml = planned.get(odd.name)!.files.find(f => f.path.endsWith('config.yaml'))!.content;
  t.ok(oddYaml.includes(`@127.0.0.1`) && oddYaml.includes(encodeURIComponent(odd.secrets.pgPassword)), 'password URL-encoded in DB_URI');
  t.ok(oddYaml.includes(JSON.stringify(odd.secrets.redisPassword)), 'quotes and # inside a quoted YAML string');
});

t.test('templates: units/* and the embedded copies are byte-identical', async t => {
  for (const name of Object.keys(TEMPLATES) as TemplateName[]) {
    t.equal(TEMPLATES[name], readFileSync(new URL(`../../units/${name}`, import.meta.url), 'utf8'), `units/${name}`);
    t.doesNotThrow(() => parseUnit(TEMPLATES[name]), `units/${name} parses`);
  }
  t.throws(() => fillTemplate('quay.pod', { port: '1' }), /no value for \{\{wantedBy\}\}/);
  t.throws(() => fillTemplate('quay.pod', { port: '1', wantedBy: 'x', extra: 'y' }), /unused template values: extra/);
  t.throws(() => fillTemplate('quay.pod', { port: '1\nExecStartPre=/bin/evil', wantedBy: 'x' }), /unsafe value/);
  t.throws(() => fillTemplate('quay.pod', { port: '%h', wantedBy: 'x' }), /unsafe value/, 'no systemd specifiers');
  t.equal(serviceName('quay.pod'), 'quay-pod.service');
  t.equal(serviceName('quay-storage.volume'), 'quay-storage-volume.service');
  t.equal(serviceName('quay-app.container'), 'quay-app.service');
});

t.test('plan is deterministic', async t => {
  for (const s of scenarios) t.strictSame(plan(s.spec, s.facts, s.secrets), planned.get(s.name));
});

// up asks podman's generator about the units before it settles the install's secrets (src/up/host-checks.ts),
// with new values standing in: that is the same check only while no unit's text holds a secret's value.
t.test('the Quadlet files are the same whatever the secrets\' values', async t => {
  for (const s of scenarios) {
    t.strictSame(quadlets(plan(s.spec, s.facts, generateSecrets())), quadlets(planned.get(s.name)!), `${s.name}: the units`);
  }
});

t.test('host errors', async t => {
  const s = scenarios.find(x => x.name === 'rootful')!;
  const err = (facts: object) => t.throws(() => plan(s.spec, { ...s.facts, ...facts }, s.secrets)) as unknown as HostError;
  const old = err({ podmanVersion: [4, 5, 1] });
  t.ok(old instanceof HostError && old.exitCode === 1);
  t.match(old.message, 'podman 4.5.1 is too old: mreg needs podman 4.6 or newer');
  // The rootful set uses named volumes: VolumeName= needs 4.7, and the key error says so.
  t.match(err({ podmanVersion: [4, 6, 0] }).message, 'quay-storage.volume: [Volume] VolumeName needs podman 4.7.0, this host has 4.6.0');
  t.ok(plan(s.spec, { ...s.facts, podmanVersion: [4, 7, 0] }, s.secrets).files.some(f => f.kind === 'unit' && f.path === '/etc/systemd/system/quay-pod.service'),
    'podman 4.7 gets the 4.x layout, rootful pod unit in /etc/systemd/system');
  const bind = { ...s.spec, quayStorage: { kind: 'path' as const, path: '/srv/q' }, pgStorage: { kind: 'path' as const, path: '/srv/p' } };
  t.doesNotThrow(() => plan(bind, { ...s.facts, podmanVersion: [4, 6, 0] }, s.secrets), 'podman 4.6 with bind mounts');
  const none = err({ podmanVersion: undefined });
  t.ok(none instanceof HostError);
  t.match(none.message, 'podman not found');
  t.match(err({ scope: 'rootless' }).message, 'this install is rootful but mreg is running rootless');
  t.doesNotThrow(() => plan(s.spec, { ...s.facts, podmanVersion: [5, 0, 0] }, s.secrets), 'podman 5.0.0 is enough');
});

t.test('a spec that bypassed parseUpOptions still cannot inject unit lines', async t => {
  const s = scenarios.find(x => x.name === 'rootful')!;
  const evil = 'x\n[Service]\nExecStartPre=/bin/sh -c evil';
  const specs = [
    { ...s.spec, images: { ...s.spec.images, quay: `registry.example.com/q${evil}` } },
    { ...s.spec, quayRoot: `/srv${evil}` },
    { ...s.spec, quayStorage: { kind: 'path' as const, path: `/srv${evil}` } },
    { ...s.spec, pgStorage: { kind: 'volume' as const, name: `pg${evil}` } },
  ];
  for (const spec of specs) t.throws(() => plan(spec, s.facts, s.secrets), /unsafe value|control character/);
});

t.test('whatever parseUpOptions accepts renders to well-formed units', async t => {
  // Deterministic pseudo-random flag values drawn from characters that matter to unit files.
  let seed = 42;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const alphabet = 'aZ09./-_:,%$ ;#=\\"\'[]~@+';
  const word = () => Array.from({ length: 1 + rand(12) }, () => alphabet[rand(alphabet.length)]).join('');
  const s = scenarios.find(x => x.name === 'rootful')!;
  const keys: (keyof RawUpFlags)[] = ['quayHostname', 'quayRoot', 'quayStorage', 'pgStorage', 'initUser', 'quayImage', 'pgImage', 'redisImage', 'infraImage'];
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const key = keys[rand(keys.length)]!;
    const prefix = { quayRoot: '/', quayStorage: '/', pgStorage: '/', quayImage: 'localhost/', pgImage: 'localhost/', redisImage: 'localhost/', infraImage: 'localhost/' }[key as string] ?? '';
    const value = prefix + word();
    let spec;
    try {
      spec = parseUpOptions({ [key]: value }, { scope: 'rootful', fqdn: 'registry.example.com', home: '/root' });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      continue;
    }
    accepted++;
    for (const f of quadlets(plan(spec, s.facts, s.secrets))) {
      const u = parseUnit(f.content);
      if (renderUnit(u) !== f.content.replace(/^#.*\n/, '') || !f.content.endsWith('\n')) t.fail(`${key}=${JSON.stringify(value)} broke ${f.path}`);
    }
  }
  t.ok(accepted > 50, `${accepted} random values accepted and rendered cleanly`);
});

t.test('the pod\'s infra image: PodmanArgs in quay.pod, --infra-image in podman 4.x\'s quay-pod.service; nothing without it', async t => {
  const s = scenarios.find(x => x.name === 'rootful')!;
  const spec = { ...s.spec, infraImage: 'registry.access.redhat.com/ubi8/pause:8.7-6' };
  const pod = (p: Plan, name: string) => p.files.find(f => basename(f.path) === name)?.content ?? '';
  t.match(pod(plan(spec, s.facts, s.secrets), 'quay.pod'), /^PublishPort=.*\nPodmanArgs=--infra-image=registry\.access\.redhat\.com\/ubi8\/pause:8\.7-6\n/m);
  t.match(pod(plan(spec, { ...s.facts, podmanVersion: [4, 9, 4] }, s.secrets), 'quay-pod.service'), /^ExecStartPre=\/usr\/bin\/podman pod create .* --infra-image registry\.access\.redhat\.com\/ubi8\/pause:8\.7-6$/m);
  t.notMatch(pod(plan(s.spec, s.facts, s.secrets), 'quay.pod'), /infra/);
  t.notMatch(pod(plan(s.spec, { ...s.facts, podmanVersion: [4, 9, 4] }, s.secrets), 'quay-pod.service'), /infra-image/);
});

t.test('redact', async t => {
  const secrets: InstallSecrets = {
    secretKey: 'sk+/=', databaseSecretKey: 'dsk', pgPassword: 'pg"pw', pgAdminPassword: 'pgadmin',
    redisPassword: 'pg', initPassword: '',
  };
  t.equal(redact('a sk+/= b sk%2B%2F%3D c', secrets), `a ${REDACTED} b ${REDACTED} c`, 'raw and URL-encoded');
  t.equal(redact('password: "pg\\"pw"', secrets), `password: "${REDACTED}"`, 'JSON-escaped');
  t.equal(redact('pgadmin pg', secrets), `${REDACTED} ${REDACTED}`, 'longest first: no half-hidden secret');
  t.equal(redact('nothing here', secrets), 'nothing here', 'empty secret ignored');
  for (const s of scenarios) {
    for (const f of planned.get(s.name)!.files) {
      const out = redact(f.content, s.secrets);
      for (const form of secretForms(s.secrets)) t.notOk(out.includes(form), `${s.name}: ${basename(f.path)} fully redacted`);
    }
  }
});

t.test('no wait for network-online.target: [Quadlet] DefaultDependencies=false from podman 5.3, no [Quadlet] before', async t => {
  // A rootless unit otherwise waits for podman-user-wait-network-online.service: 90 s per start on a host
  // where nothing activates network-online.target (seen in the test VM during every rootless start).
  for (const s of scenarios) {
    const v = s.facts.podmanVersion!;
    const newer = v[0] > 5 || (v[0] === 5 && v[1] >= 3);
    for (const f of quadlets(planned.get(s.name)!)) {
      const values = getValues(parseUnit(f.content), 'Quadlet', 'DefaultDependencies');
      t.same(values, newer ? ['false'] : [], `${s.name} (podman ${v.join('.')}): ${basename(f.path)}`);
      if (!newer) t.notMatch(f.content, /^\[Quadlet\]/m, `${s.name}: ${basename(f.path)} has no [Quadlet] section`);
    }
  }
  const v54 = scenarios.find(s => s.name === 'rootful')!;
  const v52 = scenarios.find(s => s.name === 'rootless')!;
  t.same([v54.facts.podmanVersion, v52.facts.podmanVersion], [[5, 4, 2], [5, 2, 2]], 'both sides of 5.3 are covered');
});
