/**
 * Housekeeping for rows that expire (installation tokens in the token vault, spent one-time ids): a
 * pruner deletes the rows whose expiry lies more than `keepMs` in the past, at most once per `everyMs`
 * per process, when it is called. It never throws: a delete that fails is tried again at the next call
 * that is due.
 */
export function expiredRowsPruner(
  deleteExpiredBefore: (at: number) => Promise<number>,
  options: { keepMs: number; everyMs: number; now: () => number },
): () => Promise<void> {
  let prunedAt = -Infinity;
  return async () => {
    const t = options.now();
    if (t - prunedAt < options.everyMs) return;
    prunedAt = t;
    await deleteExpiredBefore(t - options.keepMs).catch(() => 0);
  };
}
