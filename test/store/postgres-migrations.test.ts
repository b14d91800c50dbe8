/**
 * What only the PostgreSQL store has: its migrations (store/migrations/*.sql) applied once each, in a
 * transaction, recorded in schema_migrations, safe when several processes start at once; a database
 * newer than the code is refused.
 */
import { Client } from 'pg';
import { loadMigrations, openPostgresSellerStore } from '../../store/postgres-seller-store';
import { openSellerStore, sellerStoreKind } from '../../store/open-seller-store';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase('migrations');
});
afterEach(async () => {
  await db?.drop();
});

async function query<T>(sql: string): Promise<T[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

it('five processes starting at once apply each migration exactly once', async () => {
  const applied: number[][] = [];
  const stores = await Promise.all(
    Array.from({ length: 5 }, () => openPostgresSellerStore(db.url, { onMigrated: (v) => applied.push(v) })),
  );
  const all = loadMigrations().map((m) => m.version);
  expect(all.length).toBeGreaterThanOrEqual(2);
  expect(applied.flat().sort()).toEqual(all);
  expect(applied.filter((v) => v.length > 0)).toHaveLength(1);
  const rows = await query<{ version: number; name: string }>(
    'SELECT version, name FROM schema_migrations ORDER BY version',
  );
  expect(rows.map((r) => r.version)).toEqual(all);
  // Every handle works on the one schema.
  await Promise.all(stores.map((s, i) => s.setStock('s', [{ sku: `S${i}`, quantity: i }])));
  expect(await stores[0]!.allStock('s')).toHaveLength(5);
  for (const s of stores) await s.close();
  // Opening again applies nothing.
  const again: number[][] = [];
  await (await openPostgresSellerStore(db.url, { onMigrated: (v) => again.push(v) })).close();
  expect(again).toEqual([[]]);
});

it('a failing migration leaves nothing behind, and a schema newer than the code is refused', async () => {
  const [first] = loadMigrations();
  const broken = [first!, { version: 2, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT nonsense;' }];
  const { migratePostgres } = await import('../../store/postgres-seller-store');
  const { Pool } = await import('pg');
  const pool = new Pool({ connectionString: db.url });
  try {
    await expect(migratePostgres(pool, broken)).rejects.toThrow(/migration 2 \(broken\) failed/);
    expect((await pool.query('SELECT version FROM schema_migrations')).rows).toEqual([{ version: 1 }]);
    expect((await pool.query("SELECT to_regclass('half') AS t")).rows).toEqual([{ t: null }]);
    await pool.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')");
  } finally {
    await pool.end();
  }
  await expect(openPostgresSellerStore(db.url)).rejects.toThrow(/version 99, newer than this code/);
});

it('SELLER_STORE picks the store by its value', async () => {
  expect(sellerStoreKind('postgres://u:p@h/db')).toBe('postgres');
  expect(sellerStoreKind('postgresql://h/db')).toBe('postgres');
  expect(sellerStoreKind('.data/seller-store.db')).toBe('sqlite');
  const store = await openSellerStore(db.url);
  await store.setStock('s', [{ sku: 'A', quantity: 1 }]);
  expect(await store.currentChangeSeq()).toBe(1);
  await store.close();
  const sqlite = await openSellerStore(':memory:');
  expect(await sqlite.currentChangeSeq()).toBe(0);
  await sqlite.close();
});
