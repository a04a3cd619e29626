// Values from cac's raw flags that are not the zod-checked install inputs: a value flag as a string,
// --timeout, and the image flags given on this command line.
import { UsageError } from '../errors.js';
import { IMAGE_FLAGS } from '../model/components.js';
import { HEALTH_TIMEOUT_MS } from './defaults.js';
import type { Images } from './spec.js';

/** A value flag as a string; cac leaves `true` when the value is missing (`--quayImage` at the end). */
export function stringFlag(flags: Record<string, unknown>, key: string, command: string): string | undefined {
  const v = flags[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${key} needs a value`, `see: mreg ${command} --help`);
  return v;
}

const DEFAULT_TIMEOUT_S = HEALTH_TIMEOUT_MS / 1000;
/** A day: longer than any start, and far below the 2^31-1 ms a Node timer takes (a longer one fires at once). */
export const MAX_TIMEOUT_S = 86_400;

/** --timeout in ms; UsageError unless a whole number of seconds from 1 to MAX_TIMEOUT_S. */
export function parseTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const s = String(value);
  if (!/^\d+$/.test(s) || Number(s) <= 0 || Number(s) > MAX_TIMEOUT_S) {
    throw new UsageError(`--timeout ${s}: must be a whole number of seconds from 1 to ${MAX_TIMEOUT_S} (a day); e.g. --timeout ${DEFAULT_TIMEOUT_S}`);
  }
  return Number(s) * 1000;
}

/** The image flags given on this command line (not recorded or default ones), by component. */
export function givenImages(flags: Record<string, unknown>, command: string): Partial<Images> {
  const given: Partial<Images> = {};
  for (const c of Object.keys(IMAGE_FLAGS) as (keyof Images)[]) {
    const v = stringFlag(flags, IMAGE_FLAGS[c].slice(2), command);
    if (v !== undefined) given[c] = v;
  }
  return given;
}
