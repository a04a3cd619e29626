// export openshift: the files validate against what the Quay Operator checks. Facts from
// quay/quay-operator HEAD 328d8864 (2026-06): the CRD config/crd/bases/quay.redhat.com_quayregistries.yaml
// (apiVersion quay.redhat.com/v1; components[].kind enum; kind and managed required; configBundleSecret a
// string), hasNecessaryConfig in controllers/quay/quayregistry_controller.go (a managed component's
// fields in the bundle are refused, except route, mirror and redis; an unmanaged required one needs
// them), ContainsComponentConfig in pkg/kustomize/secrets.go and config-tool's field groups.
import t from 'tap';
import { parse } from 'yaml';
import { operatorConfig, operatorFiles, OPERATOR_COMPONENTS } from '../../src/plan/openshift.js';

const CRD_KINDS = ['quay', 'postgres', 'clair', 'clairpostgres', 'redis', 'horizontalpodautoscaler', 'objectstorage', 'route', 'mirror', 'monitoring', 'tls'];
const REQUIRED = ['postgres', 'objectstorage', 'route', 'redis', 'tls'];
const CONFIG_WHEN_MANAGED = ['route', 'mirror', 'redis'];
const FIELDS: Record<string, string[]> = {
  postgres: ['DB_CONNECTION_ARGS', 'DB_URI'],
  redis: ['BUILDLOGS_REDIS', 'USER_EVENTS_REDIS'],
  objectstorage: ['DISTRIBUTED_STORAGE_CONFIG', 'DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS', 'DISTRIBUTED_STORAGE_PREFERENCE'],
  clair: ['FEATURE_SECURITY_SCANNER', 'SECURITY_SCANNER_ENDPOINT', 'SECURITY_SCANNER_INDEXING_INTERVAL', 'SECURITY_SCANNER_NOTIFICATIONS', 'SECURITY_SCANNER_V4_ENDPOINT', 'SECURITY_SCANNER_V4_NAMESPACE_WHITELIST'],
  route: ['SERVER_HOSTNAME', 'PREFERRED_URL_SCHEME', 'EXTERNAL_TLS_TERMINATION'],
  mirror: ['FEATURE_REPO_MIRROR', 'REPO_MIRROR_INTERVAL', 'REPO_MIRROR_SERVER_HOSTNAME', 'REPO_MIRROR_TLS_VERIFY'],
};
const CONFIG = `DB_URI: "postgresql://quay:pw@127.0.0.1:5432/quay"
BUILDLOGS_REDIS: {"host": "127.0.0.1", "password": "r", "port": 6379}
USER_EVENTS_REDIS: {"host": "127.0.0.1", "password": "r", "port": 6379}
DATABASE_SECRET_KEY: "dbkey"
SECRET_KEY: "key"
SERVER_HOSTNAME: "registry.example.com:8443"
PREFERRED_URL_SCHEME: "https"
FEATURE_SECURITY_SCANNER: false
FEATURE_REPO_MIRROR: false
DISTRIBUTED_STORAGE_CONFIG:
  default: ["RadosGWStorage", {"access_key": "AK", "bucket_name": "b", "hostname": "s3", "is_secure": true, "port": 443, "secret_key": "SK", "storage_path": "/"}]
DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: []
DISTRIBUTED_STORAGE_PREFERENCE: ["default"]
FEATURE_PROXY_STORAGE: true
`;
const files = operatorFiles({ configYaml: CONFIG, sslCert: 'CERT', sslKey: 'KEY', extraCa: [{ name: 'extra_ca_cert_s3.crt', content: 'CA' }],
  namespace: 'quay-enterprise', name: 'mirror-registry', hostname: 'registry.example.com', port: 8443, dumpFile: 'quay-database.dump',
  quayImage: 'registry.redhat.io/quay/quay-rhel8:v3.12.21' });
const byName = Object.fromEntries(files.map(f => [f.name, f]));
const secret = parse(byName['config-bundle-secret.yaml']!.content);
const registry = parse(byName['quayregistry.yaml']!.content);
const bundle = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
const config = parse(bundle['config.yaml']!) as Record<string, unknown>;

t.test('the QuayRegistry fits the CRD', async t => {
  t.equal(registry.apiVersion, 'quay.redhat.com/v1');
  t.equal(registry.kind, 'QuayRegistry');
  t.equal(registry.metadata.namespace, 'quay-enterprise');
  t.equal(registry.spec.configBundleSecret, secret.metadata.name, 'names the Secret');
  t.same(Object.keys(registry.spec).sort(), ['components', 'configBundleSecret']);
  t.same(registry.spec.components.map((c: { kind: string }) => c.kind).sort(), [...CRD_KINDS].sort(), 'every kind of the enum, once');
  for (const c of registry.spec.components) t.same(Object.keys(c).sort(), ['kind', 'managed'], `${c.kind}: kind and managed, managed a boolean`);
  t.equal(OPERATOR_COMPONENTS.find(c => c.kind === 'objectstorage')?.managed, false, 'object storage unmanaged');
});

t.test('the Secret passes hasNecessaryConfig for those components', async t => {
  t.equal(secret.apiVersion, 'v1');
  t.equal(secret.kind, 'Secret');
  t.equal(secret.metadata.namespace, 'quay-enterprise');
  for (const { kind, managed } of registry.spec.components as Array<{ kind: string; managed: boolean }>) {
    const fields = FIELDS[kind] ?? [];
    const has = kind === 'tls' ? 'ssl.cert' in bundle && 'ssl.key' in bundle : fields.some(f => f in config);
    if (managed && !CONFIG_WHEN_MANAGED.includes(kind)) t.notOk(has, `${kind} is managed: none of its fields in the bundle`);
    if (!managed && REQUIRED.includes(kind)) t.ok(has, `${kind} is unmanaged and required: its config is in the bundle`);
  }
  t.equal(config.SECRET_KEY, 'key', 'the same SECRET_KEY');
  t.equal(config.DATABASE_SECRET_KEY, 'dbkey', 'the same DATABASE_SECRET_KEY (encrypted columns stay readable)');
  t.same(config.DISTRIBUTED_STORAGE_CONFIG, parse(CONFIG).DISTRIBUTED_STORAGE_CONFIG, 'the same bucket');
  t.notOk('DB_URI' in config || 'BUILDLOGS_REDIS' in config, 'the managed database and Redis bring their own');
  t.equal(bundle['extra_ca_cert_s3.crt'], 'CA', 'the object store\'s CA travels along');
  t.equal(byName['config-bundle-secret.yaml']!.mode, 0o600, 'the Secret file is 0600');
  t.equal(operatorConfig('A: 1\nDB_URI: x\n', 'r.example.com'), 'A: 1\nSERVER_HOSTNAME: r.example.com\n');
  // The managed route's host is SERVER_HOSTNAME (quay-operator kustomize/components/route/quay.route.yaml),
  // and OpenShift takes only a DNS name there: with ':8443' the route is never made.
  t.equal(config.SERVER_HOSTNAME, 'registry.example.com', 'the bare name: the route serves 443');
});

t.test('the README gives the steps with this namespace, name and dump', async t => {
  const md = byName['README.md']!.content;
  for (const s of ['oc apply -f config-bundle-secret.yaml', 'oc apply -f quayregistry.yaml', 'quay-enterprise/$pod:/var/lib/pgsql/data/userdata/quay-database.dump',
    'pg_restore --no-owner --role=mirror-registry-quay-database', 'Using backed up standalone content to migrate to OpenShift Container Platform',
    // The autoscaler leaves a deployment at 0 where step 2 put it (quay-operator pkg/middleware: no replicas
    // are set while the HPA is managed): Quay is scaled back by hand.
    'oc scale --replicas=1 -n quay-enterprise deployment mirror-registry-quay-app',
    // The operator does not migrate a swapped-in database: it must run this registry's Quay version.
    'install the Quay Operator of the Quay version this registry runs (`registry.redhat.io/quay/quay-rhel8:v3.12.21`)',
    'The registry moves from registry.example.com:8443 to registry.example.com (port 443']) t.match(md, s);
});
