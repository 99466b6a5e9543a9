/**
 * Whether `work` settles (resolves or rejects) within `ms`; the timer is cleared either way, so a
 * bounded wait never keeps the process alive. Shutdown uses it to give each phase a share of its budget.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
