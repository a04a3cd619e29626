// Podman port: the podman CLI through execa argv arrays; secret values never appear in argv.
import * as path from 'node:path';
import { open } from 'node:fs/promises';
import { loadExeca } from './execa.js';
import { HostError } from '../errors.js';
import { PODMAN_SUPPORT } from '../plan/compat.js';
import type { Scope } from '../install-spec/spec.js';
import { commandFailed, isCommandMissing, runChecked, runCommand, tailLines, type RunResult } from './exec.js';
import { listFiles, pathExists } from './fs.js';
import { learnSecretStore, readSecretStore, type InspectedSecret } from './secret-store.js';

export interface QuadletDryRun {
  /** True when the generator exited 0, reported no error and produced a unit for every input file. */
  ok: boolean;
  /** The generator's stderr plus a line per input file that produced no unit; for the user. */
  output: string;
  /** Generated units by name (`quay-pod.service` → unit text), parsed from the `---name---` blocks. */
  units: Record<string, string>;
}

/** Secret values by name, and the folder of podman's files they can be read from next time, when known. */
export interface StoredSecrets { values: Map<string, string>; store?: string }

export interface Podman {
  /** `podman --version` as [major, minor, patch]; undefined when podman is not installed. */
  version(): Promise<[number, number, number] | undefined>;
  /** `podman load -i archive`; resolves with the image names it reported. */
  load(archive: string): Promise<string[]>;
  /** `tar -xOf archive member | podman image import --change … - name`: a root filesystem tar made an image. */
  importImage(archive: string, member: string, name: string, changes: readonly string[]): Promise<void>;
  imageExists(ref: string): Promise<boolean>;
  /** The refs podman does not hold: one `image inspect` of all of them, and only when that fails one `image exists` each. */
  missingImages(refs: readonly string[]): Promise<string[]>;
  secretExists(name: string): Promise<boolean>;
  /** `podman secret create [--replace] --env NAME VAR`: the value travels in the child's environment, never argv. */
  secretCreate(name: string, value: string, opts?: { replace?: boolean }): Promise<void>;
  /** The stored value (`secret inspect --showsecret`); undefined when the secret does not exist. */
  secretValue(name: string): Promise<string | undefined>;
  /** Stored values by name from one `secret inspect --showsecret`; names podman does not hold are absent. */
  secretValues(names: readonly string[]): Promise<Map<string, string>>;
  /**
   * The same values, read from podman's files in `store` (a folder learnSecretStore confirmed) when they
   * hold every name, else from `secret inspect`; `store` is the folder to use next time, when known.
   */
  storedSecrets(names: readonly string[], store?: string): Promise<StoredSecrets>;
  /** The remove calls treat a missing object as already removed. */
  secretRemove(name: string): Promise<void>;
  volumeExists(name: string): Promise<boolean>;
  volumeRemove(name: string): Promise<void>;
  podRemove(name: string): Promise<void>;
  /** One `podman rm --force --ignore` for all of `names` (a podman process costs about a second under emulation). */
  containersRemove(names: readonly string[]): Promise<void>;
  /** `podman exec [-i] CONTAINER argv…`; rejects with HostError on a non-zero exit. */
  exec(container: string, argv: string[], opts?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
  /** `podman exec CONTAINER argv…` with stdout streamed into `file`, created 0600 (it must not exist). */
  execToFile(container: string, argv: string[], file: string): Promise<void>;
  /** `podman exec -i CONTAINER argv…` with `file` streamed to its stdin. */
  execFromFile(container: string, argv: string[], file: string): Promise<void>;
  /**
   * Runs Quadlet's generator on `dir` only (QUADLET_UNIT_DIRS) in dry-run mode. Resolves with ok=false
   * (not a rejection) for bad units; rejects with HostError when the generator is not installed.
   */
  quadletDryRun(dir: string, scope: Scope): Promise<QuadletDryRun>;
}

const QUADLET_BINARIES = ['/usr/libexec/podman/quadlet', '/usr/lib/podman/quadlet'];
const QUADLET_INPUTS = new Set(['.container', '.pod', '.volume', '.network', '.kube', '.image', '.build', '.artifact']);
const SECRET_ENV = 'MREG_SECRET_VALUE';
const NOT_FOUND = /no such (secret|volume|pod|container|image)/i;

/** Parses "podman version 5.4.2" (or "5.2.0-rc1", "5.4.2-dev") into numbers. */
export function parsePodmanVersion(text: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** Image names from `podman load` output ("Loaded image: x" or the older "Loaded image(s): x,y"). */
export function parseLoadedImages(stdout: string): string[] {
  const names: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^Loaded image(?:\(s\))?:\s*(.+)$/.exec(line.trim());
    if (m?.[1]) names.push(...m[1].split(',').map((s) => s.trim()).filter(Boolean));
  }
  return names;
}

/**
 * Values by name from `podman secret inspect --showsecret` JSON (an array of { Spec: { Name }, SecretData }),
 * and those entries as printed (for learnSecretStore); only entries named in `names` (podman also matches
 * ID prefixes). Undefined when stdout is not such an array.
 */
export function parseSecretInspect(stdout: string, names: readonly string[]): { values: Map<string, string>; items: InspectedSecret[] } | undefined {
  let list: unknown;
  try { list = JSON.parse(stdout); } catch { return undefined; }
  if (!Array.isArray(list)) return undefined;
  const values = new Map<string, string>();
  const items: InspectedSecret[] = [];
  for (const item of list as Array<InspectedSecret & { SecretData?: unknown }>) {
    const name = item?.Spec?.Name;
    if (typeof name !== 'string' || !names.includes(name)) continue;
    values.set(name, typeof item.SecretData === 'string' ? item.SecretData : '');
    items.push(item);
  }
  return { values, items };
}

/** Splits `quadlet -dryrun` stdout into units: blocks headed `---name.service---`. */
export function parseDryRunUnits(stdout: string): Record<string, string> {
  const units: Record<string, string> = {};
  let name: string | undefined;
  let body: string[] = [];
  const flush = () => { if (name) units[name] = body.join('\n').trim() + '\n'; };
  for (const line of stdout.split('\n')) {
    const m = /^---(.+)---$/.exec(line);
    if (m?.[1]) { flush(); name = m[1]; body = []; } else body.push(line);
  }
  flush();
  return units;
}

/**
 * The service Quadlet names after an input file (quadlet.go's replaceExtension): `x.container` and
 * `x.kube` give `x.service`, the other kinds `x-<kind>.service`. Needed because podman 4.9's volume
 * and network units carry no SourcePath= (v4.9.4 pkg/systemd/quadlet/quadlet.go ConvertVolume).
 */
export function quadletServiceName(file: string): string {
  const ext = path.extname(file);
  const base = path.basename(file, ext);
  return ext === '.container' || ext === '.kube' ? `${base}.service` : `${base}-${ext.slice(1)}.service`;
}

/** The dry-run verdict: exit status, error lines on stderr, and a unit made from each input (by SourcePath= or by name). */
export function judgeDryRun(res: RunResult, inputs: readonly string[]): QuadletDryRun {
  const units = parseDryRunUnits(res.stdout);
  const sources = new Set(Object.values(units).flatMap((u) => [...u.matchAll(/^SourcePath=(.+)$/gm)].map((m) => m[1])));
  const made = (f: string) => sources.has(f) || (quadletServiceName(f) in units && !/^SourcePath=/m.test(units[quadletServiceName(f)]!));
  const missing = inputs.filter((f) => !made(f)).map((f) => `${path.basename(f)}: the generator produced no unit (skipped; see the lines above)`);
  const errors = tailLines(res.stderr, 200).filter((l) => /unsupported key|error|converting "/i.test(l));
  const ok = res.exitCode === 0 && errors.length === 0 && missing.length === 0;
  return { ok, output: [...tailLines(res.stderr, 200), ...missing].join('\n'), units };
}

/** Creates the podman port. `log` gets each command line when `verbose` (never a secret: argv holds none). */
export function createPodman(opts: { verbose?: boolean; log?: (line: string) => void } = {}): Podman {
  const log = opts.verbose ? opts.log : undefined;
  const podman = (args: string[]) => runChecked('podman', args, { log, what: `podman ${args[0]} ${args[1] ?? ''}`.trim() });

  /** `podman X exists NAME`: exit 0 yes, 1 no, anything else is an error. */
  async function exists(args: string[]): Promise<boolean> {
    const res = await runCommand('podman', args, { log });
    if (res.exitCode === 0 || res.exitCode === 1) return res.exitCode === 0;
    throw commandFailed('podman', args, res);
  }

  async function removeIgnoringMissing(args: string[]): Promise<void> {
    const res = await runCommand('podman', args, { log });
    if (res.exitCode !== 0 && !NOT_FOUND.test(res.stderr)) throw commandFailed('podman', args, res);
  }

  async function secretValues(names: readonly string[]): Promise<Map<string, string>> {
    return (await inspectSecrets(names)).values;
  }

  async function inspectSecrets(names: readonly string[]): Promise<{ values: Map<string, string>; items: InspectedSecret[] }> {
    if (names.length === 0) return { values: new Map(), items: [] };
    // Default output is JSON, exact bytes. With some names missing podman still prints the found
    // ones, then exits non-zero with "no such secret" (cmd/podman/secrets/inspect.go, 4.x and 5.x).
    const args = ['secret', 'inspect', '--showsecret', ...names];
    const res = await runCommand('podman', args, { log });
    const isMissing = res.exitCode !== 0 && NOT_FOUND.test(res.stderr);
    if (res.exitCode !== 0 && !isMissing) throw commandFailed('podman', args, res);
    const parsed = parseSecretInspect(res.stdout, names);
    if (parsed) return parsed;
    if (!isMissing) throw new HostError(`podman ${args.join(' ')} printed no JSON array`);
    if (names.length === 1) return { values: new Map(), items: [] };
    // A podman that printed nothing because one was missing: ask one name at a time.
    const each = await Promise.all(names.map((n) => inspectSecrets([n])));
    return { values: new Map(each.flatMap((r) => [...r.values])), items: each.flatMap((r) => r.items) };
  }

  return {
    async version() {
      try {
        const res = await runCommand('podman', ['--version'], { log });
        return res.exitCode === 0 ? parsePodmanVersion(res.stdout) : undefined;
      } catch (err) {
        if (isCommandMissing(err)) return undefined;
        throw new HostError('cannot run podman --version', undefined, { cause: err });
      }
    },
    async load(archive) {
      // `-`: podman load without --input copies its stdin (a pipe, e.g. from ssh) to a temp file itself.
      const res = archive === '-'
        ? await runChecked('podman', ['load'], { log, what: 'podman load', stdin: 'inherit' })
        : await podman(['load', '--input', archive]);
      return parseLoadedImages(res.stdout);
    },
    async importImage(archive, member, name, changes) {
      const args = ['image', 'import', ...changes.flatMap(c => ['--change', c]), '-', name];
      log?.(`$ tar -xOf ${archive} ${member} | podman ${args.join(' ')}`);
      const { execa } = await loadExeca();
      const res = await execa('tar', ['-xOf', archive, member], { reject: false, buffer: { stdout: false }, env: { LC_ALL: 'C' } })
        .pipe('podman', args, { reject: false, env: { LC_ALL: 'C' } });
      const failed = [res, ...(res.pipedFrom ?? [])].find(r => r.exitCode !== 0);
      if (failed) {
        throw new HostError(`importing ${member} from ${archive} as ${name} failed (${failed.command.split(' ')[0]} exited ${failed.exitCode})\n${tailLines(String(failed.stderr ?? '')).map(l => `  ${l}`).join('\n')}`);
      }
    },
    imageExists: (ref) => exists(['image', 'exists', ref]),
    async missingImages(refs) {
      // Under emulation each podman process costs about a second: the usual answer (all there) takes one.
      if (refs.length === 0 || (await runCommand('podman', ['image', 'inspect', '--format', '{{.Id}}', ...refs], { log })).exitCode === 0) return [];
      const found = await Promise.all(refs.map((ref) => exists(['image', 'exists', ref])));
      return refs.filter((_, i) => !found[i]);
    },
    secretExists: (name) => exists(['secret', 'exists', name]),
    async secretCreate(name, value, o) {
      // Not `-` on stdin: podman requires a FIFO there and Node's stdio pipes are socketpairs
      // ("if `-` is used, data must be passed into stdin"). The environment is private to the
      // user (unlike argv in ps), the same trust domain as podman's own secret store.
      const args = ['secret', 'create', ...(o?.replace ? ['--replace'] : []), '--env', name, SECRET_ENV];
      await runChecked('podman', args, { env: { [SECRET_ENV]: value }, log, what: `podman secret create ${name}` });
    },
    secretValue: async (name) => (await secretValues([name])).get(name),
    secretValues,
    async storedSecrets(names, store) {
      const read = store ? await readSecretStore(store, names) : undefined;
      if (read) {
        log?.(`# podman secrets read from ${store}`);
        return { values: read, store };
      }
      const { values, items } = await inspectSecrets(names);
      return { values, store: await learnSecretStore(items, values) };
    },
    secretRemove: (name) => removeIgnoringMissing(['secret', 'rm', name]),
    volumeExists: (name) => exists(['volume', 'exists', name]),
    volumeRemove: (name) => removeIgnoringMissing(['volume', 'rm', name]),
    podRemove: (name) => removeIgnoringMissing(['pod', 'rm', '--force', name]),
    containersRemove: async (names) => { if (names.length > 0) await removeIgnoringMissing(['rm', '--force', '--ignore', ...names]); },
    async exec(container, argv, o) {
      const args = ['exec', ...(o?.input !== undefined ? ['--interactive'] : []), container, ...argv];
      const res = await runChecked('podman', args, { input: o?.input, log, what: `podman exec in ${container}` });
      return { stdout: res.stdout, stderr: res.stderr };
    },
    async execToFile(container, argv, file) {
      await (await open(file, 'wx', 0o600)).close(); // made 0600 here; the stream below only writes into it
      await runChecked('podman', ['exec', container, ...argv], { outputFile: file, log, what: `podman exec in ${container}` });
    },
    async execFromFile(container, argv, file) {
      await runChecked('podman', ['exec', '--interactive', container, ...argv], { inputFile: file, log, what: `podman exec in ${container}` });
    },
    async quadletDryRun(dir, scope) {
      let bin: string | undefined;
      for (const b of QUADLET_BINARIES) if (await pathExists(b)) { bin = b; break; }
      if (!bin) throw new HostError(`Quadlet's generator was not found (${QUADLET_BINARIES.join(', ')})`, `install podman (dnf install podman); mreg needs ${PODMAN_SUPPORT}`);
      const abs = path.resolve(dir);
      const inputs = (await listFiles(abs)).filter((f) => QUADLET_INPUTS.has(path.extname(f)));
      const args = ['-dryrun', ...(scope === 'rootless' ? ['-user'] : [])];
      const res = await runCommand(bin, args, { log, env: { QUADLET_UNIT_DIRS: abs } });
      return judgeDryRun(res, inputs);
    },
  };
}
