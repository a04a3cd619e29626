// Placeholder until the command lands; keeps the CLI table complete.
import type { CommandContext } from '../cli.js';
import { HostError } from '../errors.js';

export async function adopt(_ctx: CommandContext): Promise<void> {
  throw new HostError('mreg adopt is not implemented yet');
}
