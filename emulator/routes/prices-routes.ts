import { Router } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendApiError } from '../http-errors';
import { uuid } from '../ids';
import { checkBatch, parseBody } from '../validation';

export const PRICES_MAX_BATCH = 500;

const pricesSchema = z.array(
  z.object({
    sku: z.string().min(1).max(50),
    standardPrice: z.object({
      amount: z.number().positive('amount must be > 0').max(1_000_000),
      currency: z.literal('EUR'),
    }),
  }),
);

/**
 * Prices go through OTTO's asynchronous product update tasks: POST answers 202 with a process id, and the
 * task is polled. The emulator applies the prices at once and reports the task as done. Scope `products`.
 */
export function pricesRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const guard = requireInstallationToken(ctx, 'products');

  router.post('/v5/products/prices', guard, (req, res) => {
    const body: unknown = req.body;
    if (!checkBatch(body, PRICES_MAX_BATCH, 'prices', res)) return;
    const items = parseBody(pricesSchema, body, res);
    if (!items) return;
    const data = ctx.partnerData(caller(res).partnerId);
    const now = ctx.nowIso();
    const processUuid = uuid();
    for (const item of items) {
      const stored = {
        sku: item.sku,
        standardPrice: { ...item.standardPrice },
        lastModified: now,
        processUuid,
      };
      const index = data.prices.findIndex((p) => p.sku === item.sku);
      if (index >= 0) data.prices[index] = stored;
      else data.prices.push(stored);
    }
    data.priceProcesses.push({ processUuid, createdAt: now, total: items.length });
    ctx.persist();
    res.status(202).json({
      processUuid,
      pingAfter: new Date(ctx.now() + 1000).toISOString(),
      links: [{ rel: 'self', href: `/v5/products/update-tasks/${processUuid}` }],
    });
  });

  router.get('/v5/products/update-tasks/:processUuid', guard, (req, res) => {
    const task = ctx
      .partnerData(caller(res).partnerId)
      .priceProcesses.find((p) => p.processUuid === req.params.processUuid);
    if (!task) {
      sendApiError(res, 404, 'Not Found', 'Unknown process');
      return;
    }
    res.json({
      processUuid: task.processUuid,
      state: 'done',
      total: task.total,
      succeeded: task.total,
      failed: 0,
    });
  });

  return router;
}
