/**
 * What only the SQLite seller store has: the v1 → v2 schema migration of an existing file. Everything
 * both stores promise is in the contract suite, test/store/seller-store-contract.test.ts.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, openSqliteSellerStore } from '../../store/sqlite-seller-store';

describe('sqlite seller store files', () => {
  it('creates its directory and database file for the owner only (buyers’ data, sealed tokens)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otto-store-modes-'));
    try {
      const file = join(dir, 'nested', 'seller-store.db');
      const store = openSqliteSellerStore(file);
      await store.close();
      expect((statSync(join(dir, 'nested')).mode & 0o777).toString(8)).toBe('700');
      expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite seller store migration', () => {
  it('moves a v1 file to OTTO’s models without losing orders, returns or stock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otto-store-migrate-'));
    const file = join(dir, 'seller-store.db');
    try {
      const old = new Database(file);
      old.exec(MIGRATIONS[0]!);
      old.pragma('user_version = 1');
      old
        .prepare(
          `INSERT INTO orders VALUES ('s', 'o1', 'N1', '2025-03-01T10:00:00Z', '2025-03-01T11:00:00Z', 'SENT', '[]', '2025-03-01T11:00:00Z')`,
        )
        .run();
      old
        .prepare(
          `INSERT INTO returns VALUES ('s', 'p1', 'o1', 'ANNOUNCED', '2025-03-01T12:00:00Z', '2025-03-01T12:00:00Z', 'SKU', 'reason')`,
        )
        .run();
      old.prepare(`INSERT INTO stock VALUES ('s', 'A', 3, 1, '2025-03-01T10:00:00Z')`).run();
      old.prepare(`UPDATE change_counter SET value = 1`).run();
      old.close();

      const store = openSqliteSellerStore(file);
      try {
        expect(await store.listOrders('s')).toEqual([
          expect.objectContaining({
            salesOrderId: 'o1',
            fulfillmentStatus: 'SENT',
            changeDate: '2025-03-01T11:00:00Z',
            lifecycleChangeDate: '2025-03-01T11:00:00Z',
          }),
        ]);
        expect(await store.listReturns('s')).toEqual([
          {
            positionItemId: 'p1',
            salesOrderId: 'o1',
            status: 'ANNOUNCED',
            occurredTime: '2025-03-01T12:00:00Z',
            details: null,
          },
        ]);
        expect(await store.allStock('s')).toEqual([{ sku: 'A', quantity: 3, changeSeq: 1 }]);
        await store.setStock('s', [{ sku: 'B', quantity: 1 }]);
        // v3 numbers the existing order (2) and return (3) for the shop's feeds; B gets 4.
        expect(await store.currentChangeSeq()).toBe(4);
        expect((await store.orderFeed('s', 0, 10)).map((e) => e.changeSeq)).toEqual([2]);
        expect((await store.returnFeed('s', 0, 10)).map((e) => e.changeSeq)).toEqual([3]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
