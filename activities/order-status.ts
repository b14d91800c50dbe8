/**
 * OTTO orders (v4) have no order-level status: each position item has its own `fulfillmentStatus`.
 * The shop still wants one word per order, so we derive it the way OTTO sorts orders into buckets
 * (docs/otto-api.md §5.1, `mode=BUCKET`): the first bucket in OTTO's order that has at least one item wins,
 * which is exactly "ANNOUNCED if ≥1 announced; PROCESSABLE if ≥1 processable and none announced; …".
 * The cancelled buckets are last, so an order is CANCELLED_* only when all its (known) items are
 * cancelled; one cancelled by the partner and one by the marketplace gives CANCELLED_BY_PARTNER (OTTO's
 * bucket order). Pure.
 */

export const FULFILLMENT_STATUSES = [
  'ANNOUNCED',
  'PROCESSABLE',
  'SENT',
  'RETURNED',
  'CANCELLED_BY_PARTNER',
  'CANCELLED_BY_MARKETPLACE',
] as const;
export type FulfillmentStatus = (typeof FULFILLMENT_STATUSES)[number];

/** The derived status: a bucket, or UNKNOWN for no items or only statuses OTTO added after this code. */
export type OrderStatus = FulfillmentStatus | 'UNKNOWN';

const CANCELLED: ReadonlySet<string> = new Set(['CANCELLED_BY_PARTNER', 'CANCELLED_BY_MARKETPLACE']);

export function deriveOrderStatus(itemStatuses: readonly string[]): OrderStatus {
  const present = new Set(itemStatuses.map((s) => s.toUpperCase()));
  for (const bucket of FULFILLMENT_STATUSES) {
    if (!present.has(bucket)) continue;
    // An item in a status we do not know is not cancelled: never call such an order cancelled.
    if (CANCELLED.has(bucket) && [...present].some((s) => !CANCELLED.has(s))) return 'UNKNOWN';
    return bucket;
  }
  return 'UNKNOWN';
}
