// podman's secrets read from its own files (issue 19): `podman secret inspect` is a podman process, about
// a second under the test VM's emulation, and a re-run of up asks it only to learn values it already made.
// The layout is containers/common pkg/secrets (vendored alike in podman 4.9.4 and 5.x): `secrets.json` in
// GRAPHROOT/secrets maps names to IDs and names each secret's driver; the "file" driver keeps the values,
// as JSON base64 of the bytes, in `secretsdata.json` under the folder its `path` option names. podman
// writes both in place (os.WriteFile) under its own lock, which a reader cannot take: any read that does
// not parse, or that lacks a name, answers "cannot tell" and the caller asks podman itself.
import path from 'node:path';
import { readFile } from 'node:fs/promises';

interface SecretsDb {
  nameToID?: Record<string, unknown>;
  secrets?: Record<string, { driver?: unknown; driverOptions?: { path?: unknown } } | undefined>;
}

/** One secret as `podman secret inspect` prints it (entities.SecretInfoReport). */
export interface InspectedSecret {
  ID?: unknown;
  Spec?: { Name?: unknown; Driver?: { Name?: unknown; Options?: { path?: unknown } } };
}

const DATA_FILE = 'secretsdata.json';
const DB_FILE = 'secrets.json';

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8')) as unknown;
}

/**
 * The values of every one of `names` from the store in `dir` (GRAPHROOT/secrets); undefined when any name
 * is missing, held by another driver, or a file does not read as podman writes it.
 */
export async function readSecretStore(dir: string, names: readonly string[]): Promise<Map<string, string> | undefined> {
  try {
    const db = (await readJson(path.join(dir, DB_FILE))) as SecretsDb;
    const dataFiles = new Map<string, Promise<unknown>>();
    const values = new Map<string, string>();
    for (const name of names) {
      const id = db.nameToID?.[name];
      if (typeof id !== 'string') return undefined;
      const secret = db.secrets?.[id];
      const folder = secret?.driverOptions?.path;
      if (secret?.driver !== 'file' || typeof folder !== 'string' || !path.isAbsolute(folder)) return undefined;
      const file = path.join(folder, DATA_FILE);
      if (!dataFiles.has(file)) dataFiles.set(file, readJson(file));
      const encoded = ((await dataFiles.get(file)) as Record<string, unknown> | null)?.[id];
      if (typeof encoded !== 'string') return undefined;
      values.set(name, Buffer.from(encoded, 'base64').toString('utf8'));
    }
    return values;
  } catch {
    return undefined;
  }
}

/**
 * The store folder podman used for `inspected` (the "file" driver's default path is GRAPHROOT/secrets/
 * filedriver, abi SecretCreate), confirmed by reading it back: only a folder whose files give exactly the
 * values podman printed is returned. A driver path set in containers.conf, or any other driver: undefined.
 */
export async function learnSecretStore(inspected: readonly InspectedSecret[], values: ReadonlyMap<string, string>): Promise<string | undefined> {
  if (inspected.length === 0 || inspected.length !== values.size) return undefined;
  const folders = new Set(inspected.map(s => (s.Spec?.Driver?.Name === 'file' ? s.Spec.Driver.Options?.path : undefined)));
  const [folder] = folders;
  if (folders.size !== 1 || typeof folder !== 'string' || path.basename(folder) !== 'filedriver') return undefined;
  const dir = path.dirname(folder);
  const read = await readSecretStore(dir, [...values.keys()]);
  if (!read || [...values].some(([name, value]) => read.get(name) !== value)) return undefined;
  return dir;
}
