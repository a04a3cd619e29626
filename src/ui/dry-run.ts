// How a dry run prints its plan (up, adopt): the files it would write, then the numbered actions.
import type { Output } from './output.js';

/** A dry run's plan as text: every file (already redacted), then the numbered actions. */
export function printDryRun(out: Output, files: readonly { path: string; mode: string; content: string }[], actions: readonly string[], notes: readonly string[] = []): void {
  for (const f of files) out.result(`--- ${f.path} (mode ${f.mode}) ---\n${f.content}`);
  out.result('--- actions ---');
  actions.forEach((a, i) => out.result(`${i + 1}. ${a}`));
  for (const n of notes) out.result(n);
  out.info('dry run: nothing was changed');
}
