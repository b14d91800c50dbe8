/**
 * The token vault over a real (in-memory SQLite) seller store: a kept token opens by its handle until a
 * newer one replaces it; a late keep of an older token hands back the sealed token instead of a handle
 * that would not open; expired rows are pruned as tokens are kept.
 */
import { createStoreTokenVault, isTokenHandle, TOKEN_HANDLE_PREFIX } from '../../activities/token-vault';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import type { SellerStore } from '../../store/seller-store';

const HOUR = 60 * 60_000;
let store: SellerStore;
let clock: number;
const vault = () => createStoreTokenVault(store, () => clock);

beforeEach(() => {
  store = openSqliteSellerStore(':memory:');
  clock = 1_700_000_000_000;
});
afterEach(async () => {
  await store.close();
});

it('keeps a token under a fresh handle that opens to it, for that seller and installation only', async () => {
  const v = vault();
  const handle = await v.keep('s-1', 'inst-1', 'v2.t1.sealed-a', clock + 30 * 60_000);
  expect(isTokenHandle(handle)).toBe(true);
  expect(handle).toMatch(new RegExp(`^${TOKEN_HANDLE_PREFIX}[A-Za-z0-9_-]{16}$`));
  expect(isTokenHandle('v2.t1.sealed-a')).toBe(false);
  expect(await v.open('s-1', 'inst-1', handle)).toBe('v2.t1.sealed-a');
  expect(await v.open('s-2', 'inst-1', handle)).toBeNull();
  expect(await v.open('s-1', 'inst-2', handle)).toBeNull();

  const next = await v.keep('s-1', 'inst-1', 'v2.t1.sealed-b', clock + 60 * 60_000);
  expect(next).not.toBe(handle);
  expect(await v.open('s-1', 'inst-1', next)).toBe('v2.t1.sealed-b');
  // The replaced token's handle no longer opens: its tick mints instead.
  expect(await v.open('s-1', 'inst-1', handle)).toBeNull();
});

it('a late keep of an older token hands back the sealed token (a handle would not open)', async () => {
  const v = vault();
  const newer = await v.keep('s-1', 'inst-1', 'v2.t1.newer', clock + 60 * 60_000);
  expect(await v.keep('s-1', 'inst-1', 'v2.t1.older', clock + 30 * 60_000)).toBe('v2.t1.older');
  expect(await v.open('s-1', 'inst-1', newer)).toBe('v2.t1.newer');
});

it('prunes tokens that expired an hour ago, at most once an hour, as tokens are kept', async () => {
  const v = vault();
  const gone = await v.keep('s-old', 'inst-1', 'v2.t1.old', clock + 30 * 60_000);
  clock += 2 * HOUR;
  const kept = await v.keep('s-1', 'inst-1', 'v2.t1.a', clock + 30 * 60_000);
  expect(await v.open('s-old', 'inst-1', gone)).toBeNull();
  expect(await v.open('s-1', 'inst-1', kept)).toBe('v2.t1.a');
  // Expired, but within the hour after the last prune: still there.
  clock += 40 * 60_000;
  const again = await v.keep('s-2', 'inst-1', 'v2.t1.b', clock + 30 * 60_000);
  expect(await store.getInstallationToken('s-1', 'inst-1')).not.toBeNull();
  clock += 2 * HOUR;
  await v.keep('s-3', 'inst-1', 'v2.t1.c', clock + 30 * 60_000);
  expect(await store.getInstallationToken('s-1', 'inst-1')).toBeNull();
  expect(await v.open('s-2', 'inst-1', again)).toBeNull();
});
