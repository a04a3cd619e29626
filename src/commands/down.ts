// mreg down: stop the units (app, redis, postgres, then the pod), remove exactly what mreg made.
// Data (volumes, storage paths, quayRoot) is kept unless --purge, which asks unless --yes.
import { createInterface } from 'node:readline/promises';
import type { CommandContext } from '../cli.js';
import { UnitFailedError, UsageError } from '../errors.js';
import { findInstall } from '../apply/install-lookup.js';
import { gatherFacts } from '../host/facts.js';
import { createPodman } from '../host/podman.js';
import { disableLinger } from '../host/linger.js';
import { connectSystemd } from '../host/systemd.js';
import { removeIfExists, writeFileAtomic } from '../host/fs.js';
import { serializeRecord, type InstallRecord } from '../spec/record.js';
import { journalTail } from '../host/journal.js';
import { giveBackDir } from '../host/storage.js';
import { pointerPath } from '../model/scope.js';
import { CONTAINER_NAMES, STOP_ORDER } from '../model/views.js';
import { COMPONENTS } from '../model/components.js';
import { systemFolderProblem, type TakenDir } from '../spec/taken-dirs.js';
import { lockScope, runOnTarget } from './common.js';

export async function down(ctx: CommandContext): Promise<void> {
  const { out, flags } = ctx;
  const askFirst = Boolean(flags.purge) && !(flags.yes || flags.autoApprove);
  // Another host: a --purge is confirmed here (ssh has no terminal for the question), then runs there with --yes.
  if (await runOnTarget('down', ctx, askFirst ? { confirm: host => confirmPurge(ctx, [`the registry's quayRoot and storage on ${host}`]) } : {})) return;
  const probe = await gatherFacts({ env: ctx.env });
  const { layout, record } = await findInstall(flags, probe.scope, probe.home);
  const purge = Boolean(flags.purge);
  const yes = Boolean(flags.yes || flags.autoApprove);
  const storages = [record.spec.quayStorage, record.spec.pgStorage];
  const dataList = [
    layout.root,
    ...storages.map(s => (s.kind === 'volume' ? `podman volume ${s.name}` : s.path)),
  ];
  const volumeUnits = record.volumes.map(v => `${v}-volume.service`);
  // Without --purge, what lets `mreg up` bring back the same registry stays: secrets, and the CA a
  // `mreg cert trust` installed for clients here (the CA itself is kept in quayRoot).
  const outside = record.files.filter(f => !f.startsWith(`${layout.root}/`));
  const removeFiles = purge ? outside : outside.filter(f => !isTrustFile(f));
  const keptFiles = outside.filter(f => !removeFiles.includes(f));
  const purgeDirs = purge ? purgePlan(record, layout.root, probe.home) : { give: [], keep: [] };
  const actions = [
    ...STOP_ORDER.map(u => `stop ${u}`),
    ...volumeUnits.map(u => `stop ${u}`),
    ...removeFiles.map(f => `remove ${f}`),
    'systemd Reload',
    ...(purge ? record.secrets.map(s => `remove podman secret ${s}`) : [`keep podman secrets ${record.secrets.join(', ')}`]),
    ...keptFiles.map(f => `keep ${f}`),
    ...(record.lingerEnabledByMreg ? [`disable linger for ${probe.user} (mreg enabled it)`] : []),
    ...(purge ? [...storages.flatMap(s => (s.kind === 'volume' ? [`DELETE podman volume ${s.name}`] : [])),
      ...purgeDirs.give.map(d => (d.createdFrom !== undefined ? `DELETE ${d.path}` : `EMPTY ${d.path} (it was empty when mreg took it; it stays)`)),
      ...purgeDirs.keep.map(k => `keep ${k}`)]
      : [`keep ${dataList.join(', ')}`]),
  ];
  if (flags.dryRun) {
    if (out.json) out.resultJson({ dryRun: true, actions });
    else { actions.forEach((a, i) => out.result(`${i + 1}. ${a}`)); out.info('dry run: nothing was changed'); }
    return;
  }
  if (record.removedAt && !purge) {
    if (out.json) out.resultJson({ removed: true, purged: false, kept: dataList });
    else out.result(`mreg: the registry was already removed on ${record.removedAt}; data kept: ${dataList.join(', ')}`);
    return;
  }
  if (purge && !yes) await confirmPurge(ctx, dataList);

  const release = await lockScope(probe);
  const systemd = await connectSystemd(probe.scope, ctx.env);
  const podman = createPodman({ verbose: out.verbose, log: out.debug });
  try {
    await out.step('stop units', async () => {
      for (const unit of [...STOP_ORDER, ...volumeUnits]) {
        const result = await systemd.stopUnit(unit);
        if (result !== 'done' && result !== 'skipped') {
          throw new UnitFailedError(unit, result, await journalTail(unit, probe.scope), 'fix the cause and run mreg down again');
        }
        await systemd.resetFailed(unit);
      }
    });
    await out.step(purge ? 'remove units and secrets' : 'remove units', async () => {
      for (const f of removeFiles) await removeIfExists(f);
      await systemd.reload();
      // The units' stop commands remove containers and the pod; these catch leftovers of a crash.
      for (const c of CONTAINER_NAMES) await podman.containerRemove(c);
      await podman.podRemove(COMPONENTS.pod.podmanName);
      if (purge) for (const s of record.secrets) await podman.secretRemove(s);
    });
    if (record.lingerEnabledByMreg) await out.step('disable linger (mreg enabled it)', () => disableLinger(probe.uid));
    if (purge) {
      await out.step('delete data (--purge)', async () => {
        for (const s of storages) if (s.kind === 'volume') await podman.volumeRemove(s.name);
        for (const d of purgeDirs.give) await giveBackDir(d, probe.scope, probe);
        for (const k of purgeDirs.keep) out.warn(`kept ${k}`);
        await removeIfExists(pointerPath(probe.scope, probe.home));
      });
    } else {
      // Kept, marked removed: `mreg down --purge` can still find the data, `mreg up` can reuse it.
      const removed: InstallRecord = { ...record, lingerEnabledByMreg: false, removedAt: new Date().toISOString() };
      await writeFileAtomic(layout.record, serializeRecord(removed), 0o600);
    }
  } finally {
    await systemd.close();
    await release();
  }
  const kept = purge ? 'all data deleted' : `data kept: ${dataList.join(', ')} (delete with: mreg down --purge --yes${flags.quayRoot ? ` --quayRoot ${layout.root}` : ''})`;
  if (out.json) out.resultJson({ removed: true, purged: purge, kept: purge ? [] : dataList });
  else out.result(`mreg: registry removed; ${kept}`);
}

async function confirmPurge(ctx: CommandContext, dataList: string[]): Promise<void> {
  if (!ctx.stdin.isTTY) {
    throw new UsageError('--purge deletes all mirrored images and the registry database; add --yes to confirm when not on a terminal');
  }
  const rl = createInterface({ input: ctx.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Delete ${dataList.join(', ')} and every mirrored image in them? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('--purge not confirmed; nothing was changed');
  } finally {
    rl.close();
  }
}

/** A CA file `mreg cert trust` installed for podman, skopeo and buildah (certs.d/HOST:PORT/ca.crt). */
function isTrustFile(file: string): boolean {
  return file.includes('/containers/certs.d/');
}

/**
 * What --purge deletes of quayRoot and bind storage: the folders mreg recorded taking, given back as
 * taken. An install recorded before mreg kept that list loses its folders whole, except a system folder.
 */
function purgePlan(record: InstallRecord, root: string, home: string): { give: TakenDir[]; keep: string[] } {
  const paths = [root, ...[record.spec.quayStorage, record.spec.pgStorage].flatMap(s => (s.kind === 'path' ? [s.path] : []))];
  const give: TakenDir[] = [];
  const keep: string[] = [];
  for (const path of paths) {
    const taken = record.takenDirs ? record.takenDirs.find(d => d.path === path) : (systemFolderProblem(path, home) ? undefined : { path, createdFrom: path });
    if (taken) give.push(taken);
    else keep.push(`${path} (mreg did not create it, so --purge leaves it)`);
  }
  return { give, keep };
}
