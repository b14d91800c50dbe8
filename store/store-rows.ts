/**
 * What the SQLite and the PostgreSQL seller stores share apart from their SQL: the row shapes of their
 * (identically named) columns and the mapping to the SellerStore's objects, the checks made before a
 * batch is written, and the idempotency-key and transfer-run rules.
 */
import type {
  ConnectionStatusRow,
  InstallationTokenRow,
  ExportFailure,
  FeedEntry,
  IdempotencyClaim,
  Price,
  ShopBatchOutcome,
  ShopBatchResult,
  StockLevel,
  StoreOrder,
  StoreReturn,
  StoreShippingProfile,
  TransferRun,
} from './seller-store';

/** A change number as read back: SQLite gives a number, pg a string (bigint). */
type ChangeSeqColumn = number | string;

/** Longest transfer-run detail kept. */
export const MAX_RUN_DETAIL = 1000;

export interface OrderRow {
  sales_order_id: string;
  order_number: string;
  order_date: string;
  change_date: string;
  /** Null only in SQLite rows from before schema v2 was filled in (then the change date stands in). */
  lifecycle_change_date: string | null;
  last_modified_date: string | null;
  fulfillment_status: string;
  positions: string;
  data: string | null;
}

export interface ReturnRow {
  position_item_id: string;
  sales_order_id: string;
  status: string;
  occurred_time: string | null;
  details: string;
}

export interface ProfileRow {
  profile_id: string;
  name: string;
  working_days: string;
  order_cutoff: string;
  delivery_type: string;
  default_processing_time: number;
  transport_time: number;
  data: string;
}

export type SeqRow = { sku: string; quantity: number; change_seq: ChangeSeqColumn };
export type PriceRow = { sku: string; amount: number; currency: string; change_seq: ChangeSeqColumn };

export interface TransferRunRow {
  kind: string;
  started_at: string;
  finished_at: string;
  result: 'ok' | 'failed';
  count: number;
  detail: string;
}

/** A connection_status row; pg reads bigint columns as strings. */
export interface ConnectionStatusDbRow {
  seller_id: string;
  run_id: string;
  run_started_at: number | string;
  history_length: number;
  seq: number;
  summary: string;
  valid_until: number | string;
  updated_at: number | string;
}

export const toConnectionStatus = (r: ConnectionStatusDbRow): ConnectionStatusRow => ({
  sellerId: r.seller_id,
  runId: r.run_id,
  runStartedAt: Number(r.run_started_at),
  historyLength: r.history_length,
  seq: r.seq,
  summary: r.summary,
  validUntil: Number(r.valid_until),
  updatedAt: Number(r.updated_at),
});

/** An installation_tokens row (its key columns left out); pg reads bigint columns as strings. */
export interface InstallationTokenDbRow {
  handle: string;
  sealed: string;
  expires_at: number | string;
}

export const toInstallationToken = (
  sellerId: string,
  installationId: string,
  r: InstallationTokenDbRow,
): InstallationTokenRow => ({
  sellerId,
  installationId,
  handle: r.handle,
  sealed: r.sealed,
  expiresAt: Number(r.expires_at),
});

/** pg reads timestamptz columns as Date, SQLite keeps the ISO text. */
export interface ExportFailureRow {
  sku: string;
  error: string;
  attempts: number;
  first_failed_at: Date | string;
  last_failed_at: Date | string;
}

export const toOrder = (r: OrderRow): StoreOrder => ({
  salesOrderId: r.sales_order_id,
  orderNumber: r.order_number,
  orderDate: r.order_date,
  fulfillmentStatus: r.fulfillment_status,
  changeDate: r.change_date,
  lifecycleChangeDate: r.lifecycle_change_date ?? r.change_date,
  lastModifiedDate: r.last_modified_date,
  positionItems: JSON.parse(r.positions) as StoreOrder['positionItems'],
  ...(r.data !== null ? { data: JSON.parse(r.data) as Record<string, unknown> } : {}),
});

export const toReturn = (r: ReturnRow): StoreReturn => ({
  positionItemId: r.position_item_id,
  salesOrderId: r.sales_order_id,
  status: r.status,
  occurredTime: r.occurred_time,
  details: JSON.parse(r.details) as unknown,
});

export const toProfile = (r: ProfileRow): StoreShippingProfile => ({
  shippingProfileId: r.profile_id,
  shippingProfileName: r.name,
  workingDays: JSON.parse(r.working_days) as string[],
  orderCutoff: r.order_cutoff,
  deliveryType: r.delivery_type,
  defaultProcessingTime: r.default_processing_time,
  transportTime: r.transport_time,
  data: JSON.parse(r.data) as Record<string, unknown>,
});

export const toStock = (r: SeqRow): StockLevel => ({
  sku: r.sku,
  quantity: r.quantity,
  changeSeq: Number(r.change_seq),
});

export const toPrice = (r: PriceRow): Price => ({
  sku: r.sku,
  amount: r.amount,
  currency: r.currency,
  changeSeq: Number(r.change_seq),
});

export const toTransferRun = (r: TransferRunRow): TransferRun => ({
  kind: r.kind,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  result: r.result,
  count: r.count,
  detail: r.detail,
});

const isoText = (v: Date | string): string => (typeof v === 'string' ? v : v.toISOString());

export const toExportFailure = (r: ExportFailureRow): ExportFailure => ({
  sku: r.sku,
  error: r.error,
  attempts: r.attempts,
  firstFailedAt: isoText(r.first_failed_at),
  lastFailedAt: isoText(r.last_failed_at),
});

/** A feed entry from a row of the orders or returns table. */
export function toFeedEntry<R extends { change_seq: ChangeSeqColumn }, T>(
  row: R,
  toItem: (r: R) => T,
): FeedEntry<T> {
  return { changeSeq: Number(row.change_seq), item: toItem(row) };
}

/** JSON with sorted keys, so "did anything change" does not depend on OTTO's field order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/** Checked before anything is written or a change number drawn: a bad batch changes nothing. */
export function checkStock(levels: Array<{ sku: string; quantity: number }>): void {
  for (const l of levels)
    if (!Number.isInteger(l.quantity) || l.quantity < 0)
      throw new Error(`stock for ${l.sku} must be an integer ≥ 0`);
}

/** Idempotency keys created before this instant have expired (`claim.at` − ttl). */
export function idempotencyCutoff(claim: IdempotencyClaim): string {
  return new Date(Date.parse(claim.at) - claim.ttlMs).toISOString();
}

/**
 * The outcome for a key that is already stored: its result again if the fingerprint matches and the
 * result is there (pg stores the key before the batch is written), otherwise `key_reused`.
 */
export function storedKeyOutcome(
  existing: { fingerprint: string; result: string | null },
  claim: IdempotencyClaim,
): ShopBatchOutcome {
  return existing.fingerprint === claim.fingerprint && existing.result !== null
    ? { outcome: 'replayed', result: JSON.parse(existing.result) as ShopBatchResult }
    : { outcome: 'key_reused' };
}

/** A batch's result from the change numbers it took, in batch order. */
export function batchResult(seqs: number[]): ShopBatchResult {
  return {
    accepted: seqs.length,
    firstChangeSeq: seqs[0] ?? 0,
    lastChangeSeq: seqs[seqs.length - 1] ?? 0,
  };
}

/** A status row's statement values, in the order both stores' upserts name their columns. */
export function connectionStatusValues(
  row: Omit<ConnectionStatusRow, 'updatedAt'>,
  updatedAt: number,
): [string, string, number, number, number, string, number, number] {
  return [
    row.sellerId,
    row.runId,
    row.runStartedAt,
    row.historyLength,
    row.seq,
    row.summary,
    row.validUntil,
    updatedAt,
  ];
}
