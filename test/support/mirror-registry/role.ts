// What mirror-registry 1.x's mirror_appliance role leaves on a host, task by task, for install and upgrade.
// Each step names the upstream task file it follows; the templates themselves are rendered by ../jinja.ts.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { render, type Vars } from '../jinja.js';
import { RELEASES, UNIT_TEMPLATES, type Release, type ReleaseName, type TemplateName } from './releases.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../fixtures/mirror-registry/templates/', import.meta.url));

/** The host the role ran on, as Ansible saw it (ansible_user_uid, $HOME, `hostname -f`). */
export interface Host { user: string; uid: number; home: string; fqdn: string }
/** mirror-registry's own flags, spelled as on its command line; absent means its default. */
export interface Flags { quayHostname?: string; quayRoot?: string; quayStorage?: string; pgStorage?: string }
/** 1.3.11 tasks/secret-vars.yaml: community.general.random_string values, fixed here so output is stable. */
export interface Generated { secretKey: string; databaseSecretKey: string; pgdbPassword: string; redisPassword: string }

export interface RenderedFile { content: string; template: string; mode?: string }
export interface HostState {
  scope: 'rootful' | 'rootless';
  unitDir: string;
  /** quayRoot as on disk (normalised); the units may spell it with a trailing slash. */
  quayRoot: string;
  files: Map<string, RenderedFile>;
  enableLinks: Set<string>;
  directories: Map<string, { acl?: string; mode?: string }>;
  volumes: Set<string>;
  secrets: Map<string, { data: string; from: string }>;
  /** Files the role made with openssl (not rendered here; listed so adopt and leftover checks know them). */
  opensslFiles: Set<string>;
  linger: boolean;
  etcHosts?: string;
  history: string[];
}

const ETC_ROOT = '/etc/quay-install';

function template(release: Release, name: TemplateName, vars: Vars): RenderedFile {
  const rel = posix.join(release.templates[name], name);
  return { content: render(readFileSync(posix.join(TEMPLATES_DIR, rel), 'utf8'), vars), template: `templates/${rel}` };
}

/** tasks/expand-vars.yaml runs `echo {{ value }}` on the target: only a leading ~ changes. */
function shellEcho(value: string, home: string): string {
  return value === '~' ? home : value.startsWith('~/') ? home + value.slice(1) : value;
}

/** cmd/install.go and cmd/upgrade.go: --quayHostname defaults to `hostname -f`:8443; 1.3 adds a missing port. */
function quayHostname(release: Release, host: Host, flags: Flags): string {
  const name = flags.quayHostname ?? `${host.fqdn}:8443`;
  return release.appendsPort && !name.includes(':') ? `${name}:8443` : name;
}

interface RoleVars { vars: Record<string, string>; quayRoot: string; unitDir: string; scope: HostState['scope'] }

function roleVars(release: Release, host: Host, flags: Flags): RoleVars {
  const quayRootArg = flags.quayRoot ?? release.defaults.quayRoot;
  const images = { quay_image: release.images.quay, postgres_image: release.images.postgres, redis_image: release.images.redis, pause_image: release.images.pause };
  if (release.name === '1.2.9') {
    // 1.2 ran every play with become: root, /etc/systemd/system, data under quay_root.
    if (host.uid !== 0) throw new Error('mirror-registry 1.2 always installed as root');
    return { vars: { ...images, quay_hostname: quayHostname(release, host, flags), quay_root: quayRootArg },
      quayRoot: posix.normalize(quayRootArg).replace(/(.)\/$/, '$1'), unitDir: '/etc/systemd/system', scope: 'rootful' };
  }
  const expandedRoot = shellEcho(quayRootArg, host.home);
  return {
    vars: {
      ...images,
      quay_hostname: quayHostname(release, host, flags),
      expanded_quay_root: expandedRoot,
      expanded_quay_storage: shellEcho(flags.quayStorage ?? release.defaults.quayStorage!, host.home),
      expanded_pg_storage: shellEcho(flags.pgStorage ?? release.defaults.pgStorage!, host.home),
    },
    quayRoot: posix.normalize(expandedRoot).replace(/(.)\/$/, '$1'),
    // defaults/main.yml systemd_unit_dir; Ansible expands $HOME in a template dest.
    unitDir: host.uid === 0 ? '/etc/systemd/system' : posix.join(host.home, '.config/systemd/user'),
    scope: host.uid === 0 ? 'rootful' : 'rootless',
  };
}

function writeUnits(state: HostState, release: Release, rv: RoleVars): void {
  for (const [unit, name] of Object.entries(UNIT_TEMPLATES)) {
    state.files.set(posix.join(rv.unitDir, unit), template(release, name, rv.vars));
    // systemctl enable, for both targets of WantedBy=multi-user.target default.target.
    for (const target of ['default.target', 'multi-user.target']) state.enableLinks.add(posix.join(rv.unitDir, `${target}.wants`, unit));
  }
}

/** `mirror-registry install` (tasks/main.yaml and the install-*.yaml it includes), without --sslCert/--sslKey. */
export function install(name: ReleaseName, host: Host, flags: Flags, generated?: Generated): HostState {
  const release = RELEASES[name];
  const rv = roleVars(release, host, flags);
  const state: HostState = {
    scope: rv.scope, unitDir: rv.unitDir, quayRoot: rv.quayRoot, files: new Map(), enableLinks: new Set(),
    directories: new Map(), volumes: new Set(), secrets: new Map(), opensslFiles: new Set(), linger: false, history: [],
  };
  state.history.push(`mirror-registry ${name} install${describeFlags(flags)} as ${host.user} (uid ${host.uid})`);
  const root = rv.quayRoot;
  const configVars: Record<string, string> = { quay_hostname: rv.vars.quay_hostname! };
  if (release.podmanSecrets) {
    if (!generated) throw new Error(`${name} generates its secrets: the scenario needs "generated"`);
    Object.assign(configVars, { secret_key: generated.secretKey, database_secret_key: generated.databaseSecretKey,
      pgdb_password: generated.pgdbPassword, redis_password: generated.redisPassword });
    // install-postgres-service.yaml / install-redis-service.yaml: podman_secret, skip_existing.
    state.secrets.set('pgdb_pass', { data: generated.pgdbPassword, from: 'install: secret-vars.yaml pgdb_password' });
    state.secrets.set('redis_pass', { data: generated.redisPassword, from: 'install: secret-vars.yaml redis_password' });
  }
  if (name === '1.2.9') {
    // install-deps.yaml: lineinfile /etc/hosts; install-{postgres,quay}-service.yaml: dirs + ACLs under quay_root.
    const h = rv.vars.quay_hostname!;
    state.etcHosts = `127.0.0.1 ${h.includes(':') ? h.split(':')[0] : h}`;
    state.directories.set(posix.join(root, 'pg-data'), { acl: 'u:26:-wx' });
    state.directories.set(posix.join(root, 'quay-storage'), { acl: 'u:1001:-wx' });
    state.directories.set(posix.join(root, 'quay-config'), {});
  } else {
    // install-{postgres,quay}-service.yaml: an absolute storage is a directory with an ACL; the named
    // volumes are created either way (podman_volume has no `when`), so bind installs leave two unused.
    for (const [value, uid] of [[rv.vars.expanded_pg_storage!, 26], [rv.vars.expanded_quay_storage!, 1001]] as const) {
      if (value.startsWith('/')) state.directories.set(posix.normalize(value), { acl: `u:${uid}:-wx` });
    }
    state.volumes.add('pg-storage').add('quay-storage');
    state.directories.set(posix.join(root, 'quay-config'), release.podmanSecrets ? { mode: '0750' } : {});
    state.linger = host.uid !== 0;
  }
  writeUnits(state, release, rv);
  const config = template(release, 'config.yaml.j2', configVars);
  state.files.set(posix.join(root, 'quay-config/config.yaml'), release.podmanSecrets ? { ...config, mode: '0750' } : config);
  // install-quay-service.yaml "Create SSL Certs": the CA and a cert from it, chain appended; key and cert 0644.
  for (const f of ['quay-rootCA/rootCA.key', 'quay-rootCA/rootCA.pem', 'quay-rootCA/rootCA.srl', 'quay-config/openssl.cnf',
    'quay-config/ssl.csr', 'quay-config/ssl.key', 'quay-config/ssl.cert']) state.opensslFiles.add(posix.join(root, f));
  state.directories.set(posix.join(root, 'quay-rootCA'), release.podmanSecrets ? { mode: '0750' } : {});
  return state;
}

/** `mirror-registry upgrade` (tasks/upgrade.yaml): config.yaml is not re-templated, the units are. */
export function upgrade(before: HostState, name: ReleaseName, host: Host, flags: Flags): HostState {
  const release = RELEASES[name];
  if (name === '1.2.9') throw new Error('only 1.3 upgrades are rendered');
  const rv = roleVars(release, host, flags);
  const state: HostState = { ...before, files: new Map(before.files), enableLinks: new Set(before.enableLinks),
    directories: new Map(before.directories), volumes: new Set(before.volumes), secrets: new Map(before.secrets),
    opensslFiles: new Set(before.opensslFiles), history: [...before.history] };
  state.history.push(`mirror-registry ${name} upgrade${describeFlags(flags)} as ${host.user} (uid ${host.uid})`);
  if (host.uid === 0) migratePre130(state, rv, flags, release);
  if (rv.quayRoot !== state.quayRoot) throw new Error(`upgrade --quayRoot ${rv.quayRoot} does not match the install at ${state.quayRoot}`);
  state.scope = rv.scope;
  state.unitDir = rv.unitDir;
  writeUnits(state, release, rv);
  if (release.podmanSecrets) {
    // upgrade-config-vars.yaml reads the passwords back from config.yaml; skip_existing keeps older secrets.
    const config = state.files.get(posix.join(state.quayRoot, 'quay-config/config.yaml'))!.content;
    const redis = /^USER_EVENTS_REDIS:\n(?:[ \t]+.*\n)*?[ \t]+password:[ \t]*(.*)$/m.exec(config)?.[1];
    const dbUri = /^DB_URI:[ \t]*(.*)$/m.exec(config)?.[1];
    const pg = dbUri?.split('@')[0]?.split(':')[2];
    if (redis === undefined || pg === undefined) throw new Error('config.yaml lacks USER_EVENTS_REDIS.password or DB_URI');
    if (!state.secrets.has('pgdb_pass')) state.secrets.set('pgdb_pass', { data: pg, from: 'upgrade: DB_URI in config.yaml' });
    if (!state.secrets.has('redis_pass')) state.secrets.set('redis_pass', { data: redis, from: 'upgrade: USER_EVENTS_REDIS.password in config.yaml' });
  }
  return state;
}

/** tasks/migrate-pre-1_3_0.yaml: runs as root only, and only for the default names it compares against. */
function migratePre130(state: HostState, rv: RoleVars, flags: Flags, release: Release): void {
  const moves = [
    ['quay-storage', flags.quayStorage ?? release.defaults.quayStorage, 'quay-storage'],
    ['pg-data', flags.pgStorage ?? release.defaults.pgStorage, 'pg-storage'],
  ] as const;
  for (const [dir, arg, volume] of moves) {
    const old = posix.join(ETC_ROOT, dir);
    if (arg !== volume || !state.directories.has(old)) continue;
    state.directories.delete(old);
    state.volumes.add(volume);
    state.history.push(`migrate-pre-1_3_0: podman cp ${old}/. into volume ${volume}, then ${old} deleted`);
  }
  const quayRootArg = flags.quayRoot ?? release.defaults.quayRoot;
  if (quayRootArg === '~/quay-install' && state.quayRoot === ETC_ROOT) {
    relocate(state, ETC_ROOT, rv.quayRoot);
    state.history.push(`migrate-pre-1_3_0: mv ${ETC_ROOT} ${rv.quayRoot}`);
  }
}

function relocate(state: HostState, from: string, to: string): void {
  const move = (p: string) => (p === from || p.startsWith(`${from}/`) ? to + p.slice(from.length) : p);
  state.files = new Map([...state.files].map(([p, f]) => [move(p), f]));
  state.directories = new Map([...state.directories].map(([p, d]) => [move(p), d]));
  state.opensslFiles = new Set([...state.opensslFiles].map(move));
  state.quayRoot = to;
}

function describeFlags(flags: Flags): string {
  return Object.entries(flags).map(([k, v]) => ` --${k} ${v}`).join('');
}
