import type { Router } from 'express';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendApiError } from '../http-errors';
import { orderView } from '../order-factory';
import { queryParam } from '../request-params';
import { sellerData } from '../seller-data';
import { FULFILLMENT_STATUSES, type FulfillmentStatus, type Order } from '../state';
import { parseIsoDateTime } from '../validation';
import { parseLimit, queryValues } from './paging';
import { exactRouter } from './exact-router';

export const ORDERS_DEFAULT_LIMIT = 128;

const DIRECTIONS = ['ASC', 'DESC'] as const;
/** [I] OTTO lists only the default; ORDER_DATE is the other plausible column. Anything else is a 400. */
const COLUMNS = ['ORDER_LIFECYCLE_DATE', 'ORDER_DATE'] as const;
const MODES = ['BUCKET', 'AT_LEAST_ONE'] as const;

type Direction = (typeof DIRECTIONS)[number];
type Column = (typeof COLUMNS)[number];
type Mode = (typeof MODES)[number];

/** Everything a cursor must remember: the original query plus the last order handed out. */
interface OrdersCursor {
  fromDate?: number;
  fromOrderDate?: number;
  toOrderDate?: number;
  statuses: FulfillmentStatus[];
  mode: Mode;
  direction: Direction;
  column: Column;
  afterKey: number;
  afterId: string;
}

/**
 * Orders v4 (scope `orders`): `GET /v4/orders` with OTTO's filters, buckets and cursor, and the single
 * order by salesOrderId or orderNumber. Errors use the generic body (the API documents none).
 */
export function ordersRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();
  const guard = requireInstallationToken(ctx, 'orders');

  router.get('/v4/orders', guard, (req, res) => {
    const { partnerId } = caller(res);
    const limit = parseLimit(queryParam(req, 'limit'), ORDERS_DEFAULT_LIMIT, ctx.options.ordersMaxLimit);
    if (typeof limit === 'string') {
      sendApiError(res, 400, 'Bad Request', limit);
      return;
    }

    let query: OrdersCursor;
    const rawCursor = queryParam(req, 'nextcursor');
    if (rawCursor !== undefined) {
      // As at OTTO: with a cursor only `limit` is honoured; the rest of the query travels inside it.
      const decoded = decodeCursor(rawCursor);
      if (!decoded) {
        sendApiError(res, 400, 'Bad Request', 'nextcursor is not a cursor this API issued');
        return;
      }
      query = decoded;
    } else {
      const parsed = parseQuery(req.query);
      if (typeof parsed === 'string') {
        sendApiError(res, 400, 'Bad Request', parsed);
        return;
      }
      query = parsed;
    }

    const key = sortKey(query.column);
    const sign = query.direction === 'ASC' ? 1 : -1;
    // Keyset paging on (column, salesOrderId): a change during paging moves an order behind the cursor.
    const matching = sellerData(ctx, partnerId)
      .orders.filter((o) => matches(o, query))
      .map((o) => ({ o, k: key(o) }))
      .filter(
        ({ o, k }) =>
          sign * (k - query.afterKey) > 0 ||
          (k === query.afterKey && sign * compareIds(o, query.afterId) > 0),
      )
      .sort((a, b) => sign * (a.k - b.k || compareIds(a.o, b.o.salesOrderId)));
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    const links: { rel: string; href: string }[] = [];
    if (last && matching.length > page.length) {
      const next = encodeCursor({ ...query, afterKey: last.k, afterId: last.o.salesOrderId });
      links.push({ rel: 'next', href: `/v4/orders?nextcursor=${encodeURIComponent(next)}` });
    }
    res.json({ resources: page.map(({ o }) => orderView(o)), links });
  });

  router.get('/v4/orders/:id', guard, (req, res) => {
    const id = String(req.params.id);
    const order = sellerData(ctx, caller(res).partnerId).orders.find(
      (o) => o.salesOrderId === id || o.orderNumber === id,
    );
    if (!order) {
      sendApiError(res, 404, 'Not Found', `No order with salesOrderId or orderNumber ${id}`);
      return;
    }
    res.json(orderView(order));
  });

  return router;
}

function parseQuery(q: unknown): OrdersCursor | string {
  const single = (name: string): string | undefined => queryValues(q, name)[0];
  const dates: Partial<Record<'fromDate' | 'fromOrderDate' | 'toOrderDate', number>> = {};
  for (const name of ['fromDate', 'fromOrderDate', 'toOrderDate'] as const) {
    const raw = single(name);
    if (raw === undefined) continue;
    const ms = parseIsoDateTime(raw);
    if (ms === undefined) return `${name} must be an ISO 8601 date-time with zone, was "${raw}"`;
    dates[name] = ms;
  }
  const statuses = queryValues(q, 'fulfillmentStatus');
  const unknown = statuses.filter((s) => !FULFILLMENT_STATUSES.includes(s as FulfillmentStatus));
  if (unknown.length > 0) {
    return `fulfillmentStatus must be one of ${FULFILLMENT_STATUSES.join(', ')} (repeat the parameter for several), was "${unknown.join('", "')}"`;
  }
  const direction = pick(single('orderDirection'), 'orderDirection', DIRECTIONS, 'ASC');
  if (direction.error !== undefined) return direction.error;
  const column = pick(single('orderColumnType'), 'orderColumnType', COLUMNS, 'ORDER_LIFECYCLE_DATE');
  if (column.error !== undefined) return column.error;
  const mode = pick(single('mode'), 'mode', MODES, 'BUCKET');
  if (mode.error !== undefined) return mode.error;
  return {
    ...dates,
    statuses: [...new Set(statuses as FulfillmentStatus[])],
    mode: mode.value,
    direction: direction.value,
    column: column.value,
    afterKey: direction.value === 'ASC' ? -Infinity : Infinity,
    afterId: '',
  };
}

/** An enum query value: exact spelling, or a 400 message. */
function pick<T extends string>(
  raw: string | undefined,
  name: string,
  allowed: readonly T[],
  fallback: T,
): { value: T; error?: undefined } | { value?: undefined; error: string } {
  if (raw === undefined) return { value: fallback };
  if (allowed.includes(raw as T)) return { value: raw as T };
  return { error: `${name} must be one of ${allowed.join(', ')}, was "${raw}"` };
}

function matches(order: Order, q: OrdersCursor): boolean {
  if (
    q.fromDate !== undefined &&
    Date.parse(order.orderLifecycleInformation.lifecycleChangeDate) < q.fromDate
  )
    return false;
  const placed = Date.parse(order.orderDate);
  // [I] "newer than" / "older than": both bounds exclusive.
  if (q.fromOrderDate !== undefined && !(placed > q.fromOrderDate)) return false;
  if (q.toOrderDate !== undefined && !(placed < q.toOrderDate)) return false;
  if (q.statuses.length === 0) return true;
  return q.statuses.some((s) => (q.mode === 'BUCKET' ? inBucket(order, s) : has(order, s)));
}

function has(order: Order, status: FulfillmentStatus): boolean {
  return order.positionItems.some((p) => p.fulfillmentStatus === status);
}

/** OTTO's buckets (docs/otto-api.md §5.1): each status excludes orders that still have "earlier" items. */
export function inBucket(order: Order, status: FulfillmentStatus): boolean {
  switch (status) {
    case 'ANNOUNCED':
      return has(order, 'ANNOUNCED');
    case 'PROCESSABLE':
      return has(order, 'PROCESSABLE') && !has(order, 'ANNOUNCED');
    case 'SENT':
      return has(order, 'SENT') && !has(order, 'ANNOUNCED') && !has(order, 'PROCESSABLE');
    case 'RETURNED':
      return (
        has(order, 'RETURNED') &&
        !has(order, 'ANNOUNCED') &&
        !has(order, 'PROCESSABLE') &&
        !has(order, 'SENT')
      );
    case 'CANCELLED_BY_PARTNER':
    case 'CANCELLED_BY_MARKETPLACE':
      return has(order, status);
  }
}

function sortKey(column: Column): (o: Order) => number {
  return column === 'ORDER_DATE'
    ? (o) => Date.parse(o.orderDate)
    : (o) => Date.parse(o.orderLifecycleInformation.lifecycleChangeDate);
}

function compareIds(order: Order, id: string): number {
  return order.salesOrderId < id ? -1 : order.salesOrderId > id ? 1 : 0;
}

function encodeCursor(cursor: OrdersCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string): OrdersCursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<OrdersCursor>;
    if (
      typeof value.afterKey !== 'number' ||
      typeof value.afterId !== 'string' ||
      !Array.isArray(value.statuses) ||
      !DIRECTIONS.includes(value.direction as Direction) ||
      !COLUMNS.includes(value.column as Column) ||
      !MODES.includes(value.mode as Mode)
    )
      return undefined;
    return value as OrdersCursor;
  } catch {
    return undefined;
  }
}
