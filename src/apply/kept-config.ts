// The config.yaml on disk, read once per command: its text (secrets are recovered from it) and what
// of it the next render keeps (plan/config-keep.ts). Refuses one that is not YAML before any change.
import { keptFromConfig, type KeptConfig } from '../plan/config-keep.js';
import { TEMPLATE_KEYS } from '../plan/quay-config.js';
import { readIfExists } from '../host/fs.js';

export async function readKeptConfig(path: string): Promise<{ text: string | undefined; kept: KeptConfig }> {
  const text = await readIfExists(path);
  return { text, kept: keptFromConfig(text, path, TEMPLATE_KEYS) };
}
