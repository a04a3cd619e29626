// Independent steps run at once; the outcome must not depend on which one ends first.

/**
 * Awaits every promise (nothing is left running behind a failure), then throws the first rejection in
 * the order given, or resolves with all values.
 */
export async function allInOrder<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map(r => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
