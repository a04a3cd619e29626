// What the Quay Operator needs to take over this registry (pure): the config bundle Secret, a
// QuayRegistry, and the commands to run. The rules come from quay/quay-operator (HEAD 328d8864,
// 2026-06): a managed component whose fields are in the bundle is refused
// (controllers/quay/quayregistry_controller.go hasNecessaryConfig; fields per component in
// pkg/kustomize/secrets.go ContainsComponentConfig), and an unmanaged required one needs them.
import { parse, stringify } from 'yaml';

/** The QuayRegistry's components: every kind the CRD's enum has, said explicitly. */
export const OPERATOR_COMPONENTS: ReadonlyArray<{ kind: string; managed: boolean; why: string }> = [
  { kind: 'quay', managed: true, why: 'the registry itself' },
  { kind: 'postgres', managed: true, why: 'the operator\'s database; the dump goes into it' },
  { kind: 'redis', managed: true, why: 'holds nothing that must move' },
  { kind: 'objectstorage', managed: false, why: 'the bucket this registry already uses' },
  { kind: 'route', managed: true, why: 'serves SERVER_HOSTNAME' },
  { kind: 'tls', managed: false, why: 'the same certificate, so clients keep trusting it' },
  { kind: 'horizontalpodautoscaler', managed: true, why: 'scales Quay with the load' },
  { kind: 'clair', managed: false, why: 'mreg runs no scanner; turn it on later if wanted' },
  { kind: 'clairpostgres', managed: false, why: 'only for Clair' },
  { kind: 'mirror', managed: false, why: 'mreg runs no repository mirror workers' },
  { kind: 'monitoring', managed: false, why: 'needs the operator installed for all namespaces' },
];

/** config.yaml keys of the components the operator manages here (its field groups for postgres and redis). */
const MANAGED_FIELDS = ['DB_CONNECTION_ARGS', 'DB_URI', 'BUILDLOGS_REDIS', 'USER_EVENTS_REDIS'];

export interface OperatorInput {
  configYaml: string;
  sslCert: string;
  sslKey: string;
  /** Other files of quay-config Quay trusts at start (extra_ca*). */
  extraCa: ReadonlyArray<{ name: string; content: string }>;
  namespace: string;
  name: string;
  /** The registry's name and the port its clients use today. */
  hostname: string;
  port: number;
  dumpFile: string;
  /** The Quay image it runs: the operator must deploy that version (it migrates no swapped-in database). */
  quayImage: string;
}

export interface ExportFile { name: string; content: string; mode: number }

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * The operator's config.yaml: this one without what the managed postgres and redis bring, and with
 * SERVER_HOSTNAME the bare name: the managed route takes it as its host, which must be a DNS name
 * (kustomize/components/route/quay.route.yaml `host: $(SERVER_HOSTNAME)`; OpenShift refuses a host with
 * a port), and the router serves 443.
 */
export function operatorConfig(configYaml: string, hostname: string): string {
  const doc = parse(configYaml) as Record<string, unknown>;
  for (const k of MANAGED_FIELDS) delete doc[k];
  doc.SERVER_HOSTNAME = hostname;
  return stringify(doc);
}

export function operatorFiles(i: OperatorInput): ExportFile[] {
  const secretName = `${i.name}-config-bundle`;
  const secret = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: secretName, namespace: i.namespace },
    data: {
      'config.yaml': b64(operatorConfig(i.configYaml, i.hostname)), 'ssl.cert': b64(i.sslCert), 'ssl.key': b64(i.sslKey),
      ...Object.fromEntries(i.extraCa.map(f => [f.name, b64(f.content)])),
    },
  };
  const registry = {
    apiVersion: 'quay.redhat.com/v1', kind: 'QuayRegistry',
    metadata: { name: i.name, namespace: i.namespace },
    spec: { configBundleSecret: secretName, components: OPERATOR_COMPONENTS.map(({ kind, managed }) => ({ kind, managed })) },
  };
  return [
    { name: 'config-bundle-secret.yaml', content: `# Written by mreg export openshift: holds Quay's keys and the bucket's key pair.\n${stringify(secret)}`, mode: 0o600 },
    { name: 'quayregistry.yaml', content: `# Written by mreg export openshift.\n${componentComments()}${stringify(registry)}`, mode: 0o644 },
    { name: 'README.md', content: readme(i), mode: 0o644 },
  ];
}

function componentComments(): string {
  return OPERATOR_COMPONENTS.map(c => `# ${c.kind}: ${c.managed ? 'managed' : 'unmanaged'} (${c.why})\n`).join('');
}

function readme(i: OperatorInput): string {
  const ns = i.namespace;
  const db = `${i.name}-quay-database`;
  return `# Moving this registry to the Quay Operator

Written by \`mreg export openshift\`. It follows Red Hat Quay's documented procedure
"Using backed up standalone content to migrate to OpenShift Container Platform"
(Manage Red Hat Quay, 3.9, chapter 16.2), with the blobs already in the object store this registry
uses, so no blob is copied.

Files: \`config-bundle-secret.yaml\` (config.yaml with the same SECRET_KEY and DATABASE_SECRET_KEY, the
bucket, the certificate; keep it secret), \`quayregistry.yaml\` (object storage and TLS unmanaged),
\`${i.dumpFile}\` (pg_dump, custom format, taken when this export ran).

Stop pushing to the old registry before the dump is taken, or export again just before the move.

Before you start: install the Quay Operator of the Quay version this registry runs (\`${i.quayImage}\`),
from its own channel (e.g. \`stable-3.12\` for 3.12.x). The operator runs Quay without migrating its
database (\`registry-nomigrate\`) and migrates only when it deploys a new version, so a dump from an
older Quay swapped in under a newer one would run on a schema it does not know. Upgrade the operator's
channel after the move, as any Quay Operator install is upgraded. Its PostgreSQL may be an older major
than this registry's (mreg's default is 15): if pg_restore below refuses the dump, restore it into a
PostgreSQL of its own major first, as Red Hat's procedure does.

The registry moves from ${i.hostname}:${i.port} to ${i.hostname} (port 443, the route's). Clients then use
${i.hostname} without a port: pull specs and \`oc-mirror\` targets, the cluster's ImageDigestMirrorSet or
ImageContentSourcePolicy mirrors, the pull secret's auth entry, and the additionalTrustedCA ConfigMap key
(\`${i.hostname}\` in place of \`${i.hostname}..${i.port}\`).

1. Create the namespace and the registry:

       oc new-project ${ns}
       oc apply -f config-bundle-secret.yaml
       oc apply -f quayregistry.yaml
       oc wait -n ${ns} quayregistry/${i.name} --for=condition=Available=true --timeout=30m

2. Stop the operator and Quay, so nothing writes to the database while it is replaced:

       oc scale --replicas=0 -n openshift-operators deployment $(oc get deployment -n openshift-operators -o name | grep quay-operator | cut -d/ -f2)
       oc scale --replicas=0 -n ${ns} deployment ${i.name}-quay-app ${i.name}-quay-mirror 2>/dev/null || true

3. Put the dump into the operator's database (its name and owner are both \`${db}\`). The operator runs
   PostgreSQL 13 (its RELATED_IMAGE_COMPONENT_POSTGRES), whose pg_restore reads a dump of mreg's PostgreSQL
   15 (custom format 1.14, as from 12 on) but refuses one of 16 or newer ("unsupported version (1.15) in
   file header"): export from a quay-postgres of 15 or older.

       pod=$(oc get pod -n ${ns} -l quay-component=postgres -o name | cut -d/ -f2)
       oc cp ${i.dumpFile} ${ns}/$pod:/var/lib/pgsql/data/userdata/${i.dumpFile}
       oc exec -n ${ns} $pod -- bash -c 'dropdb --if-exists ${db} && createdb -O ${db} ${db} &&
         psql -d ${db} -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" &&
         pg_restore --no-owner --role=${db} -d ${db} /var/lib/pgsql/data/userdata/${i.dumpFile} &&
         rm /var/lib/pgsql/data/userdata/${i.dumpFile}'

4. Start the operator again, and Quay: with the horizontal pod autoscaler managed the operator leaves
   the replicas to it, and an autoscaler does not scale up a deployment set to 0:

       oc scale --replicas=1 -n openshift-operators deployment $(oc get deployment -n openshift-operators -o name | grep quay-operator | cut -d/ -f2)
       oc scale --replicas=1 -n ${ns} deployment ${i.name}-quay-app
       oc wait -n ${ns} quayregistry/${i.name} --for=condition=Available=true --timeout=30m

5. Point ${i.hostname} at the route (\`oc get route -n ${ns}\`) in DNS, log in with the old users and
   pull by digest, now without the port. Then stop the old registry (\`mreg down\`); its data stays until
   \`mreg down --purge\`.
`;
}
