import type { Router, Response } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { availabilityError, sendAvailabilityErrors } from '../http-errors';
import { queryParam } from '../request-params';
import { catalogue, compareStrings, sellerData } from '../seller-data';
import type { Quantity } from '../state';
import { describeIssue, validate } from '../validation';
import { parseIntParam, parseLimit } from './paging';
import { exactRouter } from './exact-router';

export const QUANTITIES_MAX_BATCH = 200;
export const QUANTITIES_MAX_LIMIT = 200;

// Unknown fields are ignored (stripped), as OTTO does.
const quantitiesSchema = z.array(
  z.object({
    sku: z.string().min(1, 'sku must not be empty'),
    quantity: z.number().int('quantity must be an integer').min(0, 'quantity must be >= 0'),
  }),
);

/**
 * Availability V1 stock (scope `availability`). POST: over 200 → 413, an invalid body or item → 422
 * (nothing applied), SKUs unknown to the partner's product catalogue → 207 with the applied `results`
 * and one error per unknown SKU, all known → 200 (untyped at OTTO; the emulator sends `{}` so nothing
 * can come to depend on it). GET: sorted by SKU, `page` or `cursor` (= last SKU seen).
 */
export function quantitiesRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();
  const guard = requireInstallationToken(ctx, 'availability');

  router.post('/v1/availability/quantities', guard, (req, res) => {
    const body: unknown = req.body;
    if (!Array.isArray(body)) {
      sendAvailabilityErrors(res, 422, [
        { title: 'Unprocessable Entity', detail: 'The body must be a JSON array of {sku, quantity}' },
      ]);
      return;
    }
    if (body.length > QUANTITIES_MAX_BATCH) {
      sendAvailabilityErrors(res, 413, [
        {
          title: 'Payload Too Large',
          detail: `At most ${QUANTITIES_MAX_BATCH} SKUs per request are allowed, got ${body.length}`,
        },
      ]);
      return;
    }
    if (body.length === 0) {
      sendAvailabilityErrors(res, 422, [
        { title: 'Unprocessable Entity', detail: 'The body must contain at least one SKU' },
      ]);
      return;
    }
    const parsed = validate(quantitiesSchema, body);
    if (!parsed.ok) {
      sendAvailabilityErrors(
        res,
        422,
        parsed.issues.map((issue) => ({ title: 'Unprocessable Entity', detail: describeIssue(issue) })),
      );
      return;
    }
    const data = sellerData(ctx, caller(res).partnerId);
    const known = catalogue(data);
    const now = ctx.nowIso();
    const results: ReturnType<typeof variationView>[] = [];
    const errors: ReturnType<typeof availabilityError>[] = [];
    for (const item of parsed.value) {
      if (!known.has(item.sku)) {
        errors.push(
          availabilityError(res, 404, {
            title: 'Not Found',
            detail: `SKU "${item.sku}" is unknown in the partner's product catalogue`,
          }),
        );
        continue;
      }
      const existing = data.quantities.find((q) => q.sku === item.sku);
      const stored = existing ?? { sku: item.sku, quantity: item.quantity, lastModified: now };
      stored.quantity = item.quantity;
      stored.lastModified = now;
      if (!existing) data.quantities.push(stored);
      results.push(variationView(stored));
    }
    ctx.persist();
    if (errors.length > 0) res.status(207).json({ results, errors });
    else res.status(200).json({});
  });

  router.get('/v1/availability/quantities', guard, (req, res) => {
    const limit = parseLimit(queryParam(req, 'limit'), QUANTITIES_MAX_LIMIT, QUANTITIES_MAX_LIMIT);
    if (typeof limit === 'string') return badRequest(res, limit);
    const sorted = [...sellerData(ctx, caller(res).partnerId).quantities].sort((a, b) =>
      compareStrings(a.sku, b.sku),
    );
    const cursor = queryParam(req, 'cursor');
    let rest: Quantity[];
    if (cursor !== undefined) {
      // With a cursor only `limit` counts; it must be a SKU this listing returned ("a valid sku value").
      if (!sorted.some((q) => q.sku === cursor)) {
        return badRequest(
          res,
          `cursor must be the last SKU of the previous page, "${cursor}" is no SKU here`,
        );
      }
      rest = sorted.filter((q) => q.sku > cursor);
    } else {
      const page = parseIntParam(queryParam(req, 'page'), { name: 'page', defaultValue: 0, min: 0 });
      if (typeof page === 'string') return badRequest(res, page);
      rest = sorted.slice(page * limit);
    }
    const items = rest.slice(0, limit);
    const last = items[items.length - 1];
    const links =
      last && rest.length > items.length
        ? [
            {
              rel: 'next',
              href: `/v1/availability/quantities?limit=${limit}&cursor=${encodeURIComponent(last.sku)}`,
            },
          ]
        : [];
    res.json({ resources: { variations: items.map(variationView) }, links });
  });

  router.get('/v1/availability/quantities/:sku', guard, (req, res) => {
    const sku = String(req.params.sku);
    const found = sellerData(ctx, caller(res).partnerId).quantities.find((q) => q.sku === sku);
    if (!found) {
      sendAvailabilityErrors(res, 404, [
        { title: 'Not Found', detail: `No available quantity for SKU "${sku}"` },
      ]);
      return;
    }
    res.json({ sku: found.sku, quantity: found.quantity, lastModified: found.lastModified });
  });

  return router;
}

/** AvailableQuantityResponseDTO: the stored values plus a link to the single SKU. */
function variationView(q: Quantity) {
  return {
    sku: q.sku,
    quantity: q.quantity,
    lastModified: q.lastModified,
    links: [{ rel: 'self', href: `/v1/availability/quantities/${encodeURIComponent(q.sku)}` }],
  };
}

function badRequest(res: Response, detail: string): void {
  sendAvailabilityErrors(res, 400, [{ title: 'Bad Request', detail }]);
}
