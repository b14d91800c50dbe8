/* eslint-disable @typescript-eslint/require-await -- a synchronous driver behind the async SellerStore interface */
/**
 * The default SellerStore: one SQLite file (better-sqlite3, WAL so several worker processes can share
 * it), schema versioned with `PRAGMA user_version`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  Price,
  SellerStore,
  StockLevel,
  StoreOrder,
  StoreReturn,
  StoreShippingProfile,
  UpsertResult,
} from './seller-store';

const MIGRATIONS: string[] = [
  `CREATE TABLE orders (
     seller_id TEXT NOT NULL, sales_order_id TEXT NOT NULL, order_number TEXT NOT NULL, order_date TEXT NOT NULL,
     last_modified TEXT NOT NULL, fulfillment_status TEXT NOT NULL, positions TEXT NOT NULL, imported_at TEXT NOT NULL,
     PRIMARY KEY (seller_id, sales_order_id));
   CREATE TABLE returns (
     seller_id TEXT NOT NULL, position_item_id TEXT NOT NULL, sales_order_id TEXT NOT NULL, status TEXT NOT NULL,
     announced_at TEXT NOT NULL, last_modified TEXT NOT NULL, sku TEXT NOT NULL, reason TEXT NOT NULL,
     PRIMARY KEY (seller_id, position_item_id));
   CREATE TABLE change_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
   INSERT INTO change_counter (id, value) VALUES (1, 0);
   CREATE TABLE stock (
     seller_id TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL CHECK (quantity >= 0),
     change_seq INTEGER NOT NULL, changed_at TEXT NOT NULL, PRIMARY KEY (seller_id, sku));
   CREATE INDEX stock_changes ON stock (seller_id, change_seq);
   CREATE TABLE prices (
     seller_id TEXT NOT NULL, sku TEXT NOT NULL, amount REAL NOT NULL, currency TEXT NOT NULL,
     change_seq INTEGER NOT NULL, changed_at TEXT NOT NULL, PRIMARY KEY (seller_id, sku));
   CREATE INDEX price_changes ON prices (seller_id, change_seq);
   CREATE TABLE shipping_profiles (
     seller_id TEXT NOT NULL, profile_id TEXT NOT NULL, name TEXT NOT NULL, last_modified TEXT NOT NULL,
     data TEXT NOT NULL, PRIMARY KEY (seller_id, profile_id));`,
];

interface OrderRow {
  sales_order_id: string;
  order_number: string;
  order_date: string;
  last_modified: string;
  fulfillment_status: string;
  positions: string;
}

export function openSqliteSellerStore(file: string): SellerStore {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }

  const nextSeq = db.prepare('UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value');
  const now = () => new Date().toISOString();

  const upsertOrders = db.transaction((sellerId: string, orders: StoreOrder[]): UpsertResult => {
    const result = { inserted: 0, updated: 0, unchanged: 0 };
    const find = db.prepare('SELECT last_modified FROM orders WHERE seller_id = ? AND sales_order_id = ?');
    const insert = db.prepare(
      `INSERT INTO orders (seller_id, sales_order_id, order_number, order_date, last_modified, fulfillment_status, positions, imported_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const update = db.prepare(
      `UPDATE orders SET last_modified = ?, fulfillment_status = ?, positions = ? WHERE seller_id = ? AND sales_order_id = ?`,
    );
    for (const o of orders) {
      const existing = find.get(sellerId, o.salesOrderId) as { last_modified: string } | undefined;
      const positions = JSON.stringify(o.positionItems);
      if (!existing) {
        insert.run(
          sellerId,
          o.salesOrderId,
          o.orderNumber,
          o.orderDate,
          o.lastModifiedDate,
          o.fulfillmentStatus,
          positions,
          now(),
        );
        result.inserted++;
      } else if (Date.parse(o.lastModifiedDate) > Date.parse(existing.last_modified)) {
        update.run(o.lastModifiedDate, o.fulfillmentStatus, positions, sellerId, o.salesOrderId);
        result.updated++;
      } else result.unchanged++;
    }
    return result;
  });

  const upsertReturns = db.transaction((sellerId: string, returns: StoreReturn[]): UpsertResult => {
    const result = { inserted: 0, updated: 0, unchanged: 0 };
    const find = db.prepare('SELECT last_modified FROM returns WHERE seller_id = ? AND position_item_id = ?');
    const insert = db.prepare(
      `INSERT INTO returns (seller_id, position_item_id, sales_order_id, status, announced_at, last_modified, sku, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const update = db.prepare(
      'UPDATE returns SET status = ?, last_modified = ? WHERE seller_id = ? AND position_item_id = ?',
    );
    for (const r of returns) {
      const existing = find.get(sellerId, r.positionItemId) as { last_modified: string } | undefined;
      if (!existing) {
        insert.run(
          sellerId,
          r.positionItemId,
          r.salesOrderId,
          r.status,
          r.announcedAt,
          r.lastModifiedDate,
          r.sku,
          r.reason,
        );
        result.inserted++;
      } else if (Date.parse(r.lastModifiedDate) > Date.parse(existing.last_modified)) {
        update.run(r.status, r.lastModifiedDate, sellerId, r.positionItemId);
        result.updated++;
      } else result.unchanged++;
    }
    return result;
  });

  const setStock = db.transaction((sellerId: string, levels: Array<{ sku: string; quantity: number }>) => {
    const upsert = db.prepare(
      `INSERT INTO stock (seller_id, sku, quantity, change_seq, changed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (seller_id, sku) DO UPDATE SET quantity = excluded.quantity, change_seq = excluded.change_seq, changed_at = excluded.changed_at`,
    );
    for (const l of levels) {
      if (!Number.isInteger(l.quantity) || l.quantity < 0)
        throw new Error(`stock for ${l.sku} must be an integer ≥ 0`);
      const { value } = nextSeq.get() as { value: number };
      upsert.run(sellerId, l.sku, l.quantity, value, now());
    }
  });

  const setPrices = db.transaction(
    (sellerId: string, prices: Array<{ sku: string; amount: number; currency: string }>) => {
      const upsert = db.prepare(
        `INSERT INTO prices (seller_id, sku, amount, currency, change_seq, changed_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (seller_id, sku) DO UPDATE SET amount = excluded.amount, currency = excluded.currency,
         change_seq = excluded.change_seq, changed_at = excluded.changed_at`,
      );
      for (const p of prices) {
        const { value } = nextSeq.get() as { value: number };
        upsert.run(sellerId, p.sku, p.amount, p.currency, value, now());
      }
    },
  );

  const upsertProfiles = db.transaction(
    (sellerId: string, profiles: StoreShippingProfile[]): UpsertResult => {
      const result = { inserted: 0, updated: 0, unchanged: 0 };
      const find = db.prepare(
        'SELECT last_modified FROM shipping_profiles WHERE seller_id = ? AND profile_id = ?',
      );
      const upsert = db.prepare(
        `INSERT INTO shipping_profiles (seller_id, profile_id, name, last_modified, data) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (seller_id, profile_id) DO UPDATE SET name = excluded.name, last_modified = excluded.last_modified, data = excluded.data`,
      );
      for (const p of profiles) {
        const existing = find.get(sellerId, p.shippingProfileId) as { last_modified: string } | undefined;
        if (existing && existing.last_modified === p.lastModifiedDate) {
          result.unchanged++;
          continue;
        }
        upsert.run(sellerId, p.shippingProfileId, p.name, p.lastModifiedDate, JSON.stringify(p.data));
        if (existing) result.updated++;
        else result.inserted++;
      }
      return result;
    },
  );

  const toStock = (r: { sku: string; quantity: number; change_seq: number }): StockLevel => ({
    sku: r.sku,
    quantity: r.quantity,
    changeSeq: r.change_seq,
  });
  const toPrice = (r: { sku: string; amount: number; currency: string; change_seq: number }): Price => ({
    sku: r.sku,
    amount: r.amount,
    currency: r.currency,
    changeSeq: r.change_seq,
  });

  return {
    upsertOrders: async (sellerId, orders) => upsertOrders(sellerId, orders),
    listOrders: async (sellerId) =>
      (
        db
          .prepare('SELECT * FROM orders WHERE seller_id = ? ORDER BY last_modified')
          .all(sellerId) as OrderRow[]
      ).map((r) => ({
        salesOrderId: r.sales_order_id,
        orderNumber: r.order_number,
        orderDate: r.order_date,
        lastModifiedDate: r.last_modified,
        fulfillmentStatus: r.fulfillment_status,
        positionItems: JSON.parse(r.positions) as StoreOrder['positionItems'],
      })),
    upsertReturns: async (sellerId, returns) => upsertReturns(sellerId, returns),
    listReturns: async (sellerId) =>
      (
        db.prepare('SELECT * FROM returns WHERE seller_id = ? ORDER BY last_modified').all(sellerId) as Array<
          Record<string, string>
        >
      ).map((r) => ({
        positionItemId: r.position_item_id!,
        salesOrderId: r.sales_order_id!,
        status: r.status!,
        announcedAt: r.announced_at!,
        lastModifiedDate: r.last_modified!,
        sku: r.sku!,
        reason: r.reason!,
      })),
    setStock: async (sellerId, levels) => setStock(sellerId, levels),
    stockChanges: async (sellerId, afterSeq, upToSeq = Number.MAX_SAFE_INTEGER) =>
      (
        db
          .prepare(
            'SELECT sku, quantity, change_seq FROM stock WHERE seller_id = ? AND change_seq > ? AND change_seq <= ? ORDER BY change_seq',
          )
          .all(sellerId, afterSeq, upToSeq) as Array<{ sku: string; quantity: number; change_seq: number }>
      ).map(toStock),
    allStock: async (sellerId) =>
      (
        db
          .prepare('SELECT sku, quantity, change_seq FROM stock WHERE seller_id = ? ORDER BY sku')
          .all(sellerId) as Array<{
          sku: string;
          quantity: number;
          change_seq: number;
        }>
      ).map(toStock),
    setPrices: async (sellerId, prices) => setPrices(sellerId, prices),
    priceChanges: async (sellerId, afterSeq, upToSeq = Number.MAX_SAFE_INTEGER) =>
      (
        db
          .prepare(
            'SELECT sku, amount, currency, change_seq FROM prices WHERE seller_id = ? AND change_seq > ? AND change_seq <= ? ORDER BY change_seq',
          )
          .all(sellerId, afterSeq, upToSeq) as Array<{
          sku: string;
          amount: number;
          currency: string;
          change_seq: number;
        }>
      ).map(toPrice),
    allPrices: async (sellerId) =>
      (
        db
          .prepare('SELECT sku, amount, currency, change_seq FROM prices WHERE seller_id = ? ORDER BY sku')
          .all(sellerId) as Array<{
          sku: string;
          amount: number;
          currency: string;
          change_seq: number;
        }>
      ).map(toPrice),
    currentChangeSeq: async () =>
      (db.prepare('SELECT value FROM change_counter WHERE id = 1').get() as { value: number }).value,
    upsertShippingProfiles: async (sellerId, profiles) => upsertProfiles(sellerId, profiles),
    listShippingProfiles: async (sellerId) =>
      (
        db
          .prepare(
            'SELECT profile_id, name, last_modified, data FROM shipping_profiles WHERE seller_id = ? ORDER BY profile_id',
          )
          .all(sellerId) as Array<Record<string, string>>
      ).map((r) => ({
        shippingProfileId: r.profile_id!,
        name: r.name!,
        lastModifiedDate: r.last_modified!,
        data: JSON.parse(r.data!) as Record<string, unknown>,
      })),
    close: async () => {
      db.close();
    },
  };
}
