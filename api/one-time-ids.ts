/**
 * One-time ids (the assistant's one-time links): spent once, refused every time after.
 *
 * - `storeOneTimeIds`: spent ids live in the seller store (table `spent_ids`), which every API replica
 *   shares (SELLER_STORE: PostgreSQL in production), so a link opens once across replicas and restarts.
 *   The store's insert is atomic: of two replicas opening the same link at once, one wins. Rows are
 *   deleted an hour after their id's expiry (the id is refused for its own expiry by then anyway; the
 *   hour covers clocks that disagree between replicas), at most once per PRUNE_EVERY_MS per process.
 * - `memoryOneTimeIds`: this process's memory only (an API without a store, as in tests), bounded, the
 *   oldest forgotten first.
 */
import { expiredRowsPruner } from '../store/expired-rows';
import type { SellerStore } from '../store/seller-store';

export interface OneTimeIds {
  /**
   * Spends `id`: true the first time, false when it was spent before. `expiresAt` (ms since the epoch)
   * is when the id stops being valid anyway; after it the id may be forgotten. Rejects when the store
   * cannot be reached: the caller must then refuse (an id is never taken as unspent on a failure).
   */
  spend(id: string, expiresAt: number): Promise<boolean>;
}

/** How often a process deletes expired spent ids from the store, at most. */
export const PRUNE_EVERY_MS = 10 * 60_000;
/** How long after its expiry a spent id is kept (clocks of replicas may disagree by this much). */
export const KEEP_AFTER_EXPIRY_MS = 60 * 60_000;

export function storeOneTimeIds(
  store: Pick<SellerStore, 'spendOneTimeId' | 'deleteSpentIdsExpiredBefore'>,
  scope: string,
  options: { now?: () => number } = {},
): OneTimeIds {
  const prune = expiredRowsPruner((at) => store.deleteSpentIdsExpiredBefore(at), {
    keepMs: KEEP_AFTER_EXPIRY_MS,
    everyMs: PRUNE_EVERY_MS,
    now: options.now ?? Date.now,
  });
  return {
    async spend(id, expiresAt) {
      const spent = await store.spendOneTimeId(scope, id, expiresAt);
      // Housekeeping only: a failed delete never fails the spend.
      await prune();
      return spent;
    },
  };
}

export function memoryOneTimeIds(options: { now?: () => number; max?: number } = {}): OneTimeIds {
  const now = options.now ?? Date.now;
  const max = options.max ?? 100_000;
  // Spent ids → their expiry. Insertion order is age order, so the oldest go first.
  const spent = new Map<string, number>();
  return {
    spend(id, expiresAt) {
      if (spent.has(id)) return Promise.resolve(false);
      if (spent.size >= max) {
        const t = now();
        for (const [known, until] of spent) if (until <= t) spent.delete(known);
        // Still full: forget the oldest; its id is (nearly) expired by then anyway.
        while (spent.size >= max) {
          const oldest = spent.keys().next();
          if (oldest.done) break;
          spent.delete(oldest.value);
        }
      }
      spent.set(id, expiresAt);
      return Promise.resolve(true);
    },
  };
}
