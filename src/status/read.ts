// What `mreg status` reads: unit states (one systemctl show), the health probe, the certificate's expiry,
// config.yaml, file modes, each storage's place and free space, and the last backup; asked at once.
import type { InspectPorts } from '../actions/ports.js';
import { lastBackupPath, parseLastBackup } from '../backup/last.js';
import { allInOrder } from '../concurrent.js';
import type { QuayRootLayout } from '../install-spec/layout.js';
import type { InstallRecord } from '../install-spec/record.js';
import type { QuayStorage } from '../install-spec/spec.js';
import { ALL_UNITS, storageText } from '../model/views.js';
import { certExpiry } from '../tls/index.js';

export type StatusRead = Awaited<ReturnType<typeof readStatus>>;

/** Changes nothing; rejects only when systemd cannot be asked for the unit states. */
export async function readStatus(look: InspectPorts, layout: QuayRootLayout, record: InstallRecord) {
  const spec = record.spec;
  // Independent probes at once (each podman or D-Bus round trip is slow on a small VM); problems
  // are still listed in a fixed order (report.ts).
  const [states, health, expires, caExpires, configYaml, modeProblems, storages, lastBackup] = await allInOrder([
    look.unitStates(ALL_UNITS),
    look.health({ hostname: spec.hostname, port: spec.port }, spec.tls.kind, layout),
    // A file that is not a certificate is a problem status reports, not a failure of status itself.
    look.readFile(layout.sslCert).then(pem => pem === undefined ? undefined : certExpiry(pem)).catch((err: unknown) => err instanceof Error ? err : new Error(String(err))),
    // Clients check mreg's CA as well: its end is the registry's end, whatever the certificate says.
    spec.tls.kind === 'generate' ? look.readFile(layout.caCert).then(pem => pem === undefined ? undefined : certExpiry(pem)).catch(() => undefined) : undefined,
    look.readFile(layout.configYaml),
    // Secrets at rest: quayRoot private, keys and credentials owner-only, served files not world-readable.
    look.privateModes([
      { path: layout.root, maxMode: 0o700 },
      { path: layout.credentials, maxMode: 0o600 },
      { path: layout.caKey, maxMode: 0o600 },
      { path: layout.configYaml, maxMode: 0o640 },
      { path: layout.sslKey, maxMode: 0o640 },
    ]),
    // With the local copy a migrate left: one podman process looks up every unrecorded volume.
    storageReport(look, [['quayStorage', spec.quayStorage], ['pgStorage', spec.pgStorage], ...(record.migratedFrom ? [['localCopy', record.migratedFrom] as const] : [])],
      record.volumeMountpoints),
    look.readFile(lastBackupPath(layout.root)).then(parseLastBackup).catch(() => undefined),
  ]);
  return { states, health, expires, caExpires, configYaml, modeProblems, storages, lastBackup };
}

/**
 * Where each storage lives and its free space; volumes up did not record are looked up with one podman
 * process. An object store has no free space to show: whether Quay's bucket answers to its key pair.
 */
async function storageReport(look: InspectPorts, list: ReadonlyArray<readonly [string, QuayStorage]>, recorded?: Record<string, string>) {
  const names = list.flatMap(([, s]) => s.kind === 'volume' ? [s.name] : []);
  const mounts = await look.volumeMountpoints(names, recorded).catch(() => new Map<string, string>());
  return Promise.all(list.map(async ([name, s]) => {
    if (s.kind === 's3') {
      const problem = await look.bucketProblem(s);
      return { name, kind: s.kind, location: storageText(s), space: null, reachable: problem === undefined, problem };
    }
    const location = s.kind === 'path' ? s.path : mounts.get(s.name) ?? `volume ${s.name}`;
    const space = location.startsWith('/') ? await look.space(location).catch(() => null) : null;
    return { name, kind: s.kind, location, space };
  }));
}
