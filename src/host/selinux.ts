// Gives bind-mounted storage its SELinux label once (plan/selinux.ts says which paths and which label)
// and remembers it, so a later up or upgrade costs one stat per path instead of a tree walk.
import { CONTAINER_FILE_LABEL, hasContainerFileLabel, labelCommand } from '../plan/selinux.js';
import type { Scope } from '../install-spec/spec.js';
import { commandFailed, runCommand, type RunResult } from './exec.js';
import { readIfExists, writeFileAtomic } from './fs.js';

/** 'unsupported': the file system keeps no SELinux labels (NFS without labelled NFS); nothing was changed. */
export type LabelOutcome = 'labelled' | 'already' | 'unsupported';

/** How commands run: runCommand, or a test's stand-in. */
export type RunCommand = (file: string, args: readonly string[]) => Promise<RunResult>;

/**
 * Labels `path` and everything under it container_file_t:s0, unless `marker` lists the path and its
 * top folder still has that label. The top label alone proves nothing (chcon's order is unspecified
 * and a run may be killed half-way), so the path joins the marker only after chcon succeeded.
 * Resolves with what it did; rejects with HostError naming the path and the command that failed.
 */
export async function labelForContainers(path: string, scope: Scope, marker: string, run: RunCommand = runCommand): Promise<LabelOutcome> {
  const listed = (await readIfExists(marker) ?? '').split('\n').filter(l => l !== '');
  if (listed.includes(path)) {
    const st = await run('stat', ['-c', '%C', '--', path]);
    if (st.exitCode === 0 && hasContainerFileLabel(st.stdout)) return 'already';
  }
  // The top folder first: without labels on the file system this fails once, not once per file.
  // podman 5 also ignores ENOTSUP when it relabels for :Z, so such storage is mounted as before.
  const top = labelCommand(path, scope, false);
  let res = await run(top[0]!, top.slice(1));
  if (res.exitCode !== 0 && /Operation not supported/i.test(res.stderr)) return 'unsupported';
  const tree = labelCommand(path, scope);
  if (res.exitCode === 0) res = await run(tree[0]!, tree.slice(1));
  if (res.exitCode !== 0) {
    throw commandFailed(tree[0]!, tree.slice(1), res, `giving ${path} the SELinux label ${CONTAINER_FILE_LABEL}`,
      `the registry was not started on the new units; fix the cause above (a read-only or root-squashed file system?), or run \`${tree.join(' ')}\` yourself, then run mreg again`);
  }
  await writeFileAtomic(marker, `${[...listed.filter(l => l !== path), path].join('\n')}\n`, 0o644);
  return 'labelled';
}
