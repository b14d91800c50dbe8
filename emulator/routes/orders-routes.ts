import { Router } from 'express';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendApiError } from '../http-errors';
import { queryParam } from '../request-params';
import { FULFILLMENT_STATUSES, type FulfillmentStatus, type Order } from '../state';
import { parseLimit } from './paging';

export const ORDERS_DEFAULT_LIMIT = 128;
export const ORDERS_MAX_LIMIT = 256;

/** Everything a cursor must remember: the original filters plus the last order handed out. */
interface OrdersCursor {
  fromDate?: number;
  fulfillmentStatus?: FulfillmentStatus;
  afterChange: number;
  afterId: string;
}

export function ordersRoutes(ctx: EmulatorContext): Router {
  const router = Router();

  router.get('/v4/orders', requireInstallationToken(ctx, 'orders'), (req, res) => {
    const { partnerId } = caller(res);
    const limit = parseLimit(queryParam(req, 'limit'), ORDERS_DEFAULT_LIMIT, ORDERS_MAX_LIMIT);
    if (typeof limit === 'string') {
      sendApiError(res, 400, 'Bad Request', limit);
      return;
    }

    let filter: OrdersCursor;
    const rawCursor = queryParam(req, 'nextcursor');
    if (rawCursor !== undefined) {
      // As at OTTO: with a cursor only `limit` is honoured; the filters travel inside the cursor.
      const decoded = decodeCursor(rawCursor);
      if (!decoded) {
        sendApiError(res, 400, 'Bad Request', 'nextcursor is not a cursor this API issued');
        return;
      }
      filter = decoded;
    } else {
      const fromDateRaw = queryParam(req, 'fromDate');
      const fromDate = fromDateRaw !== undefined ? Date.parse(fromDateRaw) : undefined;
      if (fromDate !== undefined && Number.isNaN(fromDate)) {
        sendApiError(res, 400, 'Bad Request', 'fromDate must be an ISO-8601 date-time');
        return;
      }
      const status = queryParam(req, 'fulfillmentStatus');
      if (status !== undefined && !FULFILLMENT_STATUSES.includes(status as FulfillmentStatus)) {
        sendApiError(
          res,
          400,
          'Bad Request',
          `fulfillmentStatus must be one of ${FULFILLMENT_STATUSES.join(', ')}`,
        );
        return;
      }
      filter = {
        afterChange: -Infinity,
        afterId: '',
        ...(fromDate !== undefined ? { fromDate } : {}),
        ...(status !== undefined ? { fulfillmentStatus: status as FulfillmentStatus } : {}),
      };
    }

    // Ordered by last change (then id), keyset-paged: a change during paging moves the order to the end.
    const matching = ctx
      .partnerData(partnerId)
      .orders.filter(
        (o) => filter.fromDate === undefined || Date.parse(o.lastModifiedDate) >= filter.fromDate,
      )
      .filter(
        (o) => filter.fulfillmentStatus === undefined || o.fulfillmentStatus === filter.fulfillmentStatus,
      )
      .sort(compareOrders)
      .filter((o) => {
        const change = Date.parse(o.lastModifiedDate);
        return (
          change > filter.afterChange || (change === filter.afterChange && o.salesOrderId > filter.afterId)
        );
      });
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    const links: { rel: string; href: string }[] = [];
    if (last && matching.length > page.length) {
      const next = encodeCursor({
        ...filter,
        afterChange: Date.parse(last.lastModifiedDate),
        afterId: last.salesOrderId,
      });
      links.push({ rel: 'next', href: `/v4/orders?nextcursor=${encodeURIComponent(next)}` });
    }
    res.json({ resources: page, links });
  });

  return router;
}

function compareOrders(a: Order, b: Order): number {
  const d = Date.parse(a.lastModifiedDate) - Date.parse(b.lastModifiedDate);
  if (d !== 0) return d;
  return a.salesOrderId < b.salesOrderId ? -1 : a.salesOrderId > b.salesOrderId ? 1 : 0;
}

function encodeCursor(cursor: OrdersCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string): OrdersCursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<OrdersCursor>;
    if (typeof value.afterChange !== 'number' || typeof value.afterId !== 'string') return undefined;
    return value as OrdersCursor;
  } catch {
    return undefined;
  }
}
