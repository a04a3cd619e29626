// mreg completion bash|zsh: print a completion script on stdout; nothing else is touched.
import type { CommandContext } from '../cli.js';
import { commandList } from '../cli.js';
import { UsageError } from '../errors.js';
import { completionScript, SHELLS, type Shell } from '../ui/completion.js';
import { VERSION } from '../version.js';

export async function completion(ctx: CommandContext): Promise<void> {
  const [shell, ...rest] = ctx.args;
  if (!SHELLS.includes(shell as Shell)) {
    throw new UsageError(shell === undefined ? 'mreg completion needs a shell: bash or zsh' : `unknown shell "${shell}": mreg completion supports bash and zsh`,
      'e.g. source <(mreg completion bash)');
  }
  if (rest.length > 0) throw new UsageError(`mreg completion ${shell} takes no further arguments (got "${rest.join(' ')}")`);
  ctx.out.result(completionScript(shell as Shell, commandList(), VERSION));
}
