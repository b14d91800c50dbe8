import { Router } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendApiErrors } from '../http-errors';
import { uuid } from '../ids';
import { nextChangeIso } from '../order-factory';
import { parseBody } from '../validation';

const shipmentSchema = z.object({
  trackingKey: z.object({ carrier: z.string().min(1), trackingNumber: z.string().min(1) }),
  shipDate: z.iso.datetime({ offset: true }),
  positionItems: z
    .array(z.object({ positionItemId: z.string().min(1), salesOrderId: z.string().min(1) }))
    .min(1)
    .max(200),
});

/** POST /v1/shipments: marks the position items SENT (and the order, once all its items are). Scope `shipments`. */
export function shipmentsRoutes(ctx: EmulatorContext): Router {
  const router = Router();

  router.post('/v1/shipments', requireInstallationToken(ctx, 'shipments'), (req, res) => {
    const body = parseBody(shipmentSchema, req.body, res);
    if (!body) return;
    const data = ctx.partnerData(caller(res).partnerId);
    const found = body.positionItems.map((p) => {
      const order = data.orders.find((o) => o.salesOrderId === p.salesOrderId);
      return { order, item: order?.positionItems.find((i) => i.positionItemId === p.positionItemId) };
    });
    const problems = found.flatMap(({ item }, index) => {
      if (!item)
        return [
          {
            path: `positionItems[${index}]`,
            title: 'Unknown',
            detail: 'no such position item in that order',
          },
        ];
      if (item.fulfillmentStatus !== 'PROCESSABLE') {
        return [
          {
            path: `positionItems[${index}]`,
            title: 'Conflict',
            detail: `position item is ${item.fulfillmentStatus}`,
          },
        ];
      }
      return [];
    });
    if (problems.length > 0) {
      sendApiErrors(res, 400, problems);
      return;
    }
    for (const { order, item } of found) {
      if (!order || !item) continue;
      item.fulfillmentStatus = 'SENT';
      if (order.positionItems.every((i) => i.fulfillmentStatus === 'SENT')) order.fulfillmentStatus = 'SENT';
      order.lastModifiedDate = nextChangeIso(ctx);
    }
    const shipmentId = uuid();
    data.shipments.push({
      shipmentId,
      createdAt: ctx.nowIso(),
      carrier: body.trackingKey.carrier,
      trackingNumber: body.trackingKey.trackingNumber,
      shipDate: body.shipDate,
      positionItems: body.positionItems,
    });
    ctx.persist();
    res.status(201).json({ shipmentId });
  });

  return router;
}
