// The name of the temporary file an atomic write renames into place, shared by the writer and by the
// checks that must recognise one a killed run left behind.

/** `.NAME.mreg-PID.tmp` beside `NAME`. */
export function atomicTempName(base: string, pid: number): string {
  return `.${base}.mreg-${pid}.tmp`;
}

/** Whether `entry` is an atomic write's temporary file of `base`, from any process. */
export function isAtomicTempOf(entry: string, base: string): boolean {
  return entry.startsWith(`.${base}.mreg-`) && /^\d+\.tmp$/.test(entry.slice(base.length + 7));
}
