/**
 * PostgreSQL's change-number ceiling (`changeSeqCeiling`) does not wait for writers, and still covers a
 * number a writer has drawn but not committed; `currentChangeSeq` waits for that writer. The feeds'
 * `409 cursor_ahead` check reads the ceiling: waiting there would hold a shop's feed read behind every
 * import, and missing drawn numbers would refuse a valid cursor. A writer is held open by hand, as the
 * store's own writers hold it: the shared change lock, then a number drawn.
 */
import { Pool, type PoolClient } from 'pg';
import { CHANGE_LOCK, openPostgresSellerStore } from '../../store/postgres-seller-store';
import type { SellerStore } from '../../store/seller-store';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { eventually } from '../support/temporal';

let db: TestDatabase;
let store: SellerStore;
let pool: Pool;
let writer: PoolClient | undefined;

beforeEach(async () => {
  db = await createTestDatabase('change_ceiling');
  store = await openPostgresSellerStore(db.url);
  pool = new Pool({ connectionString: db.url, max: 2 });
});
afterEach(async () => {
  await writer?.query('ROLLBACK').catch(() => {});
  writer?.release();
  writer = undefined;
  await pool.end();
  await store.close();
  await db.drop();
});

it('the ceiling answers while a writer holds a drawn number, and covers it; the current number waits', async () => {
  await store.setStock('s', [{ sku: 'A', quantity: 1 }]);
  const before = await store.currentChangeSeq();

  writer = await pool.connect();
  await writer.query('BEGIN');
  await writer.query('SELECT pg_advisory_xact_lock_shared($1)', [CHANGE_LOCK]);
  const { rows } = await writer.query<{ n: string }>(`SELECT nextval('change_seq') AS n`);
  const drawn = Number(rows[0]!.n);
  expect(drawn).toBeGreaterThan(before);

  // Not waiting: this resolves while the writer is still open (waiting would hang until the timeout).
  expect(await store.changeSeqCeiling()).toBeGreaterThanOrEqual(drawn);

  // currentChangeSeq() waits for the writer: its lock request shows in pg_locks as not granted.
  let settled = false;
  const current = store.currentChangeSeq().finally(() => {
    settled = true;
  });
  await eventually(
    async () =>
      (
        await pool.query<{ waiting: string }>(
          `SELECT count(*) AS waiting FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        )
      ).rows[0]!.waiting,
    (waiting) => Number(waiting) >= 1,
    10_000,
  );
  expect(settled).toBe(false);
  await writer.query('COMMIT');
  expect(await current).toBeGreaterThanOrEqual(drawn);
}, 20_000);
