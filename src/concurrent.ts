// Independent steps run at once; the outcome must not depend on which one ends first.

/**
 * Like Promise.all, but awaits every promise (nothing is left running behind a failure), then throws
 * the first rejection in argument order (as one-by-one would), or resolves with all values.
 */
export async function allInOrder<T extends readonly unknown[] | []>(steps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(steps);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map(r => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
