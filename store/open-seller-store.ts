/**
 * Opens the seller store a `SELLER_STORE` value names: `postgres://…` / `postgresql://…` is the
 * PostgreSQL store (migrated on open: store/migrations/), anything else a file path (or `:memory:`) of
 * the embedded SQLite store.
 */
import { openPostgresSellerStore, type PostgresSellerStoreOptions } from './postgres-seller-store';
import type { SellerStore } from './seller-store';
import { openSqliteSellerStore } from './sqlite-seller-store';

export type SellerStoreKind = 'postgres' | 'sqlite';

export function sellerStoreKind(urlOrPath: string): SellerStoreKind {
  return /^postgres(ql)?:\/\//i.test(urlOrPath) ? 'postgres' : 'sqlite';
}

/** The store's location for logs: a PostgreSQL URL without its password. */
export function describeSellerStore(urlOrPath: string): string {
  if (sellerStoreKind(urlOrPath) === 'sqlite') return urlOrPath;
  try {
    const url = new URL(urlOrPath);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export async function openSellerStore(
  urlOrPath: string,
  opts: PostgresSellerStoreOptions = {},
): Promise<SellerStore> {
  if (sellerStoreKind(urlOrPath) === 'postgres') return openPostgresSellerStore(urlOrPath, opts);
  return openSqliteSellerStore(urlOrPath);
}
