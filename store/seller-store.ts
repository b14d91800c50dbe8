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

/** A shipping profile with every field OTTO gives (otto-api.md §5.5); `data` keeps the whole object. */
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

export interface SellerStore {
  /** Inserts new orders, applies newer changes (by changeDate), ignores older or equal ones. */
  upsertOrders(sellerId: string, orders: StoreOrder[]): Promise<UpsertResult>;
  listOrders(sellerId: string): Promise<StoreOrder[]>;
  /** Inserts new returns, applies newer status changes (by occurredTime), ignores older or equal ones. */
  upsertReturns(sellerId: string, returns: StoreReturn[]): Promise<UpsertResult>;
  listReturns(sellerId: string): Promise<StoreReturn[]>;

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

  /** Inserts new profiles and replaces changed ones (any field); returns what changed. */
  upsertShippingProfiles(sellerId: string, profiles: StoreShippingProfile[]): Promise<UpsertResult>;
  /** Deletes the seller's profiles OTTO no longer lists; returns how many. */
  removeShippingProfilesExcept(sellerId: string, keepIds: string[]): Promise<number>;
  listShippingProfiles(sellerId: string): Promise<StoreShippingProfile[]>;

  close(): Promise<void>;
}
