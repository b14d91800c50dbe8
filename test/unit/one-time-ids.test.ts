/**
 * One-time ids (api/one-time-ids.ts): the store-backed kind prunes expired rows at most every
 * PRUNE_EVERY_MS, keeping them KEEP_AFTER_EXPIRY_MS past their expiry, and a failed prune never fails
 * a spend; a failed spend rejects. The in-memory kind is bounded, expired ids first.
 */
import {
  KEEP_AFTER_EXPIRY_MS,
  PRUNE_EVERY_MS,
  memoryOneTimeIds,
  storeOneTimeIds,
} from '../../api/one-time-ids';

function fakeStore() {
  const spent = new Map<string, number>();
  const prunes: number[] = [];
  let failPrune = false;
  let failSpend = false;
  return {
    prunes,
    spent,
    failPrune: (v: boolean) => (failPrune = v),
    failSpend: (v: boolean) => (failSpend = v),
    spendOneTimeId: (scope: string, id: string, expiresAt: number) => {
      if (failSpend) return Promise.reject(new Error('store down'));
      const key = `${scope}/${id}`;
      if (spent.has(key)) return Promise.resolve(false);
      spent.set(key, expiresAt);
      return Promise.resolve(true);
    },
    deleteSpentIdsExpiredBefore: (at: number) => {
      prunes.push(at);
      if (failPrune) return Promise.reject(new Error('store down'));
      let n = 0;
      for (const [key, until] of spent) if (until < at && spent.delete(key)) n++;
      return Promise.resolve(n);
    },
  };
}

it('store-backed: spends once per scope; prunes at most every PRUNE_EVERY_MS, an hour past expiry', async () => {
  const store = fakeStore();
  const clock = { now: 1_000_000 };
  const ids = storeOneTimeIds(store, 'link', { now: () => clock.now });
  expect(await ids.spend('a', clock.now + 60_000)).toBe(true);
  expect(await ids.spend('a', clock.now + 60_000)).toBe(false);
  expect(store.prunes).toEqual([1_000_000 - KEEP_AFTER_EXPIRY_MS]);

  clock.now += PRUNE_EVERY_MS - 1;
  await ids.spend('b', clock.now + 60_000);
  expect(store.prunes).toHaveLength(1);
  // Past 'a''s expiry by less than an hour: kept (and still refused).
  clock.now += 1;
  await ids.spend('c', clock.now + 60_000);
  expect(store.prunes).toEqual([1_000_000 - KEEP_AFTER_EXPIRY_MS, clock.now - KEEP_AFTER_EXPIRY_MS]);
  expect(await ids.spend('a', 1_060_000)).toBe(false);

  // An hour and a prune interval later 'a' is gone from the store.
  clock.now = 1_060_000 + KEEP_AFTER_EXPIRY_MS + PRUNE_EVERY_MS;
  await ids.spend('d', clock.now + 60_000);
  expect(store.spent.has('link/a')).toBe(false);
  expect(store.spent.has('link/d')).toBe(true);
  // Scopes are apart.
  expect(await storeOneTimeIds(store, 'other').spend('d', clock.now + 60_000)).toBe(true);
});

it('store-backed: a failed prune does not fail the spend; a failed spend rejects', async () => {
  const store = fakeStore();
  const ids = storeOneTimeIds(store, 'link', { now: () => 5_000_000 });
  store.failPrune(true);
  expect(await ids.spend('a', 5_060_000)).toBe(true);
  expect(store.prunes).toHaveLength(1);
  store.failSpend(true);
  await expect(ids.spend('b', 5_060_000)).rejects.toThrow('store down');
  store.failSpend(false);
  expect(await ids.spend('b', 5_060_000)).toBe(true);
});

it('in memory: spends once, bounded, expired ids forgotten before unexpired ones', async () => {
  const clock = { now: 0 };
  const ids = memoryOneTimeIds({ now: () => clock.now, max: 3 });
  expect(await ids.spend('old', 100)).toBe(true);
  expect(await ids.spend('x', 10_000)).toBe(true);
  expect(await ids.spend('y', 10_000)).toBe(true);
  expect(await ids.spend('x', 10_000)).toBe(false);
  clock.now = 200;
  // Full: 'old' has expired and goes; x and y are still refused.
  expect(await ids.spend('z', 10_000)).toBe(true);
  expect(await ids.spend('x', 10_000)).toBe(false);
  expect(await ids.spend('y', 10_000)).toBe(false);
  // Full of unexpired ids: the oldest (x) is forgotten.
  expect(await ids.spend('w', 10_000)).toBe(true);
  expect(await ids.spend('y', 10_000)).toBe(false);
  expect(await ids.spend('x', 10_000)).toBe(true);
});
