import type { Router, Request, Response } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { returnsError, sendReturnsErrors } from '../http-errors';
import { applyPositionStatus, returnView, touchOrder, touchReturn } from '../order-factory';
import { queryParam } from '../request-params';
import { sellerData } from '../seller-data';
import { RETURN_STATUSES, type ReturnStatus } from '../state';
import { describeIssue, validate } from '../validation';
import { parseIntParam, parseLimit } from './paging';
import { exactRouter } from './exact-router';

export const RETURNS_DEFAULT_LIMIT = 10;
export const RETURNS_MAX_LIMIT = 50;
export const RETURNS_MAX_BATCH = 200;

export const ACCEPTANCE_REASONS = [
  'RETURN_RECEIVED',
  'STATUS_SENT_BY_ACCIDENT',
  'CANCEL_REQUEST_BY_CUSTOMER',
  'REFUND_AFTER_AFFIDAVIT',
  'COMPLAINT',
  'SHIPMENT_LOST',
  'RETURN_LOST',
  'UNDELIVERABLE',
] as const;

export const REJECTION_REASONS = [
  'THIRD_PARTY_ITEM',
  'WRONG_ITEM',
  'EXCHANGE',
  'DAMAGE_TO_THE_HYGIENE_SEAL',
  'ITEM_DAMAGED',
  'RETURN_PERIOD_EXCEEDED',
  'ITEM_NOT_IN_THE_PARCEL',
] as const;

/** [I] The spec's enum is the literal "A/B/C/D/E": one letter is sent (docs/otto-api.md §5.4, §7.8). */
const condition = z.enum(['A', 'B', 'C', 'D', 'E'], 'condition must be one of A, B, C, D, E');

const itemBase = { positionItemId: z.string().min(1), salesOrderId: z.string().min(1), condition };
const acceptanceSchema = z.object({
  positionItems: z.array(z.object({ ...itemBase, reason: z.enum(ACCEPTANCE_REASONS).optional() })).min(1),
});
const rejectionSchema = z.object({
  positionItems: z.array(z.object({ ...itemBase, reason: z.enum(REJECTION_REASONS) })).min(1),
});

/**
 * Returns v3 (scope `returns`). GET: newest status change first, numbered pages with a `next` link;
 * a page past the end (page > 1) is a 404 [I: the API documents a 404 without saying when]. POST
 * acceptance/rejection: over 200 items → 413, an invalid body or item → 422 (nothing applied), items
 * that cannot be decided (no such return, other sales order, already decided) → 207 with the applied
 * `results` and one error each, all fine → 200 (untyped at OTTO; the emulator sends `{}`).
 */
export function returnsRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();
  const guard = requireInstallationToken(ctx, 'returns');

  router.get('/v3/returns', guard, (req, res) => {
    const limit = parseLimit(queryParam(req, 'limit'), RETURNS_DEFAULT_LIMIT, RETURNS_MAX_LIMIT);
    if (typeof limit === 'string') return badRequest(res, limit);
    const page = parseIntParam(queryParam(req, 'page'), { name: 'page', defaultValue: 1, min: 1 });
    if (typeof page === 'string') return badRequest(res, page);
    const rawStatus = queryParam(req, 'status');
    const status = rawStatus?.toUpperCase() as ReturnStatus | undefined;
    if (status !== undefined && !RETURN_STATUSES.includes(status)) {
      return badRequest(res, `status must be one of ${RETURN_STATUSES.join(', ')}, was "${rawStatus}"`);
    }
    const matching = sellerData(ctx, caller(res).partnerId)
      .returns.filter((r) => status === undefined || r.status === status)
      .sort((a, b) => b.occurredTime.localeCompare(a.occurredTime) || b.changeSeq - a.changeSeq);
    const items = matching.slice((page - 1) * limit, page * limit);
    if (items.length === 0 && page > 1) {
      sendReturnsErrors(res, 404, [{ title: 'Not Found', detail: `There is no page ${page}` }]);
      return;
    }
    const links: { rel: string; href: string }[] = [];
    if (page * limit < matching.length) {
      const params = new URLSearchParams({
        ...(status ? { status } : {}),
        limit: String(limit),
        page: String(page + 1),
      });
      links.push({ rel: 'next', href: `/v3/returns?${params.toString()}` });
    }
    res.json({ positionItems: items.map(returnView), links });
  });

  router.post('/v3/returns/acceptance', guard, (req, res) => decide(ctx, req, res, 'ACCEPTED'));
  router.post('/v3/returns/rejection', guard, (req, res) => decide(ctx, req, res, 'REJECTED'));

  return router;
}

function badRequest(res: Response, detail: string): void {
  sendReturnsErrors(res, 400, [{ title: 'Bad Request', detail }]);
}

function decide(ctx: EmulatorContext, req: Request, res: Response, decision: 'ACCEPTED' | 'REJECTED'): void {
  const body: unknown = req.body;
  const items = (body as { positionItems?: unknown } | undefined)?.positionItems;
  if (Array.isArray(items) && items.length > RETURNS_MAX_BATCH) {
    sendReturnsErrors(res, 413, [
      {
        title: 'Payload Too Large',
        detail: `At most ${RETURNS_MAX_BATCH} position items per request are allowed, got ${items.length}`,
      },
    ]);
    return;
  }
  const parsed = validate(decision === 'ACCEPTED' ? acceptanceSchema : rejectionSchema, body);
  if (!parsed.ok) {
    sendReturnsErrors(
      res,
      422,
      parsed.issues.map((issue) => ({ title: 'Unprocessable Entity', detail: describeIssue(issue) })),
    );
    return;
  }
  const { partnerId } = caller(res);
  const data = sellerData(ctx, partnerId);
  const results: (typeof parsed.value.positionItems)[number][] = [];
  const errors: ReturnType<typeof returnsError>[] = [];
  for (const item of parsed.value.positionItems) {
    const ret = data.returns.find(
      (r) => r.positionItemId === item.positionItemId && r.salesOrderId === item.salesOrderId,
    );
    if (!ret) {
      errors.push(
        returnsError(res, {
          title: 'Not Found',
          detail: `No return for position item ${item.positionItemId} of sales order ${item.salesOrderId}`,
        }),
      );
      continue;
    }
    if (ret.status !== 'ANNOUNCED') {
      errors.push(
        returnsError(res, {
          title: 'Conflict',
          detail: `The return of position item ${item.positionItemId} is ${ret.status}, not ANNOUNCED`,
        }),
      );
      continue;
    }
    ret.status = decision;
    ret.details = {
      condition: item.condition,
      ...(item.reason !== undefined ? { reason: item.reason } : {}),
    };
    touchReturn(ctx, partnerId, ret);
    if (decision === 'ACCEPTED') {
      // The position item is RETURNED now, which the orders API shows as a change.
      const order = data.orders.find((o) => o.salesOrderId === ret.salesOrderId);
      const position = order?.positionItems.find((p) => p.positionItemId === ret.positionItemId);
      if (order && position) applyPositionStatus(position, 'RETURNED', touchOrder(ctx, order));
    }
    results.push(item);
  }
  ctx.persist();
  if (errors.length > 0) res.status(207).json({ results, errors });
  else res.status(200).json({});
}
