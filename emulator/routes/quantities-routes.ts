import { Router } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendApiError } from '../http-errors';
import { queryParam } from '../request-params';
import { checkBatch, parseBody } from '../validation';
import { parseLimit } from './paging';

export const QUANTITIES_MAX_BATCH = 200;

// Unknown fields are stripped, not refused: OTTO tolerates them.
const quantitiesSchema = z.array(
  z.object({
    sku: z.string().min(1).max(50),
    quantity: z.number().int('quantity must be an integer').min(0, 'quantity must be >= 0').max(999_999),
  }),
);

/** Stock: POST /v1/availability/quantities and the cursor-paged read-back. Scope `availability`. */
export function quantitiesRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const guard = requireInstallationToken(ctx, 'availability');

  router.post('/v1/availability/quantities', guard, (req, res) => {
    const body: unknown = req.body;
    if (!checkBatch(body, QUANTITIES_MAX_BATCH, 'SKUs', res)) return;
    const items = parseBody(quantitiesSchema, body, res);
    if (!items) return;
    const data = ctx.partnerData(caller(res).partnerId);
    const now = ctx.nowIso();
    for (const item of items) {
      const existing = data.quantities.find((q) => q.sku === item.sku);
      if (existing) {
        existing.quantity = item.quantity;
        existing.lastModified = now;
      } else {
        data.quantities.push({ sku: item.sku, quantity: item.quantity, lastModified: now });
      }
    }
    ctx.persist();
    // [I] response body shape: the stored values, echoed.
    res
      .status(200)
      .json({ resources: items.map((i) => ({ sku: i.sku, quantity: i.quantity, lastModified: now })) });
  });

  router.get('/v1/availability/quantities', guard, (req, res) => {
    const limit = parseLimit(queryParam(req, 'limit'), 50, QUANTITIES_MAX_BATCH);
    if (typeof limit === 'string') {
      sendApiError(res, 400, 'Bad Request', limit);
      return;
    }
    const cursor = queryParam(req, 'cursor');
    const sorted = [...ctx.partnerData(caller(res).partnerId).quantities].sort((a, b) =>
      a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0,
    );
    const after = cursor === undefined ? sorted : sorted.filter((q) => q.sku > cursor);
    const page = after.slice(0, limit);
    const last = page[page.length - 1];
    const links =
      last && after.length > page.length
        ? [
            {
              rel: 'next',
              href: `/v1/availability/quantities?cursor=${encodeURIComponent(last.sku)}&limit=${limit}`,
            },
          ]
        : [];
    res.json({ resources: page, links });
  });

  return router;
}
