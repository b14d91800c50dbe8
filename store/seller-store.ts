/**
 * The shop system's side of a seller's data: orders and returns come in from OTTO, stock and prices go
 * out. One interface, so a server database can replace the SQLite default. Every write is idempotent:
 * importing the same OTTO page twice changes nothing.
 */

export interface StoreOrder {
  salesOrderId: string;
  orderNumber: string;
  orderDate: string;
  lastModifiedDate: string;
  fulfillmentStatus: string;
  positionItems: Array<{
    positionItemId: string;
    fulfillmentStatus: string;
    sku: string;
    amount: number;
    currency: string;
  }>;
}

export interface StoreReturn {
  positionItemId: string;
  salesOrderId: string;
  status: string;
  announcedAt: string;
  lastModifiedDate: string;
  sku: string;
  reason: string;
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

export interface StoreShippingProfile {
  shippingProfileId: string;
  name: string;
  lastModifiedDate: string;
  data: Record<string, unknown>;
}

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface SellerStore {
  /** Inserts new orders, applies newer changes (by lastModifiedDate), ignores older or equal ones. */
  upsertOrders(sellerId: string, orders: StoreOrder[]): Promise<UpsertResult>;
  listOrders(sellerId: string): Promise<StoreOrder[]>;
  upsertReturns(sellerId: string, returns: StoreReturn[]): Promise<UpsertResult>;
  listReturns(sellerId: string): Promise<StoreReturn[]>;

  /** The shop changes stock; each change gets a new change number. */
  setStock(sellerId: string, levels: Array<{ sku: string; quantity: number }>): Promise<void>;
  /** Stock changed after `afterSeq` up to `upToSeq` (inclusive), in change order. */
  stockChanges(sellerId: string, afterSeq: number, upToSeq?: number): Promise<StockLevel[]>;
  allStock(sellerId: string): Promise<StockLevel[]>;

  setPrices(
    sellerId: string,
    prices: Array<{ sku: string; amount: number; currency: string }>,
  ): Promise<void>;
  priceChanges(sellerId: string, afterSeq: number, upToSeq?: number): Promise<Price[]>;
  allPrices(sellerId: string): Promise<Price[]>;

  /** The newest change number so far (a snapshot bound for an export). */
  currentChangeSeq(): Promise<number>;

  upsertShippingProfiles(sellerId: string, profiles: StoreShippingProfile[]): Promise<UpsertResult>;
  listShippingProfiles(sellerId: string): Promise<StoreShippingProfile[]>;

  close(): Promise<void>;
}
