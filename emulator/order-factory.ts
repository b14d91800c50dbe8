import type { EmulatorContext } from './emulator-context';
import { shortId, uuid } from './ids';
import type { FulfillmentStatus, Order, PositionItem, ReturnItem } from './state';

const PRODUCTS = [
  { sku: 'SKU-TSHIRT-BLK-M', productTitle: 'T-Shirt schwarz M', price: 19.99 },
  { sku: 'SKU-TSHIRT-WHT-L', productTitle: 'T-Shirt weiß L', price: 19.99 },
  { sku: 'SKU-MUG-OTTO', productTitle: 'Kaffeebecher', price: 9.5 },
  { sku: 'SKU-LAMP-DESK', productTitle: 'Schreibtischlampe', price: 49.0 },
  { sku: 'SKU-CHAIR-OAK', productTitle: 'Stuhl Eiche', price: 129.0 },
];

/**
 * Every order change gets a strictly increasing lastModifiedDate (at least the clock, else one ms after the
 * previous change), so "last change date seen" is a usable import cursor even with a frozen test clock.
 */
export function nextChangeIso(ctx: EmulatorContext): string {
  const ms = Math.max(ctx.now(), ctx.state.lastOrderChangeMs + 1);
  ctx.state.lastOrderChangeMs = ms;
  return new Date(ms).toISOString();
}

export function generateOrders(
  ctx: EmulatorContext,
  partnerId: string,
  count: number,
  fulfillmentStatus: FulfillmentStatus,
): Order[] {
  const data = ctx.partnerData(partnerId);
  const created: Order[] = [];
  for (let i = 0; i < count; i++) {
    const changed = nextChangeIso(ctx);
    const positions: PositionItem[] = [];
    const n = 1 + (i % 3);
    for (let p = 0; p < n; p++) {
      const product = PRODUCTS[(i + p) % PRODUCTS.length] ?? PRODUCTS[0]!;
      positions.push({
        positionItemId: uuid(),
        fulfillmentStatus,
        itemValueGrossPrice: { amount: product.price, currency: 'EUR' },
        product: {
          sku: product.sku,
          productTitle: product.productTitle,
          articleNumber: product.sku.replace('SKU-', 'ART-'),
          ean: `40${String(1000000000 + ((i * 7 + p) % 899999999)).padStart(11, '0')}`,
        },
      });
    }
    const order: Order = {
      salesOrderId: uuid(),
      orderNumber: shortId(10),
      orderDate: changed,
      lastModifiedDate: changed,
      fulfillmentStatus,
      positionItems: positions,
      deliveryAddress: {
        firstName: 'Erika',
        lastName: 'Mustermann',
        street: 'Werner-Otto-Straße 1-7',
        zipCode: '22179',
        city: 'Hamburg',
        countryCode: 'DEU',
      },
    };
    data.orders.push(order);
    created.push(order);
  }
  return created;
}

/** Changes an order and all its positions, and makes the change visible to a lastModifiedDate cursor. */
export function setOrderStatus(ctx: EmulatorContext, order: Order, status: FulfillmentStatus): void {
  order.fulfillmentStatus = status;
  for (const item of order.positionItems) item.fulfillmentStatus = status;
  order.lastModifiedDate = nextChangeIso(ctx);
}

/** Return announcements for position items of existing orders (synthetic orders are created if too few). */
export function generateReturns(ctx: EmulatorContext, partnerId: string, count: number): ReturnItem[] {
  const data = ctx.partnerData(partnerId);
  const taken = new Set(data.returns.map((r) => r.positionItemId));
  const candidates = () =>
    data.orders
      .flatMap((o) => o.positionItems.map((item) => ({ o, item })))
      .filter(({ item }) => !taken.has(item.positionItemId));
  if (candidates().length < count) generateOrders(ctx, partnerId, count, 'SENT');
  const created: ReturnItem[] = [];
  for (const { o, item } of candidates().slice(0, count)) {
    const now = ctx.nowIso();
    const ret: ReturnItem = {
      positionItemId: item.positionItemId,
      salesOrderId: o.salesOrderId,
      orderNumber: o.orderNumber,
      status: 'ANNOUNCED',
      announcedAt: now,
      lastModifiedDate: now,
      reason: 'NOT_AS_EXPECTED',
      product: { sku: item.product.sku, productTitle: item.product.productTitle },
    };
    taken.add(item.positionItemId);
    data.returns.push(ret);
    created.push(ret);
  }
  return created;
}
