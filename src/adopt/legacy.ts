// mirror-registry 1.2/1.3 as found on disk: its plain `podman run` units and its config.yaml, parsed. Pure.
// We read what the old install actually ran (not its documented defaults): users edited these files.

/** One mount from a `-v SRC:DST[:OPTS]` flag. */
export interface LegacyMount { source: string; target: string; options: string }

/** What one legacy unit's ExecStart ran. */
export interface LegacyRun {
  /** `run` for containers, `pod create` for the pod unit. */
  verb: 'run' | 'pod create';
  name?: string;
  image?: string;
  mounts: LegacyMount[];
  env: Record<string, string>;
  /** `--secret NAME,type=env,target=VAR` → { NAME: VAR } */
  secrets: Record<string, string>;
  /** Host port published to container port 8443 (pod unit). */
  publishedPort?: number;
  /** `--infra-image` of the pod unit (mirror-registry 1.3: registry.access.redhat.com/ubi8/pause). */
  infraImage?: string;
}

/** Joins backslash-continued lines and returns every ExecStart= value of the [Service] section. */
export function execStarts(unitText: string): string[] {
  const joined = unitText.replace(/\\\r?\n/g, ' ');
  const out: string[] = [];
  let section = '';
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) { section = line; continue; }
    const m = /^ExecStart\s*=\s*(.*)$/.exec(line);
    if (m && section === '[Service]' && m[1]) out.push(m[1]);
  }
  return out;
}

/** systemd's command-line splitting: whitespace-separated words, '…' and "…" quoting, \-escapes in "…". */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"' || c === "'") {
      inWord = true;
      for (i++; i < line.length && line[i] !== c; i++) {
        if (c === '"' && line[i] === '\\' && i + 1 < line.length) i++;
        cur += line[i];
      }
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = ''; inWord = false;
    } else {
      if (c === '\\' && i + 1 < line.length) i++;
      cur += line[i]; inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

// Flags that take no value; every other `--flag` without '=' is taken to consume the next word,
// which is what podman run's own parser does for the flags mirror-registry writes.
const BOOLEAN_FLAGS = new Set(['--replace', '-d', '--detach', '--rm', '--read-only', '--privileged', '-i', '-t',
  '--interactive', '--tty', '--init', '-it', '--no-hosts', '--quiet', '-q']);

/** Parses one `podman run …` or `podman pod create …` line; undefined when it is neither (ExecStartPre lines etc.). */
export function parsePodmanLine(line: string): LegacyRun | undefined {
  const words = splitWords(line.replace(/^[-@+!:]+/, ''));
  const podman = words.findIndex(w => /(^|\/)podman$/.test(w));
  if (podman < 0) return undefined;
  let i = podman + 1;
  let verb: LegacyRun['verb'];
  if (words[i] === 'run') { verb = 'run'; i++; }
  else if (words[i] === 'pod' && words[i + 1] === 'create') { verb = 'pod create'; i += 2; }
  else if (words[i] === 'container' && words[i + 1] === 'run') { verb = 'run'; i += 2; }
  else return undefined;
  const run: LegacyRun = { verb, mounts: [], env: {}, secrets: {} };
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-')) { run.image = w; break; }
    if (BOOLEAN_FLAGS.has(w)) continue;
    const eq = w.indexOf('=');
    const flag = w.startsWith('--') && eq > 0 ? w.slice(0, eq) : w;
    const value = w.startsWith('--') && eq > 0 ? w.slice(eq + 1) : words[++i] ?? '';
    switch (flag) {
      case '--name': run.name = value; break;
      case '--infra-image': run.infraImage = value; break;
      case '-v': case '--volume': {
        const [source = '', target = '', ...opts] = value.split(':');
        run.mounts.push({ source, target, options: opts.join(':') });
        break;
      }
      case '-e': case '--env': {
        const k = value.indexOf('=');
        if (k > 0) run.env[value.slice(0, k)] = value.slice(k + 1);
        break;
      }
      case '--secret': {
        const [name = '', ...opts] = value.split(',');
        const target = opts.find(o => o.startsWith('target='))?.slice('target='.length) ?? name;
        run.secrets[name] = target;
        break;
      }
      case '-p': case '--publish': {
        // [ip:]hostPort:containerPort[/proto]; mirror-registry publishes only Quay's 8443.
        const parts = value.replace(/\/\w+$/, '').split(':');
        const container = parts.pop();
        const host = Number(parts.pop());
        if (container === '8443' && Number.isInteger(host) && host > 0) run.publishedPort = host;
        break;
      }
      default: break;
    }
  }
  return run;
}

/** The first podman line of a unit file. */
export function parseLegacyUnit(unitText: string): LegacyRun | undefined {
  for (const line of execStarts(unitText)) {
    const r = parsePodmanLine(line);
    if (r) return r;
  }
  return undefined;
}

/** The values of config.yaml mreg must carry over: Quay encrypts DB fields with DATABASE_SECRET_KEY. */
export interface LegacyConfig {
  serverHostname?: string;
  secretKey?: string;
  databaseSecretKey?: string;
  dbUri?: string;
  redisPassword?: string;
}

/** One YAML scalar as mirror-registry's templates write them: bare, '…' or "…", maybe with a # comment. */
export function yamlScalar(raw: string): string {
  const v = raw.trim();
  if (v.startsWith("'")) {
    const end = v.lastIndexOf("'");
    return v.slice(1, end > 0 ? end : undefined).replace(/''/g, "'");
  }
  if (v.startsWith('"')) {
    const end = v.lastIndexOf('"');
    const body = v.slice(0, end > 0 ? end + 1 : undefined);
    try { return JSON.parse(body) as string; } catch { return body.slice(1, -1); }
  }
  return v.replace(/\s+#.*$/, '');
}

/**
 * Reads the few keys we need without a YAML library: top-level scalars, and BUILDLOGS_REDIS.password
 * as a block map (mirror-registry's template) or a flow map (mreg's and hand-edited files).
 */
export function parseLegacyConfig(yaml: string): LegacyConfig {
  const top = (key: string): string | undefined => {
    const m = new RegExp(`^${key}:[ \\t]*(\\S.*)$`, 'm').exec(yaml);
    return m?.[1] !== undefined ? yamlScalar(m[1]) : undefined;
  };
  const cfg: LegacyConfig = {};
  const set = <K extends keyof LegacyConfig>(k: K, v: string | undefined) => { if (v !== undefined && v !== '') cfg[k] = v; };
  set('serverHostname', top('SERVER_HOSTNAME'));
  set('secretKey', top('SECRET_KEY'));
  set('databaseSecretKey', top('DATABASE_SECRET_KEY'));
  set('dbUri', top('DB_URI'));
  const block = /^BUILDLOGS_REDIS:[ \t]*\n((?:[ \t]+.*\n?)*)/m.exec(yaml);
  if (block?.[1]) {
    const pw = /^[ \t]+password:[ \t]*(\S.*)$/m.exec(block[1]);
    if (pw?.[1]) set('redisPassword', yamlScalar(pw[1]));
  } else {
    const flow = /^BUILDLOGS_REDIS:[ \t]*\{(.*)\}/m.exec(yaml);
    const pw = flow?.[1] ? /(?:^|,)\s*["']?password["']?\s*:\s*("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^,}]*)/.exec(flow[1]) : undefined;
    if (pw?.[1]) set('redisPassword', yamlScalar(pw[1]));
  }
  return cfg;
}

/** user and password of a postgresql:// DB_URI (percent-decoded). */
export function dbCredentials(dbUri: string): { user?: string; password?: string } {
  try {
    const u = new URL(dbUri);
    if (!/^postgres(ql)?:$/.test(u.protocol)) return {};
    return { user: decodeURIComponent(u.username) || undefined, password: decodeURIComponent(u.password) || undefined };
  } catch {
    return {};
  }
}
