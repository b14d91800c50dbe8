/**
 * The SellerStore on a PostgreSQL server (`SELLER_STORE=postgres://…`), for several worker processes
 * and the API on more than one machine. Same semantics as the SQLite store (the contract suite in
 * test/store runs the same cases against both):
 *
 * - Schema: the plain SQL files in store/migrations/, applied in name order, each once and inside a
 *   transaction, recorded in `schema_migrations`; a session advisory lock makes two processes starting at
 *   once take turns (the second finds nothing left to do).
 * - Orders, returns, shipping profiles: one `INSERT … ON CONFLICT DO UPDATE … WHERE <newer>` per item,
 *   so two workers importing the same page at once neither lose nor duplicate anything, and the newer
 *   change wins whichever commits first. A batch is one transaction (a deadlock or serialization failure
 *   is retried; when retries run out it is "store unavailable", a 503). One seller's stock or price
 *   writes take turns (SHOP_WRITE_LOCK), so two batches naming the same SKUs in other orders never
 *   deadlock.
 * - Change numbers: one sequence (monotonic across processes). A writer takes the shared advisory lock
 *   CHANGE_LOCK before drawing numbers and holds it until commit; currentChangeSeq() takes it exclusively
 *   for a moment, so every number at or below the bound it returns is committed (or rolled back) and an
 *   export that reads "changes up to the bound" never skips a change that commits later. Rolled-back
 *   numbers leave gaps, which exports do not mind.
 * - Connection status rows: one statement each way, as named (server-side prepared) statements; the
 *   upsert's WHERE compares the ordering key, so concurrent writers need no transaction.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import {
  TRANSFER_RUNS_KEPT,
  type ConnectionStatusRow,
  type InstallationTokenRow,
  type ExportFailure,
  type ExportKind,
  type FeedEntry,
  type FeedUpsertResult,
  type IdempotencyClaim,
  type Price,
  type SellerStore,
  type ShopBatch,
  type ShopBatchOutcome,
  type StockLevel,
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

/** Advisory lock keys (per database): migrations, and the change-number horizon. */
const MIGRATION_LOCK = 0x6f74_746f_0001; // "otto" 1
export const CHANGE_LOCK = 0x6f74_746f_0002; // "otto" 2
/**
 * The first key of the two-key advisory lock one seller's shop writes of one kind take (the second is a
 * hash of seller and kind; two-key locks never meet the one-key CHANGE_LOCK). Two batches of one seller
 * with the same SKUs in different orders would lock their rows crosswise and deadlock (PostgreSQL picks a
 * victim, again and again under load); taken in turn, they cannot.
 */
const SHOP_WRITE_LOCK = 0x6f74_0003;

export const MIGRATIONS_DIR = join(__dirname, 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migration files `NNN_name.sql`, in version order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
      if (!m) throw new Error(`migration file ${file} is not named NNN_name.sql`);
      return { version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migrations must be numbered 1, 2, …: found ${m.version} at ${i + 1}`);
  });
  return migrations;
}

/**
 * Applies the migrations this database lacks and returns the versions it applied. Safe when several
 * processes run it at once (session advisory lock); each migration and its record commit together.
 */
export async function migratePostgres(pool: Pool, migrations = loadMigrations()): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const done = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...done);
      if (newest > migrations.length)
        throw new Error(
          `the seller store's schema is at version ${newest}, newer than this code knows (${migrations.length}): run the newer release`,
        );
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(
            `seller store migration ${m.version} (${m.name}) failed: ${err instanceof Error ? err.message : String(err)}`,
            { cause: err },
          );
        }
        applied.push(m.version);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
  return applied;
}

/** Date.parse as the SQLite store compares; null for what does not parse (never newer, never older). */
function epochMs(date: string | null): number | null {
  if (date === null) return null;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? null : ms;
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock detected

/** pg's "did the upsert insert or update": a fresh row has no xmax. */
const UPSERT_RETURNING = 'RETURNING (xmax = 0) AS inserted';
function count(result: UpsertResult, rows: Array<{ inserted: boolean }>): void {
  if (rows.length === 0) result.unchanged++;
  else if (rows[0]!.inserted) result.inserted++;
  else result.updated++;
}

export interface PostgresSellerStoreOptions {
  /** Connections per process (default 10). */
  maxConnections?: number;
  /** Apply pending migrations on open (default true: the worker and the API migrate on start). */
  migrate?: boolean;
  /** Told which migrations were applied. */
  onMigrated?: (versions: number[]) => void;
}

export class PostgresSellerStore implements SellerStore {
  private constructor(private readonly pool: Pool) {}

  /** Connects, applies pending migrations, and returns the store. */
  static async open(url: string, opts: PostgresSellerStoreOptions = {}): Promise<PostgresSellerStore> {
    const config: PoolConfig = {
      connectionString: url,
      max: opts.maxConnections ?? 10,
      application_name: 'otto-connect',
      // Nothing waits forever (each is answered 503 store_unavailable, store/store-errors.ts): a connection
      // the pool cannot hand out or open within 10 s; a session left idle inside a transaction for 60 s
      // (a worker that died or hung mid-write) is ended by the server, which frees its locks, instead of
      // holding up every feed and write until TCP notices (hours); keep-alive finds dead peers sooner.
      connectionTimeoutMillis: 10_000,
      idle_in_transaction_session_timeout: 60_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
    const pool = new Pool(config);
    // An idle connection that the server drops must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      const applied = opts.migrate === false ? [] : await migratePostgres(pool);
      opts.onMigrated?.(applied);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresSellerStore(pool);
  }

  /** Runs `work` in one transaction, retried on deadlock or serialization failure. */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (err as { code?: string }).code;
        if (attempt < 5 && code && RETRYABLE.has(code)) {
          await new Promise((r) => setTimeout(r, 10 * attempt * Math.random()));
          continue;
        }
        throw err;
      } finally {
        client.release();
      }
    }
  }

  /** Inside a transaction, before its stock or price rows: one seller's writes of one kind in turn. */
  private static async holdShopWriteLock(client: PoolClient, sellerId: string, kind: string): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      SHOP_WRITE_LOCK,
      `${kind}:${sellerId}`,
    ]);
  }

  /** Inside a transaction that draws change numbers: before the first one (see the file comment). */
  private static async holdChangeLock(client: PoolClient): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock_shared($1)', [CHANGE_LOCK]);
  }

  async upsertOrders(sellerId: string, orders: StoreOrder[]): Promise<FeedUpsertResult> {
    return this.transaction(async (client) => {
      await PostgresSellerStore.holdChangeLock(client);
      const result: FeedUpsertResult = { inserted: 0, updated: 0, unchanged: 0, changed: [] };
      const now = new Date().toISOString();
      for (const o of orders) {
        // A newer change takes the next number in the update itself; a new row takes it right after its
        // insert (a number drawn in VALUES would be spent on every unchanged order as well).
        const { rows } = await client.query<{ inserted: boolean; change_seq: string }>(
          `INSERT INTO orders (seller_id, sales_order_id, order_number, order_date, change_date, change_ms,
             lifecycle_change_date, last_modified_date, fulfillment_status, positions, data, imported_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
           ON CONFLICT (seller_id, sales_order_id) DO UPDATE SET change_date = excluded.change_date,
             change_ms = excluded.change_ms, lifecycle_change_date = excluded.lifecycle_change_date,
             last_modified_date = excluded.last_modified_date, fulfillment_status = excluded.fulfillment_status,
             positions = excluded.positions, data = excluded.data, updated_at = excluded.updated_at,
             change_seq = nextval('change_seq')
           WHERE excluded.change_ms > orders.change_ms
             OR (excluded.change_ms = orders.change_ms AND (excluded.fulfillment_status <> orders.fulfillment_status
               OR excluded.positions <> orders.positions))
           ${UPSERT_RETURNING}, change_seq`,
          [
            sellerId,
            o.salesOrderId,
            o.orderNumber,
            o.orderDate,
            o.changeDate,
            epochMs(o.changeDate),
            o.lifecycleChangeDate,
            o.lastModifiedDate,
            o.fulfillmentStatus,
            JSON.stringify(o.positionItems),
            o.data === undefined ? null : JSON.stringify(o.data),
            now,
          ],
        );
        const seq = await PostgresSellerStore.numberNew(
          client,
          rows,
          'orders',
          'sales_order_id',
          sellerId,
          o.salesOrderId,
        );
        count(result, rows);
        if (seq !== undefined) result.changed.push({ id: o.salesOrderId, changeSeq: seq });
      }
      return result;
    });
  }

  /** After an upsert: the change number of a changed row (drawn now for a new one), none if unchanged. */
  private static async numberNew(
    client: PoolClient,
    rows: Array<{ inserted: boolean; change_seq: string }>,
    table: 'orders' | 'returns',
    idColumn: 'sales_order_id' | 'position_item_id',
    sellerId: string,
    id: string,
  ): Promise<number | undefined> {
    const row = rows[0];
    if (!row) return undefined;
    if (!row.inserted) return Number(row.change_seq);
    const numbered = await client.query<{ change_seq: string }>(
      `UPDATE ${table} SET change_seq = nextval('change_seq') WHERE seller_id = $1 AND ${idColumn} = $2
       RETURNING change_seq`,
      [sellerId, id],
    );
    return Number(numbered.rows[0]!.change_seq);
  }

  async listOrders(sellerId: string): Promise<StoreOrder[]> {
    const { rows } = await this.pool.query<OrderRow>(
      'SELECT * FROM orders WHERE seller_id = $1 ORDER BY change_date, sales_order_id',
      [sellerId],
    );
    return rows.map(toOrder);
  }

  async upsertReturns(sellerId: string, returns: StoreReturn[]): Promise<FeedUpsertResult> {
    return this.transaction(async (client) => {
      await PostgresSellerStore.holdChangeLock(client);
      const result: FeedUpsertResult = { inserted: 0, updated: 0, unchanged: 0, changed: [] };
      const now = new Date().toISOString();
      for (const r of returns) {
        // Without a time on either side the order of events is unknown: the latest read wins if it differs.
        const { rows } = await client.query<{ inserted: boolean; change_seq: string }>(
          `INSERT INTO returns (seller_id, position_item_id, sales_order_id, status, occurred_time, occurred_ms,
             details, imported_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
           ON CONFLICT (seller_id, position_item_id) DO UPDATE SET sales_order_id = excluded.sales_order_id,
             status = excluded.status, occurred_time = excluded.occurred_time, occurred_ms = excluded.occurred_ms,
             details = excluded.details, updated_at = excluded.updated_at, change_seq = nextval('change_seq')
           WHERE CASE
             WHEN excluded.occurred_time IS NOT NULL AND returns.occurred_time IS NOT NULL
               THEN coalesce(excluded.occurred_ms > returns.occurred_ms OR (excluded.occurred_ms = returns.occurred_ms
                 AND (excluded.status <> returns.status OR excluded.details <> returns.details)), false)
             ELSE excluded.status <> returns.status OR excluded.details <> returns.details
           END
           ${UPSERT_RETURNING}, change_seq`,
          [
            sellerId,
            r.positionItemId,
            r.salesOrderId,
            r.status,
            r.occurredTime,
            epochMs(r.occurredTime),
            JSON.stringify(r.details ?? null),
            now,
          ],
        );
        const seq = await PostgresSellerStore.numberNew(
          client,
          rows,
          'returns',
          'position_item_id',
          sellerId,
          r.positionItemId,
        );
        count(result, rows);
        if (seq !== undefined) result.changed.push({ id: r.positionItemId, changeSeq: seq });
      }
      return result;
    });
  }

  async listReturns(sellerId: string): Promise<StoreReturn[]> {
    const { rows } = await this.pool.query<ReturnRow>(
      `SELECT * FROM returns WHERE seller_id = $1
       ORDER BY occurred_time IS NULL, occurred_time, position_item_id`,
      [sellerId],
    );
    return rows.map(toReturn);
  }

  async setStock(sellerId: string, levels: Array<{ sku: string; quantity: number }>): Promise<void> {
    checkStock(levels);
    if (levels.length === 0) return;
    await this.transaction((client) => PostgresSellerStore.writeStock(client, sellerId, levels));
  }

  /** Inside a transaction: each level takes the next change number; returns them in batch order. */
  private static async writeStock(
    client: PoolClient,
    sellerId: string,
    levels: Array<{ sku: string; quantity: number }>,
  ): Promise<number[]> {
    await PostgresSellerStore.holdShopWriteLock(client, sellerId, 'stock');
    await PostgresSellerStore.holdChangeLock(client);
    const now = new Date().toISOString();
    const seqs: number[] = [];
    for (const l of levels) {
      const { rows } = await client.query<{ change_seq: string }>(
        `INSERT INTO stock (seller_id, sku, quantity, change_seq, changed_at)
         VALUES ($1, $2, $3, nextval('change_seq'), $4)
         ON CONFLICT (seller_id, sku) DO UPDATE SET quantity = excluded.quantity,
           change_seq = excluded.change_seq, changed_at = excluded.changed_at
         RETURNING change_seq`,
        [sellerId, l.sku, l.quantity, now],
      );
      seqs.push(Number(rows[0]!.change_seq));
    }
    return seqs;
  }

  private static async writePrices(
    client: PoolClient,
    sellerId: string,
    prices: Array<{ sku: string; amount: number; currency: string }>,
  ): Promise<number[]> {
    await PostgresSellerStore.holdShopWriteLock(client, sellerId, 'prices');
    await PostgresSellerStore.holdChangeLock(client);
    const now = new Date().toISOString();
    const seqs: number[] = [];
    for (const p of prices) {
      const { rows } = await client.query<{ change_seq: string }>(
        `INSERT INTO prices (seller_id, sku, amount, currency, change_seq, changed_at)
         VALUES ($1, $2, $3, $4, nextval('change_seq'), $5)
         ON CONFLICT (seller_id, sku) DO UPDATE SET amount = excluded.amount, currency = excluded.currency,
           change_seq = excluded.change_seq, changed_at = excluded.changed_at
         RETURNING change_seq`,
        [sellerId, p.sku, p.amount, p.currency, now],
      );
      seqs.push(Number(rows[0]!.change_seq));
    }
    return seqs;
  }

  async applyShopBatch(
    sellerId: string,
    batch: ShopBatch,
    claim?: IdempotencyClaim,
  ): Promise<ShopBatchOutcome> {
    if (batch.kind === 'stock') checkStock(batch.items);
    return this.transaction(async (client): Promise<ShopBatchOutcome> => {
      if (claim) {
        const cutoff = idempotencyCutoff(claim);
        await client.query('DELETE FROM idempotency_keys WHERE seller_id = $1 AND created_at < $2', [
          sellerId,
          cutoff,
        ]);
        // The key's primary key decides between two concurrent writes: the second insert waits for the
        // first transaction and then finds its row (or, if that rolled back, takes the key itself).
        const claimed = await client.query(
          `INSERT INTO idempotency_keys (seller_id, key, fingerprint, result, created_at) VALUES ($1, $2, $3, NULL, $4)
           ON CONFLICT (seller_id, key) DO NOTHING RETURNING 1`,
          [sellerId, claim.key, claim.fingerprint, claim.at],
        );
        if (claimed.rowCount === 0) {
          const { rows } = await client.query<{ fingerprint: string; result: string | null }>(
            'SELECT fingerprint, result FROM idempotency_keys WHERE seller_id = $1 AND key = $2',
            [sellerId, claim.key],
          );
          const existing = rows[0];
          if (!existing) throw Object.assign(new Error('idempotency key vanished'), { code: '40001' });
          return storedKeyOutcome(existing, claim);
        }
      }
      const seqs =
        batch.kind === 'stock'
          ? await PostgresSellerStore.writeStock(client, sellerId, batch.items)
          : await PostgresSellerStore.writePrices(client, sellerId, batch.items);
      const result = batchResult(seqs);
      if (claim)
        await client.query('UPDATE idempotency_keys SET result = $3 WHERE seller_id = $1 AND key = $2', [
          sellerId,
          claim.key,
          JSON.stringify(result),
        ]);
      return { outcome: 'applied', result };
    });
  }

  async recordTransferRun(sellerId: string, run: TransferRun): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(
        `INSERT INTO transfer_runs (seller_id, kind, started_at, finished_at, result, count, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          sellerId,
          run.kind,
          run.startedAt,
          run.finishedAt,
          run.result,
          run.count,
          run.detail.slice(0, MAX_RUN_DETAIL),
        ],
      );
      await client.query(
        `DELETE FROM transfer_runs WHERE seller_id = $1 AND kind = $2 AND id NOT IN (
           SELECT id FROM transfer_runs WHERE seller_id = $1 AND kind = $2 ORDER BY finished_at DESC, id DESC LIMIT $3)`,
        [sellerId, run.kind, TRANSFER_RUNS_KEPT],
      );
    });
  }

  async transferRuns(sellerId: string): Promise<TransferRun[]> {
    const { rows } = await this.pool.query<TransferRunRow>(
      `SELECT kind, started_at, finished_at, result, count, detail FROM transfer_runs
       WHERE seller_id = $1 ORDER BY finished_at DESC, id DESC`,
      [sellerId],
    );
    return rows.map(toTransferRun);
  }

  async orderFeed(sellerId: string, afterSeq: number, limit: number): Promise<Array<FeedEntry<StoreOrder>>> {
    // Only numbers at or below the horizon: every one of them is committed, so a cursor past them is safe.
    const horizon = await this.currentChangeSeq();
    const { rows } = await this.pool.query<OrderRow & { change_seq: string }>(
      `SELECT * FROM orders WHERE seller_id = $1 AND change_seq > $2 AND change_seq <= $3
       ORDER BY change_seq LIMIT $4`,
      [sellerId, afterSeq, horizon, limit],
    );
    return rows.map((r) => toFeedEntry(r, toOrder));
  }

  async returnFeed(
    sellerId: string,
    afterSeq: number,
    limit: number,
  ): Promise<Array<FeedEntry<StoreReturn>>> {
    const horizon = await this.currentChangeSeq();
    const { rows } = await this.pool.query<ReturnRow & { change_seq: string }>(
      `SELECT * FROM returns WHERE seller_id = $1 AND change_seq > $2 AND change_seq <= $3
       ORDER BY change_seq LIMIT $4`,
      [sellerId, afterSeq, horizon, limit],
    );
    return rows.map((r) => toFeedEntry(r, toReturn));
  }

  async stockChanges(
    sellerId: string,
    afterSeq: number,
    upToSeq = Number.MAX_SAFE_INTEGER,
  ): Promise<StockLevel[]> {
    const { rows } = await this.pool.query<SeqRow>(
      `SELECT sku, quantity, change_seq FROM stock
       WHERE seller_id = $1 AND change_seq > $2 AND change_seq <= $3 ORDER BY change_seq`,
      [sellerId, afterSeq, upToSeq],
    );
    return rows.map(toStock);
  }

  async allStock(sellerId: string): Promise<StockLevel[]> {
    const { rows } = await this.pool.query<SeqRow>(
      'SELECT sku, quantity, change_seq FROM stock WHERE seller_id = $1 ORDER BY sku',
      [sellerId],
    );
    return rows.map(toStock);
  }

  async pendingStock(sellerId: string): Promise<StockLevel[]> {
    const { rows } = await this.pool.query<SeqRow>(
      `SELECT s.sku, s.quantity, s.change_seq FROM export_failures f
       JOIN stock s ON s.seller_id = f.seller_id AND s.sku = f.sku
       WHERE f.seller_id = $1 AND f.kind = 'stock' ORDER BY s.sku`,
      [sellerId],
    );
    return rows.map(toStock);
  }

  async setPrices(
    sellerId: string,
    prices: Array<{ sku: string; amount: number; currency: string }>,
  ): Promise<void> {
    if (prices.length === 0) return;
    await this.transaction((client) => PostgresSellerStore.writePrices(client, sellerId, prices));
  }

  async priceChanges(
    sellerId: string,
    afterSeq: number,
    upToSeq = Number.MAX_SAFE_INTEGER,
  ): Promise<Price[]> {
    const { rows } = await this.pool.query<PriceRow>(
      `SELECT sku, amount, currency, change_seq FROM prices
       WHERE seller_id = $1 AND change_seq > $2 AND change_seq <= $3 ORDER BY change_seq`,
      [sellerId, afterSeq, upToSeq],
    );
    return rows.map(toPrice);
  }

  async allPrices(sellerId: string): Promise<Price[]> {
    const { rows } = await this.pool.query<PriceRow>(
      'SELECT sku, amount, currency, change_seq FROM prices WHERE seller_id = $1 ORDER BY sku',
      [sellerId],
    );
    return rows.map(toPrice);
  }

  async pendingPrices(sellerId: string): Promise<Price[]> {
    const { rows } = await this.pool.query<PriceRow>(
      `SELECT p.sku, p.amount, p.currency, p.change_seq FROM export_failures f
       JOIN prices p ON p.seller_id = f.seller_id AND p.sku = f.sku
       WHERE f.seller_id = $1 AND f.kind = 'prices' ORDER BY p.sku`,
      [sellerId],
    );
    return rows.map(toPrice);
  }

  async recordExportOutcome(
    sellerId: string,
    kind: ExportKind,
    outcome: { taken: string[]; refused: Array<{ sku: string; error: string }> },
  ): Promise<void> {
    await this.transaction(async (client) => {
      if (outcome.taken.length > 0)
        await client.query(
          'DELETE FROM export_failures WHERE seller_id = $1 AND kind = $2 AND sku = ANY($3::text[])',
          [sellerId, kind, outcome.taken],
        );
      const at = new Date().toISOString();
      for (const r of outcome.refused)
        await client.query(
          `INSERT INTO export_failures (seller_id, kind, sku, error, attempts, first_failed_at, last_failed_at)
           VALUES ($1, $2, $3, $4, 1, $5, $5)
           ON CONFLICT (seller_id, kind, sku) DO UPDATE SET error = excluded.error,
             attempts = export_failures.attempts + 1, last_failed_at = excluded.last_failed_at`,
          [sellerId, kind, r.sku, r.error, at],
        );
    });
  }

  async exportFailures(sellerId: string, kind: ExportKind): Promise<ExportFailure[]> {
    const { rows } = await this.pool.query<ExportFailureRow>(
      `SELECT sku, error, attempts, first_failed_at, last_failed_at FROM export_failures
       WHERE seller_id = $1 AND kind = $2 ORDER BY sku`,
      [sellerId, kind],
    );
    return rows.map(toExportFailure);
  }

  async currentChangeSeq(): Promise<number> {
    return this.transaction(async (client) => {
      // Waits for every writer that may hold a number not yet committed (see the file comment).
      await client.query('SELECT pg_advisory_xact_lock($1)', [CHANGE_LOCK]);
      const { rows } = await client.query<{ value: string }>(
        'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS value FROM change_seq',
      );
      return Number(rows[0]!.value);
    });
  }

  async changeSeqCeiling(): Promise<number> {
    // No lock: the sequence's last value covers every number drawn, committed or not.
    const { rows } = await this.pool.query<{ value: string }>(
      'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS value FROM change_seq',
    );
    return Number(rows[0]!.value);
  }

  async upsertShippingProfiles(sellerId: string, profiles: StoreShippingProfile[]): Promise<UpsertResult> {
    return this.transaction(async (client) => {
      const result = { inserted: 0, updated: 0, unchanged: 0 };
      const now = new Date().toISOString();
      for (const p of profiles) {
        const { rows } = await client.query<{ inserted: boolean }>(
          `INSERT INTO shipping_profiles (seller_id, profile_id, name, working_days, order_cutoff, delivery_type,
             default_processing_time, transport_time, data, synced_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (seller_id, profile_id) DO UPDATE SET name = excluded.name,
             working_days = excluded.working_days, order_cutoff = excluded.order_cutoff,
             delivery_type = excluded.delivery_type, default_processing_time = excluded.default_processing_time,
             transport_time = excluded.transport_time, data = excluded.data, synced_at = excluded.synced_at
           WHERE shipping_profiles.data <> excluded.data
           ${UPSERT_RETURNING}`,
          [
            sellerId,
            p.shippingProfileId,
            p.shippingProfileName,
            JSON.stringify(p.workingDays),
            p.orderCutoff,
            p.deliveryType,
            p.defaultProcessingTime,
            p.transportTime,
            canonicalJson(p.data),
            now,
          ],
        );
        count(result, rows);
      }
      return result;
    });
  }

  async removeShippingProfilesExcept(sellerId: string, keepIds: string[]): Promise<number> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM shipping_profiles WHERE seller_id = $1 AND NOT (profile_id = ANY($2::text[]))',
      [sellerId, keepIds],
    );
    return rowCount ?? 0;
  }

  async listShippingProfiles(sellerId: string): Promise<StoreShippingProfile[]> {
    const { rows } = await this.pool.query<ProfileRow>(
      'SELECT * FROM shipping_profiles WHERE seller_id = $1 ORDER BY profile_id',
      [sellerId],
    );
    return rows.map(toProfile);
  }

  async putConnectionStatus(row: Omit<ConnectionStatusRow, 'updatedAt'>): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'put-connection-status',
      text: `INSERT INTO connection_status (seller_id, run_id, run_started_at, history_length, seq, summary,
               valid_until, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (seller_id) DO UPDATE SET run_id = excluded.run_id,
               run_started_at = excluded.run_started_at, history_length = excluded.history_length,
               seq = excluded.seq, summary = excluded.summary, valid_until = excluded.valid_until,
               updated_at = excluded.updated_at
             WHERE (excluded.run_started_at, excluded.history_length, excluded.seq)
                 > (connection_status.run_started_at, connection_status.history_length, connection_status.seq)`,
      values: connectionStatusValues(row, Date.now()),
    });
    return (rowCount ?? 0) > 0;
  }

  async getConnectionStatus(sellerId: string): Promise<ConnectionStatusRow | null> {
    const { rows } = await this.pool.query<ConnectionStatusDbRow>({
      name: 'get-connection-status',
      text: 'SELECT * FROM connection_status WHERE seller_id = $1',
      values: [sellerId],
    });
    return rows[0] === undefined ? null : toConnectionStatus(rows[0]);
  }

  async putInstallationToken(row: InstallationTokenRow): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'put-installation-token',
      text: `INSERT INTO installation_tokens (seller_id, installation_id, handle, sealed, expires_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (seller_id, installation_id) DO UPDATE SET handle = excluded.handle,
               sealed = excluded.sealed, expires_at = excluded.expires_at
             WHERE excluded.expires_at >= installation_tokens.expires_at`,
      values: [row.sellerId, row.installationId, row.handle, row.sealed, row.expiresAt],
    });
    return (rowCount ?? 0) > 0;
  }

  async getInstallationToken(sellerId: string, installationId: string): Promise<InstallationTokenRow | null> {
    const { rows } = await this.pool.query<InstallationTokenDbRow>({
      name: 'get-installation-token',
      text: 'SELECT handle, sealed, expires_at FROM installation_tokens WHERE seller_id = $1 AND installation_id = $2',
      values: [sellerId, installationId],
    });
    return rows[0] === undefined ? null : toInstallationToken(sellerId, installationId, rows[0]);
  }

  async deleteInstallationTokensExpiredBefore(at: number): Promise<number> {
    const { rowCount } = await this.pool.query({
      name: 'delete-expired-installation-tokens',
      text: 'DELETE FROM installation_tokens WHERE expires_at < $1',
      values: [at],
    });
    return rowCount ?? 0;
  }

  async deleteInstallationTokens(sellerId: string): Promise<number> {
    const { rowCount } = await this.pool.query({
      name: 'delete-installation-tokens',
      text: 'DELETE FROM installation_tokens WHERE seller_id = $1',
      values: [sellerId],
    });
    return rowCount ?? 0;
  }

  async spendOneTimeId(scope: string, id: string, expiresAt: number): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'spend-one-time-id',
      text: 'INSERT INTO spent_ids (scope, id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      values: [scope, id, expiresAt],
    });
    return (rowCount ?? 0) > 0;
  }

  async deleteSpentIdsExpiredBefore(at: number): Promise<number> {
    const { rowCount } = await this.pool.query({
      name: 'delete-expired-spent-ids',
      text: 'DELETE FROM spent_ids WHERE expires_at < $1',
      values: [at],
    });
    return rowCount ?? 0;
  }

  async deleteIdempotencyKeysCreatedBefore(at: number): Promise<number> {
    const { rowCount } = await this.pool.query({
      name: 'delete-expired-idempotency-keys',
      text: 'DELETE FROM idempotency_keys WHERE created_at < $1',
      values: [new Date(at).toISOString()],
    });
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Opens (and migrates) the PostgreSQL seller store at `url` (`postgres://…` or `postgresql://…`). */
export function openPostgresSellerStore(
  url: string,
  opts: PostgresSellerStoreOptions = {},
): Promise<PostgresSellerStore> {
  return PostgresSellerStore.open(url, opts);
}
