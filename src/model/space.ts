// When free space is worth a problem line in `mreg status`.

const LOW_SPACE_BYTES = 1024 ** 3;

/**
 * Under 1 GiB free, or under 10 % on a file system smaller than 10 GiB (a dedicated small mount would
 * otherwise always look "full").
 */
export function isLowOnSpace(s: { freeBytes: number; totalBytes: number }): boolean {
  return s.freeBytes < Math.min(LOW_SPACE_BYTES, s.totalBytes / 10);
}
