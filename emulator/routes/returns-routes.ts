import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendApiError, sendApiErrors } from '../http-errors';
import { queryParam } from '../request-params';
import type { ReturnStatus } from '../state';
import { parseBody } from '../validation';
import { parseLimit } from './paging';

export const RETURNS_MAX_LIMIT = 50;
export const RETURNS_MAX_BATCH = 200;
const STATUSES: ReturnStatus[] = ['ANNOUNCED', 'ACCEPTED', 'REJECTED'];

const decisionSchema = z.object({
  positionItems: z
    .array(
      z.object({
        positionItemId: z.string().min(1),
        salesOrderId: z.string().optional(),
        reason: z.string().optional(),
      }),
    )
    .min(1)
    .max(RETURNS_MAX_BATCH, `at most ${RETURNS_MAX_BATCH} position items per request`),
});

/** Return announcements (scope `returns`): page-numbered list with a next link, accept/reject in batches. */
export function returnsRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const guard = requireInstallationToken(ctx, 'returns');

  router.get('/v3/returns', guard, (req, res) => {
    const limit = parseLimit(queryParam(req, 'limit'), 10, RETURNS_MAX_LIMIT);
    if (typeof limit === 'string') {
      sendApiError(res, 400, 'Bad Request', limit);
      return;
    }
    const status = queryParam(req, 'status');
    if (status !== undefined && !STATUSES.includes(status as ReturnStatus)) {
      sendApiError(res, 400, 'Bad Request', `status must be one of ${STATUSES.join(', ')}`);
      return;
    }
    const pageRaw = queryParam(req, 'page') ?? '1';
    if (!/^[1-9]\d*$/.test(pageRaw)) {
      sendApiError(res, 400, 'Bad Request', 'page must be a positive integer');
      return;
    }
    const page = Number(pageRaw);
    const matching = ctx
      .partnerData(caller(res).partnerId)
      .returns.filter((r) => status === undefined || r.status === status)
      .sort(
        (a, b) =>
          a.announcedAt.localeCompare(b.announcedAt) || a.positionItemId.localeCompare(b.positionItemId),
      );
    const items = matching.slice((page - 1) * limit, page * limit);
    const links: { rel: string; href: string }[] = [];
    if (page * limit < matching.length) {
      const params = new URLSearchParams({
        ...(status ? { status } : {}),
        limit: String(limit),
        page: String(page + 1),
      });
      links.push({ rel: 'next', href: `/v3/returns?${params.toString()}` });
    }
    res.json({ positionItems: items, links });
  });

  router.post('/v3/returns/acceptance', guard, (req, res) => decideReturns(ctx, req, res, 'ACCEPTED'));
  router.post('/v3/returns/rejection', guard, (req, res) => decideReturns(ctx, req, res, 'REJECTED'));

  return router;
}

function decideReturns(ctx: EmulatorContext, req: Request, res: Response, status: ReturnStatus): void {
  const body = parseBody(decisionSchema, req.body, res);
  if (!body) return;
  const data = ctx.partnerData(caller(res).partnerId);
  const problems = body.positionItems.flatMap((item, index) => {
    const ret = data.returns.find((r) => r.positionItemId === item.positionItemId);
    if (!ret)
      return [
        {
          path: `positionItems[${index}]`,
          title: 'Unknown',
          detail: 'no return announced for this position item',
        },
      ];
    if (ret.status !== 'ANNOUNCED') {
      return [
        { path: `positionItems[${index}]`, title: 'Conflict', detail: `return is already ${ret.status}` },
      ];
    }
    return [];
  });
  if (problems.length > 0) {
    sendApiErrors(res, 400, problems);
    return;
  }
  const now = ctx.nowIso();
  const updated = body.positionItems.map((item) => {
    const ret = data.returns.find((r) => r.positionItemId === item.positionItemId)!;
    ret.status = status;
    ret.lastModifiedDate = now;
    if (status === 'REJECTED' && item.reason) ret.rejectionReason = item.reason;
    return ret;
  });
  ctx.persist();
  res.status(200).json({ positionItems: updated });
}
