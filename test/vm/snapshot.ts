// Whole-guest snapshots (RAM and disk, `vm.sh save|restore`): each suite starts from a named state
// instead of cleaning up after the one before, and suites share one install instead of each paying
// its first start. `clean` is the booted guest with mreg installed (test/run.mjs saves it).
import { execa } from 'execa';
import { requireVm } from './guest.js';

async function vmsh(...args: string[]): Promise<{ exitCode: number; out: string }> {
  const r = await execa('bash', [requireVm(), ...args], { reject: false, stdin: 'ignore', all: true, timeout: 10 * 60_000 });
  return { exitCode: r.exitCode ?? -1, out: String(r.all ?? '') };
}

export async function hasSnapshot(name: string): Promise<boolean> {
  const r = await vmsh('snapshots');
  return r.exitCode === 0 && r.out.split('\n').some(l => l.trim().split(/\s+/)[1] === name);
}

export async function saveSnapshot(name: string): Promise<void> {
  const r = await vmsh('save', name);
  if (r.exitCode !== 0) throw new Error(`vm.sh save ${name} failed: ${r.out}`);
}

/** Puts the guest back to `name`; throws when there is no such snapshot. */
export async function restoreSnapshot(name: string): Promise<void> {
  // A restore drops the guest's accounting records since the last save: copy them first (test/vm/extra/pacct.mjs).
  const acct = process.env['MREG_VM_PACCT'];
  if (acct) await vmsh('pacct-copy', acct);
  const r = await vmsh('restore', name);
  if (r.exitCode !== 0) throw new Error(`vm.sh restore ${name} failed: ${r.out}`);
}

/**
 * Starts the suite on the guest as booted. Run alone on a just-started VM (no `clean` yet), the
 * guest is that state, so it is saved as `clean` for the next file.
 */
export async function fromClean(): Promise<void> {
  if (await hasSnapshot('clean')) await restoreSnapshot('clean');
  else await saveSnapshot('clean');
}
