/**
 * The shop system's side of a seller's data: orders and returns come in from OTTO, stock and prices go
 * out. One interface, so a server database can replace the SQLite default. Every write is idempotent:
 * importing the same OTTO page twice changes nothing.
 */

export interface StorePositionItem {
  positionItemId: string;
  /** OTTO's status of this item: ANNOUNCED, PROCESSABLE, SENT, RETURNED, CANCELLED_BY_PARTNER, CANCELLED_BY_MARKETPLACE. */
  fulfillmentStatus: string;
  sku: string;
  /** Gross item price (`itemValueGrossPrice`). */
  amount: number;
  currency: string;
  articleNumber?: string;
  productTitle?: string;
  cancellationReason?: string | null;
}

export interface StoreOrder {
  salesOrderId: string;
  orderNumber: string;
  orderDate: string;
  /**
   * The order's status, derived from its position items the way OTTO buckets orders
   * (activities/order-status.ts): OTTO has no order-level status.
   */
  fulfillmentStatus: string;
  /** What upserts compare: the later of `lastModifiedDate` and `lifecycleChangeDate`. */
  changeDate: string;
  /** `orderLifecycleInformation.lifecycleChangeDate` (required at OTTO). */
  lifecycleChangeDate: string;
  /** Optional at OTTO: null when OTTO sent none. */
  lastModifiedDate: string | null;
  positionItems: StorePositionItem[];
  /** The whole PartnerOrder as OTTO sent it (addresses, payment, fees, fields added later …). */
  data?: Record<string, unknown>;
}

/** A return (OTTO returns v3): one position item's latest return status. */
export interface StoreReturn {
  positionItemId: string;
  salesOrderId: string;
  /** ANNOUNCED, ACCEPTED, REJECTED, MISDIRECTED (as OTTO sends it). */
  status: string;
  /** When the status changed at OTTO; null if OTTO sent none. Upserts compare it. */
  occurredTime: string | null;
  /** OTTO's `details` for this status (tracking key, condition/reason, misdirection), as JSON. */
  details: unknown;
}

export interface StockLevel {
  sku: string;
  quantity: number;
  /** Monotonic change number: exports remember the last one OTTO acknowledged. */
  changeSeq: number;
}

export interface Price {
  sku: string;
  amount: number;
  currency: string;
  changeSeq: number;
}

/** A shipping profile with every field OTTO gives (docs/otto-api.md §5.5); `data` keeps the whole object. */
export interface StoreShippingProfile {
  shippingProfileId: string;
  shippingProfileName: string;
  workingDays: string[];
  orderCutoff: string;
  deliveryType: string;
  defaultProcessingTime: number;
  transportTime: number;
  data: Record<string, unknown>;
}

export type ExportKind = 'stock' | 'prices';

/** A SKU OTTO refused in an export: sent again with every following run until OTTO takes it. */
export interface ExportFailure {
  sku: string;
  /** OTTO's error text from the last refusal. */
  error: string;
  /** How many runs OTTO refused it in a row. */
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
}

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * upsertOrders / upsertReturns: also what changed, for the shop's change feeds and the `orders.changed`
 * webhook. `changed` lists every inserted or updated item (salesOrderId for orders, positionItemId for
 * returns) in input order with the change number it got; unchanged items are not listed.
 */
export interface FeedUpsertResult extends UpsertResult {
  changed: Array<{ id: string; changeSeq: number }>;
}

/**
 * One item of the shop's change feeds (orderFeed, returnFeed): the item as it is now, with the change
 * number of its latest change. An item appears again in the feed only when an upsert changed it.
 */
export interface FeedEntry<T> {
  changeSeq: number;
  item: T;
}

/** The shop's batch write (PUT …/stock, PUT …/prices), already validated (SKUs unique in the batch). */
export type ShopBatch =
  | { kind: 'stock'; items: Array<{ sku: string; quantity: number }> }
  | { kind: 'prices'; items: Array<{ sku: string; amount: number; currency: string }> };

/** What a batch write did; also what is kept for an idempotency key and answered again on a replay. */
export interface ShopBatchResult {
  /** How many items were written (the batch's length). */
  accepted: number;
  /**
   * The change numbers of the batch's first and last item: increasing per item in batch order, not
   * necessarily consecutive (on PostgreSQL other sellers' writes draw from the same sequence meanwhile);
   * 0 and 0 for an empty batch.
   */
  firstChangeSeq: number;
  lastChangeSeq: number;
}

/** The `Idempotency-Key` of a batch write. */
export interface IdempotencyClaim {
  /** The header's value (1–255 printable ASCII characters). Keys are scoped per seller. */
  key: string;
  /** The request's fingerprint (a hash of operation and canonical body), compared on reuse. */
  fingerprint: string;
  /** Now, as an ISO timestamp: the key's creation time, and the clock for expiry. */
  at: string;
  /** How long a key is kept (IDEMPOTENCY_KEY_TTL_MS): older keys are expired and treated as absent. */
  ttlMs: number;
}

/** Idempotency keys are kept this long (24 h), as Stripe does. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export type ShopBatchOutcome =
  /** Written now (and, with a claim, the key stored with this result). */
  | { outcome: 'applied'; result: ShopBatchResult }
  /** The key was used before with the same fingerprint: nothing written, the first result again. */
  | { outcome: 'replayed'; result: ShopBatchResult }
  /** The key was used before (unexpired) with another fingerprint: nothing written. */
  | { outcome: 'key_reused' };

/** One finished run of a transfer activity attempt, for GET /api/sellers/:sellerId/transfers. */
export interface TransferRun {
  /** The transfer kind (ordersImport, stockExport, pricesExport, returnsImport, shippingProfilesSync). */
  kind: string;
  startedAt: string;
  finishedAt: string;
  result: 'ok' | 'failed';
  /** Items moved (0 for a failed run). */
  count: number;
  /** The run's summary, or the error message of a failed run (at most 1,000 characters kept). */
  detail: string;
}

/** Runs kept per seller and kind (the oldest beyond it are deleted when a run is recorded). */
export const TRANSFER_RUNS_KEPT = 20;

/**
 * A seller's connection status as its workflow last published it (issue 15, workflows/status-summary.ts):
 * written by the worker from the workflow's `statusRows` sink, read by `GET /api/sellers/:id/connection`
 * instead of calling Temporal. One row per seller: the newest run's latest summary.
 */
export interface ConnectionStatusRow {
  sellerId: string;
  runId: string;
  /** The run's start, in ms since the epoch: a newer run (continued as new, reconnected) starts later. */
  runStartedAt: number;
  /** The run's history length when the workflow task that published the summary started. */
  historyLength: number;
  /** The run's count of published summaries: orders two of one workflow task (same history length). */
  seq: number;
  /** The StatusSummary as JSON text (validated by the reader). */
  summary: string;
  /** Until when (ms since the epoch) the reader may trust the row; after that it asks Temporal. */
  validUntil: number;
  /** When the store wrote the row (ms since the epoch, the writer's clock). */
  updatedAt: number;
}

/**
 * A seller's current installation token, sealed (common/seal.ts), kept on the workers' side so the
 * workflow carries only its `handle` (activities/token-vault.ts): one row per seller and installation.
 */
export interface InstallationTokenRow {
  sellerId: string;
  installationId: string;
  /** The opaque, non-secret name the workflow carries for this token. */
  handle: string;
  /** The token, sealed for this seller (purpose installation-token). */
  sealed: string;
  /** When the token expires (ms since the epoch). */
  expiresAt: number;
}

/** What reads status rows (the API's connections adapter): the one method it needs. */
export type ConnectionStatusReader = Pick<SellerStore, 'getConnectionStatus'>;

export interface SellerStore {
  /**
   * Inserts new orders, applies newer changes (by changeDate), ignores older or equal ones. Every
   * inserted or updated order gets the next change number (see "Change numbers" below); an unchanged
   * one keeps its number, so the feed does not send it again.
   */
  upsertOrders(sellerId: string, orders: StoreOrder[]): Promise<FeedUpsertResult>;
  listOrders(sellerId: string): Promise<StoreOrder[]>;
  /**
   * Inserts new returns, applies newer status changes (by occurredTime), ignores older or equal ones;
   * inserted or updated returns get the next change number, as orders do.
   */
  upsertReturns(sellerId: string, returns: StoreReturn[]): Promise<FeedUpsertResult>;
  listReturns(sellerId: string): Promise<StoreReturn[]>;

  /**
   * The shop's orders feed: the seller's orders whose change number is > `afterSeq`, in ascending
   * change number, at most `limit` (≥ 1; the API asks for one more than its page size). Each order appears once, with its latest change number.
   *
   * Change numbers: orders, returns, stock and prices all draw from the one per-store counter that
   * currentChangeSeq reads (strictly increasing, never reused). They must become visible in number
   * order: once a reader has seen number N, no later-committed write may carry a number ≤ N (in SQL,
   * take the number from the counter row inside the writing transaction — its row lock orders the
   * commits — not from a plain SEQUENCE, whose numbers commit out of order).
   */
  orderFeed(sellerId: string, afterSeq: number, limit: number): Promise<Array<FeedEntry<StoreOrder>>>;
  /** The shop's returns feed: as orderFeed, over returns (one entry per position item). */
  returnFeed(sellerId: string, afterSeq: number, limit: number): Promise<Array<FeedEntry<StoreReturn>>>;

  /**
   * The shop's batch write, all or nothing in one transaction: every item gets the next change number
   * (as setStock / setPrices), so the next export sends it. With a claim, in the same transaction:
   * first the seller's keys older than `claim.ttlMs` (created before `claim.at` − ttl) are deleted; then
   * an existing key with the same fingerprint → `replayed` with its stored result, nothing written; with
   * another fingerprint → `key_reused`, nothing written; no key → the batch is written and the key stored
   * with its fingerprint, result and `claim.at`. Two concurrent writes with one key: one applies, the
   * other replays or gets key_reused (in SQL: the key's primary key (seller_id, key) decides; retry or
   * lock so that neither fails with a unique violation). Stock quantities must be integers ≥ 0 (the
   * route validates more; the store refuses a negative quantity by throwing, writing nothing).
   */
  applyShopBatch(sellerId: string, batch: ShopBatch, claim?: IdempotencyClaim): Promise<ShopBatchOutcome>;

  /**
   * Records one finished transfer run and keeps only the newest TRANSFER_RUNS_KEPT runs of that seller
   * and kind (by finishedAt, then insertion order).
   */
  recordTransferRun(sellerId: string, run: TransferRun): Promise<void>;
  /** The seller's recorded runs, newest first (by finishedAt, then insertion order), all kinds. */
  transferRuns(sellerId: string): Promise<TransferRun[]>;

  /** The shop changes stock; each change gets a new change number. */
  setStock(sellerId: string, levels: Array<{ sku: string; quantity: number }>): Promise<void>;
  /** Stock changed after `afterSeq` up to `upToSeq` (inclusive), in change order. */
  stockChanges(sellerId: string, afterSeq: number, upToSeq?: number): Promise<StockLevel[]>;
  allStock(sellerId: string): Promise<StockLevel[]>;
  /** Current stock of the SKUs OTTO refused last time (see exportFailures), to send again. */
  pendingStock(sellerId: string): Promise<StockLevel[]>;

  setPrices(
    sellerId: string,
    prices: Array<{ sku: string; amount: number; currency: string }>,
  ): Promise<void>;
  priceChanges(sellerId: string, afterSeq: number, upToSeq?: number): Promise<Price[]>;
  allPrices(sellerId: string): Promise<Price[]>;
  /** Current prices of the SKUs OTTO refused last time, to send again. */
  pendingPrices(sellerId: string): Promise<Price[]>;

  /**
   * One export batch's outcome, in one transaction: refused SKUs are recorded (attempts + 1, latest
   * error), taken SKUs lose any earlier refusal.
   */
  recordExportOutcome(
    sellerId: string,
    kind: ExportKind,
    outcome: { taken: string[]; refused: Array<{ sku: string; error: string }> },
  ): Promise<void>;
  /** The SKUs OTTO currently refuses, by SKU. */
  exportFailures(sellerId: string, kind: ExportKind): Promise<ExportFailure[]>;

  /** The newest change number so far (a snapshot bound for an export). */
  currentChangeSeq(): Promise<number>;
  /**
   * No change number above this was ever given out (numbers being written may be at or below it): an
   * upper bound read without waiting for writers, for the feeds' "cursor ahead of the store" check.
   */
  changeSeqCeiling(): Promise<number>;

  /** Inserts new profiles and replaces changed ones (any field); returns what changed. */
  upsertShippingProfiles(sellerId: string, profiles: StoreShippingProfile[]): Promise<UpsertResult>;
  /** Deletes the seller's profiles OTTO no longer lists; returns how many. */
  removeShippingProfilesExcept(sellerId: string, keepIds: string[]): Promise<number>;
  listShippingProfiles(sellerId: string): Promise<StoreShippingProfile[]>;

  /**
   * Writes the seller's status row unless the stored one is as new or newer: replaced only when
   * (runStartedAt, historyLength, seq) is strictly greater, so a late write (a worker that lost the
   * workflow task, a retried task, an older run) never overwrites a newer one. Returns whether it wrote.
   */
  putConnectionStatus(row: Omit<ConnectionStatusRow, 'updatedAt'>): Promise<boolean>;
  /** The seller's status row, or null when none was written. */
  getConnectionStatus(sellerId: string): Promise<ConnectionStatusRow | null>;

  /**
   * Keeps the installation's newest token: replaces the stored one only when this one expires as late
   * or later, so a late write (a retried or abandoned attempt of an older tick) never replaces a newer
   * token. Returns whether it wrote.
   */
  putInstallationToken(row: InstallationTokenRow): Promise<boolean>;
  /** The installation's stored token, or null. */
  getInstallationToken(sellerId: string, installationId: string): Promise<InstallationTokenRow | null>;
  /** Deletes every stored token that expired before `at` (ms since the epoch); returns how many. */
  deleteInstallationTokensExpiredBefore(at: number): Promise<number>;
  /** Deletes every stored token of the seller (its connection ended); returns how many. */
  deleteInstallationTokens(sellerId: string): Promise<number>;

  /**
   * Spends a one-time id within its scope (e.g. an assistant link's id): true the first time, false
   * whenever it was spent before, by any process sharing this store. Atomic: of two concurrent calls
   * exactly one gets true. The row is kept until `expiresAt` (ms since the epoch) has passed.
   */
  spendOneTimeId(scope: string, id: string, expiresAt: number): Promise<boolean>;
  /** Deletes every spent id whose expiry is before `at` (ms since the epoch); returns how many. */
  deleteSpentIdsExpiredBefore(at: number): Promise<number>;
  /**
   * Deletes every seller's idempotency keys created before `at` (ms since the epoch); returns how many.
   * A batch write deletes its own seller's expired keys; this reaches sellers that write no more (a
   * disconnected shop's last day of keys stayed for good).
   */
  deleteIdempotencyKeysCreatedBefore(at: number): Promise<number>;

  close(): Promise<void>;
}
