// mirror-registry's Quay connected as the role "user"; mreg's units create and re-password "quay".
// Renaming the role keeps every table, owner and grant; it runs once, before mreg's Postgres starts.
import { COMPONENTS } from '../model/components.js';
import { PG_USER } from '../install-spec/defaults.js';
import type { Storage } from '../install-spec/spec.js';
import { runChecked } from '../host/exec.js';

const DATA = COMPONENTS.postgres.storage.target;
const PGDATA = `${DATA}/userdata`;

function ident(s: string): string { return `"${s.replace(/"/g, '""')}"`; }
function literal(s: string): string { return `'${s.replace(/'/g, "''")}'`; }

/**
 * SQL that renames `from` to `to` (PG_USER, or back for a rollback) unless `to` already exists (a
 * re-run after a partial adopt).
 */
export function renameRoleSql(from: string, to = PG_USER): string {
  return `DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(from)})
     AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(to)}) THEN
    ALTER ROLE ${ident(from)} RENAME TO ${ident(to)};
  END IF;
END $$;
`;
}

/**
 * Start the server socket-only (as the sclorg image's own start-up does), run stdin's SQL, stop it cleanly.
 * sclorg's first start appended `include '$HOME/openshift-custom-postgresql.conf'` to postgresql.conf, and
 * only its run-postgresql writes that file, into the container's own layer: a new container has none, and
 * PostgreSQL refuses to start on a missing include. An empty one stands in (settings from the command line).
 */
const SCRIPT = `set -e
sed -n "s/^include '\\(.*\\)'$/\\1/p" ${PGDATA}/postgresql.conf | while read -r f; do [ -e "$f" ] || : > "$f"; done
pg_ctl -D ${PGDATA} -w -s -o "-c listen_addresses= -c unix_socket_directories=/tmp" start
rc=0
psql -X -q -v ON_ERROR_STOP=1 -h /tmp -U postgres -d postgres || rc=$?
pg_ctl -D ${PGDATA} -w -s -m fast stop
exit $rc`;

/**
 * podman run argv (no secrets: the SQL goes on stdin and names roles only). `relabel` false: mreg
 * labelled the path for SELinux already, and :Z would give it this container's private categories.
 */
export function renameRoleArgs(image: string, storage: Storage, relabel = true): string[] {
  const mount = storage.kind === 'volume' ? `${storage.name}:${DATA}` : `${storage.path}:${DATA}:${relabel ? 'Z,U' : 'U'}`;
  return ['run', '--rm', '-i', '--name', 'mreg-adopt-pg-role', '--net', 'none', '--user', '26',
    '--entrypoint', 'sh', '-v', mount, image, '-c', SCRIPT];
}

export async function renamePgRole(image: string, storage: Storage, from: string, opts: { relabel: boolean; log?: (l: string) => void; to?: string }): Promise<void> {
  const to = opts.to ?? PG_USER;
  if (from === to) return;
  await runChecked('podman', renameRoleArgs(image, storage, opts.relabel), {
    input: renameRoleSql(from, to), log: opts.log, what: `renaming the Postgres role "${from}" to "${to}"`,
    hint: 'the old data is untouched; see the message above, fix it and run mreg adopt again',
  });
}
