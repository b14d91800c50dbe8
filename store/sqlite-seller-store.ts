/* eslint-disable @typescript-eslint/require-await -- a synchronous driver behind the async SellerStore interface */
/**
 * The default SellerStore: one SQLite file (better-sqlite3, WAL so several worker processes can share
 * it), schema versioned with `PRAGMA user_version`.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  TRANSFER_RUNS_KEPT,
  type ConnectionStatusRow,
  type ExportKind,
  type FeedUpsertResult,
  type IdempotencyClaim,
  type SellerStore,
  type ShopBatch,
  type ShopBatchOutcome,
  type StoreOrder,
  type StoreReturn,
  type StoreShippingProfile,
  type TransferRun,
  type UpsertResult,
} from './seller-store';
import {
  MAX_RUN_DETAIL,
  batchResult,
  canonicalJson,
  checkStock,
  idempotencyCutoff,
  storedKeyOutcome,
  toExportFailure,
  toFeedEntry,
  toOrder,
  toPrice,
  toProfile,
  toReturn,
  toStock,
  toTransferRun,
  toConnectionStatus,
  toInstallationToken,
  type ConnectionStatusDbRow,
  type InstallationTokenDbRow,
  type ExportFailureRow,
  type OrderRow,
  type PriceRow,
  type ProfileRow,
  type ReturnRow,
  type SeqRow,
  type TransferRunRow,
  connectionStatusValues,
} from './store-rows';

export const MIGRATIONS: string[] = [
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
  // v2: OTTO's real models (docs/otto-api.md §5). Orders: no order-level status at OTTO (ours is derived),
  // lastModifiedDate optional, lifecycleChangeDate required, the whole order kept. Returns v3: status,
  // occurredTime and details (no sku/reason at OTTO). Shipping profiles: every field; the old rows lack
  // them and are dropped (the next sync brings them back). Refused export SKUs, retried every run.
  `ALTER TABLE orders RENAME COLUMN last_modified TO change_date;
   ALTER TABLE orders ADD COLUMN lifecycle_change_date TEXT;
   ALTER TABLE orders ADD COLUMN last_modified_date TEXT;
   ALTER TABLE orders ADD COLUMN data TEXT;
   UPDATE orders SET lifecycle_change_date = change_date, last_modified_date = change_date;
   CREATE INDEX orders_by_change ON orders (seller_id, change_date);
   CREATE TABLE returns_v2 (
     seller_id TEXT NOT NULL, position_item_id TEXT NOT NULL, sales_order_id TEXT NOT NULL, status TEXT NOT NULL,
     occurred_time TEXT, details TEXT NOT NULL, imported_at TEXT NOT NULL, updated_at TEXT NOT NULL,
     PRIMARY KEY (seller_id, position_item_id));
   INSERT INTO returns_v2
     SELECT seller_id, position_item_id, sales_order_id, status, last_modified, 'null', announced_at, last_modified
     FROM returns;
   DROP TABLE returns;
   ALTER TABLE returns_v2 RENAME TO returns;
   DROP TABLE shipping_profiles;
   CREATE TABLE shipping_profiles (
     seller_id TEXT NOT NULL, profile_id TEXT NOT NULL, name TEXT NOT NULL, working_days TEXT NOT NULL,
     order_cutoff TEXT NOT NULL, delivery_type TEXT NOT NULL, default_processing_time INTEGER NOT NULL,
     transport_time INTEGER NOT NULL, data TEXT NOT NULL, synced_at TEXT NOT NULL,
     PRIMARY KEY (seller_id, profile_id));
   CREATE TABLE export_failures (
     seller_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('stock', 'prices')), sku TEXT NOT NULL,
     error TEXT NOT NULL, attempts INTEGER NOT NULL, first_failed_at TEXT NOT NULL, last_failed_at TEXT NOT NULL,
     PRIMARY KEY (seller_id, kind, sku));`,
  // v3: the shop's side. Orders and returns get a change number from the one counter (the change feeds);
  // existing rows are numbered in their old listing order. Idempotency keys of batch writes (kept 24 h)
  // and the last transfer runs per seller and kind.
  `ALTER TABLE orders ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE returns ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
   UPDATE orders SET change_seq = (SELECT value FROM change_counter WHERE id = 1) + r.n
     FROM (SELECT rowid AS rid, row_number() OVER (ORDER BY change_date, sales_order_id) AS n FROM orders) AS r
     WHERE orders.rowid = r.rid;
   UPDATE change_counter SET value = value + (SELECT count(*) FROM orders) WHERE id = 1;
   UPDATE returns SET change_seq = (SELECT value FROM change_counter WHERE id = 1) + r.n
     FROM (SELECT rowid AS rid, row_number() OVER (
             ORDER BY occurred_time IS NULL, occurred_time, position_item_id) AS n FROM returns) AS r
     WHERE returns.rowid = r.rid;
   UPDATE change_counter SET value = value + (SELECT count(*) FROM returns) WHERE id = 1;
   CREATE INDEX orders_feed ON orders (seller_id, change_seq);
   CREATE INDEX returns_feed ON returns (seller_id, change_seq);
   CREATE TABLE idempotency_keys (
     seller_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, result TEXT NOT NULL,
     created_at TEXT NOT NULL, PRIMARY KEY (seller_id, key));
   CREATE INDEX idempotency_keys_age ON idempotency_keys (seller_id, created_at);
   CREATE TABLE transfer_runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT, seller_id TEXT NOT NULL, kind TEXT NOT NULL,
     started_at TEXT NOT NULL, finished_at TEXT NOT NULL, result TEXT NOT NULL CHECK (result IN ('ok', 'failed')),
     count INTEGER NOT NULL, detail TEXT NOT NULL);
   CREATE INDEX transfer_runs_by_seller ON transfer_runs (seller_id, kind, finished_at);`,
  // v4: each seller's connection status as its workflow last published it (issue 15), read by the API
  // instead of Temporal. Times in ms since the epoch; (run_started_at, history_length, seq) orders writes.
  `CREATE TABLE connection_status (
     seller_id TEXT NOT NULL PRIMARY KEY, run_id TEXT NOT NULL, run_started_at INTEGER NOT NULL,
     history_length INTEGER NOT NULL, seq INTEGER NOT NULL, summary TEXT NOT NULL, valid_until INTEGER NOT NULL,
     updated_at INTEGER NOT NULL);`,
  // v5: each installation's current token, sealed, so workflow histories carry only its handle
  // (activities/token-vault.ts). expires_at in ms since the epoch.
  `CREATE TABLE installation_tokens (
     seller_id TEXT NOT NULL, installation_id TEXT NOT NULL, handle TEXT NOT NULL, sealed TEXT NOT NULL,
     expires_at INTEGER NOT NULL, PRIMARY KEY (seller_id, installation_id));`,
  // v6: spent one-time ids (api/one-time-ids.ts), so a one-time link opens once across API processes.
  `CREATE TABLE spent_ids (
     scope TEXT NOT NULL, id TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (scope, id));
   CREATE INDEX spent_ids_by_expiry ON spent_ids (expires_at);`,
  // v7: idempotency keys by age alone, so expired keys of sellers that write no more can be deleted.
  `CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);`,
];

const later = (a: string, b: string) => Date.parse(a) > Date.parse(b);
const sameTime = (a: string, b: string) => Date.parse(a) === Date.parse(b);

export function openSqliteSellerStore(file: string): SellerStore {
  if (file !== ':memory:') {
    // The store holds buyers' order data and sealed tokens: a new directory and file are the owner's only
    // (SQLite gives its -wal and -shm files the database file's permissions). Existing ones stay as set.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'a', 0o600));
  }
  const db = new Database(file);
  // busy_timeout first: on a new file the worker and the API (npm run dev starts both at once) race for it.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // Read the schema version and migrate under one write lock (BEGIN IMMEDIATE), so a second process
  // opening the file meanwhile waits and then sees the migrated version instead of migrating again.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    // A newer release migrated this file (then rolled back?): this code would run on a schema it does not know.
    if (version > MIGRATIONS.length)
      throw new Error(
        `the seller store's schema is at version ${version}, newer than this code knows (${MIGRATIONS.length}): run the newer release`,
      );
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();

  // Statements prepared once and reused (better-sqlite3 runs them synchronously, none is iterated):
  // preparing costs more than running the small queries a transfer makes.
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const nextSeq = prepare('UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value');
  const now = () => new Date().toISOString();

  const takeSeq = () => (nextSeq.get() as { value: number }).value;

  // The status row is written at every change of every seller and read by every status request: both
  // prepared here, up front.
  const putStatus = prepare(
    `INSERT INTO connection_status (seller_id, run_id, run_started_at, history_length, seq, summary, valid_until, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (seller_id) DO UPDATE SET run_id = excluded.run_id, run_started_at = excluded.run_started_at,
       history_length = excluded.history_length, seq = excluded.seq, summary = excluded.summary,
       valid_until = excluded.valid_until, updated_at = excluded.updated_at
     WHERE (excluded.run_started_at, excluded.history_length, excluded.seq)
         > (connection_status.run_started_at, connection_status.history_length, connection_status.seq)`,
  );
  const getStatus = prepare('SELECT * FROM connection_status WHERE seller_id = ?');
  // Read by every tick, written by every mint.
  const putToken = prepare(
    `INSERT INTO installation_tokens (seller_id, installation_id, handle, sealed, expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (seller_id, installation_id) DO UPDATE SET handle = excluded.handle, sealed = excluded.sealed,
       expires_at = excluded.expires_at
     WHERE excluded.expires_at >= installation_tokens.expires_at`,
  );
  const getToken = prepare(
    'SELECT handle, sealed, expires_at FROM installation_tokens WHERE seller_id = ? AND installation_id = ?',
  );

  /**
   * A write transaction, begun with BEGIN IMMEDIATE: it waits (busy_timeout) for another process's write
   * lock up front. A deferred one that reads first fails at once with SQLITE_BUSY when it then needs to
   * write while the API or another worker writes (SQLite cannot wait there without risking a deadlock).
   */
  const writeTransaction = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) => {
    const transaction = db.transaction(fn);
    return (...args: A) => transaction.immediate(...args);
  };

  const upsertOrders = writeTransaction((sellerId: string, orders: StoreOrder[]): FeedUpsertResult => {
    const result: FeedUpsertResult = { inserted: 0, updated: 0, unchanged: 0, changed: [] };
    const find = prepare(
      'SELECT change_date, fulfillment_status, positions FROM orders WHERE seller_id = ? AND sales_order_id = ?',
    );
    const insert = prepare(
      `INSERT INTO orders (seller_id, sales_order_id, order_number, order_date, change_date, lifecycle_change_date,
         last_modified_date, fulfillment_status, positions, data, imported_at, change_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const update = prepare(
      `UPDATE orders SET change_date = ?, lifecycle_change_date = ?, last_modified_date = ?, fulfillment_status = ?,
         positions = ?, data = ?, change_seq = ?
       WHERE seller_id = ? AND sales_order_id = ?`,
    );
    for (const o of orders) {
      const existing = find.get(sellerId, o.salesOrderId) as
        { change_date: string; fulfillment_status: string; positions: string } | undefined;
      const positions = JSON.stringify(o.positionItems);
      const data = o.data === undefined ? null : JSON.stringify(o.data);
      if (!existing) {
        const seq = takeSeq();
        insert.run(
          sellerId,
          o.salesOrderId,
          o.orderNumber,
          o.orderDate,
          o.changeDate,
          o.lifecycleChangeDate,
          o.lastModifiedDate,
          o.fulfillmentStatus,
          positions,
          data,
          now(),
          seq,
        );
        result.inserted++;
        result.changed.push({ id: o.salesOrderId, changeSeq: seq });
      } else if (
        later(o.changeDate, existing.change_date) ||
        // Stamped the same (OTTO's times may have whole seconds) but its items say otherwise: newer.
        (sameTime(o.changeDate, existing.change_date) &&
          (o.fulfillmentStatus !== existing.fulfillment_status || positions !== existing.positions))
      ) {
        const seq = takeSeq();
        update.run(
          o.changeDate,
          o.lifecycleChangeDate,
          o.lastModifiedDate,
          o.fulfillmentStatus,
          positions,
          data,
          seq,
          sellerId,
          o.salesOrderId,
        );
        result.updated++;
        result.changed.push({ id: o.salesOrderId, changeSeq: seq });
      } else result.unchanged++;
    }
    return result;
  });

  const upsertReturns = writeTransaction((sellerId: string, returns: StoreReturn[]): FeedUpsertResult => {
    const result: FeedUpsertResult = { inserted: 0, updated: 0, unchanged: 0, changed: [] };
    const find = prepare(
      'SELECT status, occurred_time, details FROM returns WHERE seller_id = ? AND position_item_id = ?',
    );
    const insert = prepare(
      `INSERT INTO returns (seller_id, position_item_id, sales_order_id, status, occurred_time, details, imported_at, updated_at, change_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const update = prepare(
      `UPDATE returns SET sales_order_id = ?, status = ?, occurred_time = ?, details = ?, updated_at = ?,
         change_seq = ?
       WHERE seller_id = ? AND position_item_id = ?`,
    );
    for (const r of returns) {
      const existing = find.get(sellerId, r.positionItemId) as
        Pick<ReturnRow, 'status' | 'occurred_time' | 'details'> | undefined;
      const details = JSON.stringify(r.details ?? null);
      const at = now();
      if (!existing) {
        const seq = takeSeq();
        insert.run(
          sellerId,
          r.positionItemId,
          r.salesOrderId,
          r.status,
          r.occurredTime,
          details,
          at,
          at,
          seq,
        );
        result.inserted++;
        result.changed.push({ id: r.positionItemId, changeSeq: seq });
        continue;
      }
      // Without a time on either side the order of events is unknown: the latest read wins if it differs.
      // At the same time, a different status or details is the newer read too (whole-second times).
      const differs = r.status !== existing.status || details !== existing.details;
      const newer =
        r.occurredTime !== null && existing.occurred_time !== null
          ? later(r.occurredTime, existing.occurred_time) ||
            (sameTime(r.occurredTime, existing.occurred_time) && differs)
          : differs;
      if (newer) {
        const seq = takeSeq();
        update.run(r.salesOrderId, r.status, r.occurredTime, details, at, seq, sellerId, r.positionItemId);
        result.updated++;
        result.changed.push({ id: r.positionItemId, changeSeq: seq });
      } else result.unchanged++;
    }
    return result;
  });

  const setStock = writeTransaction((sellerId: string, levels: Array<{ sku: string; quantity: number }>) => {
    const seqs: number[] = [];
    const upsert = prepare(
      `INSERT INTO stock (seller_id, sku, quantity, change_seq, changed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (seller_id, sku) DO UPDATE SET quantity = excluded.quantity, change_seq = excluded.change_seq, changed_at = excluded.changed_at`,
    );
    checkStock(levels);
    for (const l of levels) {
      const value = takeSeq();
      upsert.run(sellerId, l.sku, l.quantity, value, now());
      seqs.push(value);
    }
    return seqs;
  });

  const setPrices = writeTransaction(
    (sellerId: string, prices: Array<{ sku: string; amount: number; currency: string }>) => {
      const seqs: number[] = [];
      const upsert = prepare(
        `INSERT INTO prices (seller_id, sku, amount, currency, change_seq, changed_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (seller_id, sku) DO UPDATE SET amount = excluded.amount, currency = excluded.currency,
         change_seq = excluded.change_seq, changed_at = excluded.changed_at`,
      );
      for (const p of prices) {
        const value = takeSeq();
        upsert.run(sellerId, p.sku, p.amount, p.currency, value, now());
        seqs.push(value);
      }
      return seqs;
    },
  );

  const applyShopBatch = writeTransaction(
    (sellerId: string, batch: ShopBatch, claim: IdempotencyClaim | undefined): ShopBatchOutcome => {
      if (claim) {
        const cutoff = idempotencyCutoff(claim);
        prepare('DELETE FROM idempotency_keys WHERE seller_id = ? AND created_at < ?').run(sellerId, cutoff);
        const existing = prepare(
          'SELECT fingerprint, result FROM idempotency_keys WHERE seller_id = ? AND key = ?',
        ).get(sellerId, claim.key) as { fingerprint: string; result: string } | undefined;
        if (existing) return storedKeyOutcome(existing, claim);
      }
      const seqs =
        batch.kind === 'stock' ? setStock(sellerId, batch.items) : setPrices(sellerId, batch.items);
      const result = batchResult(seqs);
      if (claim)
        prepare(
          'INSERT INTO idempotency_keys (seller_id, key, fingerprint, result, created_at) VALUES (?, ?, ?, ?, ?)',
        ).run(sellerId, claim.key, claim.fingerprint, JSON.stringify(result), claim.at);
      return { outcome: 'applied', result };
    },
  );

  const recordTransferRun = writeTransaction((sellerId: string, run: TransferRun) => {
    prepare(
      `INSERT INTO transfer_runs (seller_id, kind, started_at, finished_at, result, count, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      sellerId,
      run.kind,
      run.startedAt,
      run.finishedAt,
      run.result,
      run.count,
      run.detail.slice(0, MAX_RUN_DETAIL),
    );
    prepare(
      `DELETE FROM transfer_runs WHERE seller_id = ? AND kind = ? AND id NOT IN (
         SELECT id FROM transfer_runs WHERE seller_id = ? AND kind = ? ORDER BY finished_at DESC, id DESC LIMIT ?)`,
    ).run(sellerId, run.kind, sellerId, run.kind, TRANSFER_RUNS_KEPT);
  });

  const recordExportOutcome = writeTransaction(
    (
      sellerId: string,
      kind: ExportKind,
      outcome: { taken: string[]; refused: Array<{ sku: string; error: string }> },
    ) => {
      const clear = prepare('DELETE FROM export_failures WHERE seller_id = ? AND kind = ? AND sku = ?');
      const record = prepare(
        `INSERT INTO export_failures (seller_id, kind, sku, error, attempts, first_failed_at, last_failed_at)
         VALUES (?, ?, ?, ?, 1, ?, ?)
         ON CONFLICT (seller_id, kind, sku) DO UPDATE SET error = excluded.error, attempts = attempts + 1,
           last_failed_at = excluded.last_failed_at`,
      );
      for (const sku of outcome.taken) clear.run(sellerId, kind, sku);
      const at = now();
      for (const r of outcome.refused) record.run(sellerId, kind, r.sku, r.error, at, at);
    },
  );

  const upsertProfiles = writeTransaction(
    (sellerId: string, profiles: StoreShippingProfile[]): UpsertResult => {
      const result = { inserted: 0, updated: 0, unchanged: 0 };
      const find = prepare('SELECT data FROM shipping_profiles WHERE seller_id = ? AND profile_id = ?');
      const upsert = prepare(
        `INSERT INTO shipping_profiles (seller_id, profile_id, name, working_days, order_cutoff, delivery_type,
           default_processing_time, transport_time, data, synced_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (seller_id, profile_id) DO UPDATE SET name = excluded.name, working_days = excluded.working_days,
           order_cutoff = excluded.order_cutoff, delivery_type = excluded.delivery_type,
           default_processing_time = excluded.default_processing_time, transport_time = excluded.transport_time,
           data = excluded.data, synced_at = excluded.synced_at`,
      );
      for (const p of profiles) {
        const existing = find.get(sellerId, p.shippingProfileId) as { data: string } | undefined;
        const data = canonicalJson(p.data);
        if (existing && existing.data === data) {
          result.unchanged++;
          continue;
        }
        upsert.run(
          sellerId,
          p.shippingProfileId,
          p.shippingProfileName,
          JSON.stringify(p.workingDays),
          p.orderCutoff,
          p.deliveryType,
          p.defaultProcessingTime,
          p.transportTime,
          data,
          now(),
        );
        if (existing) result.updated++;
        else result.inserted++;
      }
      return result;
    },
  );

  return {
    upsertOrders: async (sellerId, orders) => upsertOrders(sellerId, orders),
    listOrders: async (sellerId) =>
      (
        prepare('SELECT * FROM orders WHERE seller_id = ? ORDER BY change_date, sales_order_id').all(
          sellerId,
        ) as OrderRow[]
      ).map(toOrder),
    orderFeed: async (sellerId, afterSeq, limit) =>
      (
        prepare(
          'SELECT * FROM orders WHERE seller_id = ? AND change_seq > ? ORDER BY change_seq LIMIT ?',
        ).all(sellerId, afterSeq, limit) as Array<OrderRow & { change_seq: number }>
      ).map((r) => toFeedEntry(r, toOrder)),
    returnFeed: async (sellerId, afterSeq, limit) =>
      (
        prepare(
          'SELECT * FROM returns WHERE seller_id = ? AND change_seq > ? ORDER BY change_seq LIMIT ?',
        ).all(sellerId, afterSeq, limit) as Array<ReturnRow & { change_seq: number }>
      ).map((r) => toFeedEntry(r, toReturn)),
    applyShopBatch: async (sellerId, batch, claim) => applyShopBatch(sellerId, batch, claim),
    recordTransferRun: async (sellerId, run) => {
      recordTransferRun(sellerId, run);
    },
    transferRuns: async (sellerId) =>
      (
        prepare(
          `SELECT kind, started_at, finished_at, result, count, detail FROM transfer_runs
             WHERE seller_id = ? ORDER BY finished_at DESC, id DESC`,
        ).all(sellerId) as TransferRunRow[]
      ).map(toTransferRun),
    upsertReturns: async (sellerId, returns) => upsertReturns(sellerId, returns),
    listReturns: async (sellerId) =>
      (
        prepare(
          'SELECT * FROM returns WHERE seller_id = ? ORDER BY occurred_time IS NULL, occurred_time, position_item_id',
        ).all(sellerId) as ReturnRow[]
      ).map(toReturn),
    setStock: async (sellerId, levels) => {
      setStock(sellerId, levels);
    },
    stockChanges: async (sellerId, afterSeq, upToSeq = Number.MAX_SAFE_INTEGER) =>
      (
        prepare(
          'SELECT sku, quantity, change_seq FROM stock WHERE seller_id = ? AND change_seq > ? AND change_seq <= ? ORDER BY change_seq',
        ).all(sellerId, afterSeq, upToSeq) as SeqRow[]
      ).map(toStock),
    allStock: async (sellerId) =>
      (
        prepare('SELECT sku, quantity, change_seq FROM stock WHERE seller_id = ? ORDER BY sku').all(
          sellerId,
        ) as SeqRow[]
      ).map(toStock),
    pendingStock: async (sellerId) =>
      (
        prepare(
          `SELECT s.sku, s.quantity, s.change_seq FROM export_failures f
             JOIN stock s ON s.seller_id = f.seller_id AND s.sku = f.sku
             WHERE f.seller_id = ? AND f.kind = 'stock' ORDER BY s.sku`,
        ).all(sellerId) as SeqRow[]
      ).map(toStock),
    setPrices: async (sellerId, prices) => {
      setPrices(sellerId, prices);
    },
    priceChanges: async (sellerId, afterSeq, upToSeq = Number.MAX_SAFE_INTEGER) =>
      (
        prepare(
          'SELECT sku, amount, currency, change_seq FROM prices WHERE seller_id = ? AND change_seq > ? AND change_seq <= ? ORDER BY change_seq',
        ).all(sellerId, afterSeq, upToSeq) as PriceRow[]
      ).map(toPrice),
    allPrices: async (sellerId) =>
      (
        prepare('SELECT sku, amount, currency, change_seq FROM prices WHERE seller_id = ? ORDER BY sku').all(
          sellerId,
        ) as PriceRow[]
      ).map(toPrice),
    pendingPrices: async (sellerId) =>
      (
        prepare(
          `SELECT p.sku, p.amount, p.currency, p.change_seq FROM export_failures f
             JOIN prices p ON p.seller_id = f.seller_id AND p.sku = f.sku
             WHERE f.seller_id = ? AND f.kind = 'prices' ORDER BY p.sku`,
        ).all(sellerId) as PriceRow[]
      ).map(toPrice),
    recordExportOutcome: async (sellerId, kind, outcome) => recordExportOutcome(sellerId, kind, outcome),
    exportFailures: async (sellerId, kind) =>
      (
        prepare(
          `SELECT sku, error, attempts, first_failed_at, last_failed_at FROM export_failures
             WHERE seller_id = ? AND kind = ? ORDER BY sku`,
        ).all(sellerId, kind) as ExportFailureRow[]
      ).map(toExportFailure),
    currentChangeSeq: async () =>
      (prepare('SELECT value FROM change_counter WHERE id = 1').get() as { value: number }).value,
    // Writes take their numbers from the counter inside their transaction: the committed value is the bound.
    changeSeqCeiling: async () =>
      (prepare('SELECT value FROM change_counter WHERE id = 1').get() as { value: number }).value,
    upsertShippingProfiles: async (sellerId, profiles) => upsertProfiles(sellerId, profiles),
    removeShippingProfilesExcept: async (sellerId, keepIds) =>
      prepare(
        'DELETE FROM shipping_profiles WHERE seller_id = ? AND profile_id NOT IN (SELECT value FROM json_each(?))',
      ).run(sellerId, JSON.stringify(keepIds)).changes,
    listShippingProfiles: async (sellerId) =>
      (
        prepare('SELECT * FROM shipping_profiles WHERE seller_id = ? ORDER BY profile_id').all(
          sellerId,
        ) as ProfileRow[]
      ).map(toProfile),
    putConnectionStatus: async (row: Omit<ConnectionStatusRow, 'updatedAt'>) =>
      putStatus.run(...connectionStatusValues(row, Date.now())).changes > 0,
    getConnectionStatus: async (sellerId) => {
      const row = getStatus.get(sellerId) as ConnectionStatusDbRow | undefined;
      return row === undefined ? null : toConnectionStatus(row);
    },
    putInstallationToken: async (row) =>
      putToken.run(row.sellerId, row.installationId, row.handle, row.sealed, row.expiresAt).changes > 0,
    getInstallationToken: async (sellerId, installationId) => {
      const row = getToken.get(sellerId, installationId) as InstallationTokenDbRow | undefined;
      return row === undefined ? null : toInstallationToken(sellerId, installationId, row);
    },
    deleteInstallationTokensExpiredBefore: async (at) =>
      prepare('DELETE FROM installation_tokens WHERE expires_at < ?').run(at).changes,
    deleteInstallationTokens: async (sellerId) =>
      prepare('DELETE FROM installation_tokens WHERE seller_id = ?').run(sellerId).changes,
    spendOneTimeId: async (scope, id, expiresAt) =>
      prepare('INSERT INTO spent_ids (scope, id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(
        scope,
        id,
        expiresAt,
      ).changes > 0,
    deleteSpentIdsExpiredBefore: async (at) =>
      prepare('DELETE FROM spent_ids WHERE expires_at < ?').run(at).changes,
    // created_at is an ISO string (toISOString: one format, so text order is time order).
    deleteIdempotencyKeysCreatedBefore: async (at) =>
      prepare('DELETE FROM idempotency_keys WHERE created_at < ?').run(new Date(at).toISOString()).changes,
    close: async () => {
      db.close();
    },
  };
}
