import type { EmulatorContext } from './emulator-context';
import { shortId, uuid } from './ids';
import { sellerData } from './seller-data';
import type {
  Address,
  CancellationReason,
  FulfillmentStatus,
  Order,
  PositionItem,
  ReturnItem,
  ReturnStatus,
} from './state';

interface ProductTemplate {
  sku: string;
  productTitle: string;
  price: number;
  vatRate: number;
}

const BUILTIN_PRODUCTS: ProductTemplate[] = [
  { sku: 'SKU-TSHIRT-BLK-M', productTitle: 'T-Shirt schwarz M', price: 19.99, vatRate: 19 },
  { sku: 'SKU-TSHIRT-WHT-L', productTitle: 'T-Shirt weiß L', price: 19.99, vatRate: 19 },
  { sku: 'SKU-MUG-OTTO', productTitle: 'Kaffeebecher', price: 9.5, vatRate: 19 },
  { sku: 'SKU-LAMP-DESK', productTitle: 'Schreibtischlampe', price: 49.0, vatRate: 19 },
  { sku: 'SKU-BOOK-KOCH', productTitle: 'Kochbuch', price: 24.0, vatRate: 7 },
];

const PAYMENT_METHODS = ['PAYPAL', 'INVOICE_SINGLE', 'PREPAYMENT', 'CREDIT_CARD', 'DIRECT_DEBIT'];
const PEOPLE: Pick<Address, 'salutation' | 'firstName' | 'lastName'>[] = [
  { salutation: 'MS', firstName: 'Erika', lastName: 'Mustermann' },
  { salutation: 'MR', firstName: 'Max', lastName: 'Mustermann' },
  { salutation: 'UNKNOWN', firstName: 'Kim', lastName: 'Schmidt' },
];

/**
 * Whether a generated order carries the optional `lastModifiedDate`: `sometimes` (default) leaves it out
 * of every fifth order of a partner, `always`/`never` force it (`POST /__admin/partners/:id/orders`).
 */
export type LastModifiedMode = 'sometimes' | 'always' | 'never';

export interface GenerateOrdersInput {
  count: number;
  fulfillmentStatus: FulfillmentStatus;
  lastModifiedDate?: LastModifiedMode;
  /** Order date of every generated order; default its creation (change) time. */
  orderDate?: string;
  /** SKUs to order; default the partner's catalogue, or five built-in products if it is empty. */
  skus?: string[];
}

/**
 * Every order change gets a strictly increasing change date (at least the clock, else one ms after the
 * previous change), so "last change date seen" is a usable import cursor even with a frozen test clock.
 */
export function nextChangeIso(ctx: EmulatorContext): string {
  const ms = Math.max(ctx.now(), ctx.state.lastOrderChangeMs + 1);
  ctx.state.lastOrderChangeMs = ms;
  return new Date(ms).toISOString();
}

/** An order changed: lifecycleChangeDate moves, and lastModifiedDate with it where the order has one. */
export function touchOrder(ctx: EmulatorContext, order: Order): string {
  const at = nextChangeIso(ctx);
  order.orderLifecycleInformation.lifecycleChangeDate = at;
  if (order.lastModifiedDate !== undefined) order.lastModifiedDate = at;
  return at;
}

function defaultCancellationReason(status: FulfillmentStatus): CancellationReason {
  return status === 'CANCELLED_BY_PARTNER' ? 'CANCELLED_ON_PARTNER_WISH' : 'CANCELLED_ON_CUSTOMER_WISH';
}

/** Sets a position item's status and the dates OTTO shows for it (processableDate, sentDate, …). */
export function applyPositionStatus(
  item: PositionItem,
  status: FulfillmentStatus,
  at: string,
  cancellationReason?: CancellationReason,
): void {
  item.fulfillmentStatus = status;
  if (status !== 'ANNOUNCED') {
    item.processableDate ??= at;
    item.expectedDeliveryDate ??= new Date(Date.parse(at) + 3 * 86_400_000).toISOString();
  }
  if (status === 'SENT' || status === 'RETURNED') item.sentDate ??= at;
  if (status === 'RETURNED') item.returnedDate ??= at;
  if (status === 'CANCELLED_BY_PARTNER' || status === 'CANCELLED_BY_MARKETPLACE') {
    item.cancellationDate = at;
    item.cancellationReason = cancellationReason ?? defaultCancellationReason(status);
  } else {
    delete item.cancellationDate;
    delete item.cancellationReason;
  }
}

function productTemplates(ctx: EmulatorContext, partnerId: string, skus?: string[]): ProductTemplate[] {
  const chosen = skus ?? sellerData(ctx, partnerId).products.map((p) => p.sku);
  if (chosen.length === 0) return BUILTIN_PRODUCTS;
  return chosen.map((sku, i) => {
    const builtin = BUILTIN_PRODUCTS.find((p) => p.sku === sku);
    return builtin ?? { sku, productTitle: `Artikel ${sku}`, price: 10 + (i % 90) + 0.99, vatRate: 19 };
  });
}

export function generateOrders(ctx: EmulatorContext, partnerId: string, input: GenerateOrdersInput): Order[] {
  const data = sellerData(ctx, partnerId);
  const products = productTemplates(ctx, partnerId, input.skus);
  const mode = input.lastModifiedDate ?? 'sometimes';
  const created: Order[] = [];
  for (let i = 0; i < input.count; i++) {
    const changed = nextChangeIso(ctx);
    const seq = data.orders.length;
    const positions: PositionItem[] = [];
    const n = 1 + (seq % 3);
    for (let p = 0; p < n; p++) {
      const product = products[(seq + p) % products.length] ?? BUILTIN_PRODUCTS[0]!;
      const item: PositionItem = {
        positionItemId: uuid(),
        fulfillmentStatus: 'ANNOUNCED',
        itemValueGrossPrice: { amount: product.price, currency: 'EUR' },
        product: {
          sku: product.sku,
          articleNumber: product.sku.replace(/^SKU-/, 'ART-'),
          productTitle: product.productTitle,
          vatRate: product.vatRate,
          ean: `40${String(1_000_000_000 + ((seq * 7 + p) % 899_999_999)).padStart(11, '0')}`,
        },
      };
      applyPositionStatus(item, input.fulfillmentStatus, changed);
      positions.push(item);
    }
    const person = PEOPLE[seq % PEOPLE.length] ?? PEOPLE[0]!;
    const address: Address = {
      ...person,
      street: 'Werner-Otto-Straße',
      houseNumber: `${1 + (seq % 7)}`,
      zipCode: '22179',
      city: 'Hamburg',
      countryCode: 'DEU',
    };
    const withLastModified = mode === 'always' || (mode === 'sometimes' && seq % 5 !== 4);
    const order: Order = {
      salesOrderId: uuid(),
      orderNumber: shortId(10),
      orderDate: input.orderDate ?? changed,
      orderLifecycleInformation: { lifecycleChangeDate: changed },
      ...(withLastModified ? { lastModifiedDate: changed } : {}),
      positionItems: positions,
      deliveryAddress: { ...address, phoneNumber: '+49 40 64610' },
      invoiceAddress: { ...address, email: `${shortId(12).toLowerCase()}@pseudo.otto.de` },
      payment: { paymentMethod: PAYMENT_METHODS[seq % PAYMENT_METHODS.length] ?? 'PAYPAL' },
      ...(seq % 4 === 0
        ? {
            initialDeliveryFees: [
              {
                name: 'DELIVERY_FEE_STANDARD',
                deliveryFeeAmount: { amount: 4.95, currency: 'EUR' },
                positionItemIds: positions.map((p) => p.positionItemId),
                vatRate: 19,
              },
            ],
          }
        : {}),
    };
    data.orders.push(order);
    created.push(order);
  }
  return created;
}

/**
 * Changes the status of some (default: all) position items of an order and makes the change visible to
 * a change-date cursor. Returns the ids of unknown position items (nothing changes then).
 */
export function setPositionStatus(
  ctx: EmulatorContext,
  order: Order,
  status: FulfillmentStatus,
  options: { positionItemIds?: string[]; cancellationReason?: CancellationReason } = {},
): string[] {
  const ids = options.positionItemIds;
  const unknown = (ids ?? []).filter((id) => !order.positionItems.some((p) => p.positionItemId === id));
  if (unknown.length > 0) return unknown;
  const at = touchOrder(ctx, order);
  for (const item of order.positionItems) {
    if (ids && !ids.includes(item.positionItemId)) continue;
    applyPositionStatus(item, status, at, options.cancellationReason);
  }
  return [];
}

/**
 * What `GET /v4/orders` shows of an order: OTTO's PartnerOrder. No address while any position item is
 * still ANNOUNCED (docs/otto-api.md §5.1), plus a `self` link.
 */
export function orderView(order: Order): Record<string, unknown> {
  const announced = order.positionItems.some((p) => p.fulfillmentStatus === 'ANNOUNCED');
  const view: Partial<Order> = structuredClone(order);
  if (announced) {
    delete view.deliveryAddress;
    delete view.invoiceAddress;
  }
  return { ...view, links: [{ rel: 'self', href: `/v4/orders/${order.salesOrderId}` }] };
}

/** Returns v3 `positionItems[]` entry. */
export function returnView(ret: ReturnItem): Record<string, unknown> {
  return {
    positionItemId: ret.positionItemId,
    salesOrderId: ret.salesOrderId,
    status: ret.status,
    occurredTime: ret.occurredTime,
    details: structuredClone(ret.details),
  };
}

/** A return's status changed now; `changeSeq` orders changes within one clock instant. */
export function touchReturn(ctx: EmulatorContext, partnerId: string, ret: ReturnItem): void {
  const data = sellerData(ctx, partnerId);
  data.returnChangeSeq += 1;
  ret.changeSeq = data.returnChangeSeq;
  ret.occurredTime = ctx.nowIso();
}

/**
 * Return announcements (or misdirected returns) for SENT position items without one; SENT orders are
 * generated first if too few exist.
 */
export function generateReturns(
  ctx: EmulatorContext,
  partnerId: string,
  count: number,
  status: Extract<ReturnStatus, 'ANNOUNCED' | 'MISDIRECTED'> = 'ANNOUNCED',
): ReturnItem[] {
  const data = sellerData(ctx, partnerId);
  const taken = new Set(data.returns.map((r) => r.positionItemId));
  const candidates = () =>
    data.orders
      .flatMap((o) => o.positionItems.map((item) => ({ o, item })))
      .filter(({ item }) => item.fulfillmentStatus === 'SENT' && !taken.has(item.positionItemId));
  const have = candidates().length;
  if (have < count) generateOrders(ctx, partnerId, { count: count - have, fulfillmentStatus: 'SENT' });
  const created: ReturnItem[] = [];
  for (const { o, item } of candidates().slice(0, count)) {
    const ret: ReturnItem = {
      positionItemId: item.positionItemId,
      salesOrderId: o.salesOrderId,
      status,
      occurredTime: '',
      changeSeq: 0,
      details:
        status === 'ANNOUNCED'
          ? { returnTrackingKey: { carrier: 'DHL', trackingNumbers: [shortId(12, '0123456789')] } }
          : { orderNumber: o.orderNumber, ottoWarehouseID: `W-${shortId(8)}` },
    };
    touchReturn(ctx, partnerId, ret);
    taken.add(item.positionItemId);
    data.returns.push(ret);
    created.push(ret);
  }
  return created;
}
