import type { Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from '../emulator-context';
import { sendAdminError } from '../http-errors';
import { generateOrders, generateReturns, orderView, returnView, setPositionStatus } from '../order-factory';
import { addProducts, sellerData } from '../seller-data';
import { CANCELLATION_REASONS, FULFILLMENT_STATUSES } from '../state';
import { parseIsoDateTime } from '../validation';
import { parseAdminBody, partnerOr404 } from './admin-helpers';
import { settlePriceTasks } from './prices-routes';
import { exactRouter } from './exact-router';

const fulfillmentStatus = z.enum(FULFILLMENT_STATUSES);

const ordersSchema = z.object({
  count: z.number().int().min(1).max(100_000),
  fulfillmentStatus: fulfillmentStatus.default('PROCESSABLE'),
  /** `sometimes` (default): every fifth order of a partner comes without the optional lastModifiedDate. */
  lastModifiedDate: z.enum(['sometimes', 'always', 'never']).default('sometimes'),
  orderDate: z
    .string()
    .refine((v) => parseIsoDateTime(v) !== undefined, 'orderDate must be an ISO 8601 date-time with zone')
    .transform((v) => new Date(parseIsoDateTime(v)!).toISOString())
    .optional(),
  skus: z.array(z.string().min(1)).min(1).optional(),
});

const statusSchema = z.object({
  fulfillmentStatus,
  /** Default: every position item of the order. */
  positionItemIds: z.array(z.string().min(1)).min(1).optional(),
  cancellationReason: z.enum(CANCELLATION_REASONS).optional(),
});

const returnsSchema = z.object({
  count: z.number().int().min(1).max(10_000),
  status: z.enum(['ANNOUNCED', 'MISDIRECTED']).default('ANNOUNCED'),
});

const productsSchema = z.object({
  skus: z.array(z.string().min(1).max(200)).min(1).max(1_000_000),
  /** Assigns the SKUs to this shipping profile (which then cannot be deleted: 412). */
  shippingProfileId: z.string().min(1).optional(),
});

/**
 * The seller-data part of the admin API (mounted by admin-routes.ts): create orders, change position
 * statuses, announce returns, fill the product catalogue, and read everything back in OTTO's API shapes.
 */
export function adminDataRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();

  router.post('/partners/:partnerId/orders', (req, res) => {
    const partner = partnerOr404(ctx, req.params.partnerId, res);
    if (!partner) return;
    const body = parseAdminBody(ordersSchema, req.body, res);
    if (!body) return;
    const orders = generateOrders(ctx, partner.partnerId, body);
    ctx.persist();
    res.status(201).json(orders.map(orderView));
  });

  router.post('/partners/:partnerId/orders/:salesOrderId/status', (req, res) => {
    const partner = partnerOr404(ctx, req.params.partnerId, res);
    if (!partner) return;
    const body = parseAdminBody(statusSchema, req.body, res);
    if (!body) return;
    const order = sellerData(ctx, partner.partnerId).orders.find(
      (o) => o.salesOrderId === req.params.salesOrderId,
    );
    if (!order) {
      sendAdminError(res, 404, 'unknown_order', `No order ${req.params.salesOrderId}`);
      return;
    }
    const unknown = setPositionStatus(ctx, order, body.fulfillmentStatus, body);
    if (unknown.length > 0) {
      sendAdminError(
        res,
        400,
        'unknown_position_item',
        `No position item ${unknown.join(', ')} in this order`,
      );
      return;
    }
    ctx.persist();
    res.json(orderView(order));
  });

  router.post('/partners/:partnerId/returns', (req, res) => {
    const partner = partnerOr404(ctx, req.params.partnerId, res);
    if (!partner) return;
    const body = parseAdminBody(returnsSchema, req.body, res);
    if (!body) return;
    const created = generateReturns(ctx, partner.partnerId, body.count, body.status);
    ctx.persist();
    res.status(201).json(created.map(returnView));
  });

  // The emulator has no product API: stock and prices are only accepted for SKUs registered here.
  router.post('/partners/:partnerId/products', (req, res) => {
    const partner = partnerOr404(ctx, req.params.partnerId, res);
    if (!partner) return;
    const body = parseAdminBody(productsSchema, req.body, res);
    if (!body) return;
    const data = sellerData(ctx, partner.partnerId);
    if (
      body.shippingProfileId !== undefined &&
      !data.shippingProfiles.some((p) => p.shippingProfileId === body.shippingProfileId)
    ) {
      sendAdminError(res, 404, 'unknown_shipping_profile', `No shipping profile ${body.shippingProfileId}`);
      return;
    }
    const added = addProducts(data, body.skus, ctx.nowIso(), body.shippingProfileId);
    ctx.persist();
    res.status(201).json({ added, total: data.products.length });
  });

  const readBack: Record<string, (partnerId: string) => unknown> = {
    orders: (id) => sellerData(ctx, id).orders.map(orderView),
    products: (id) => sellerData(ctx, id).products,
    quantities: (id) => sellerData(ctx, id).quantities,
    prices: (id) => {
      settlePriceTasks(ctx, id);
      return sellerData(ctx, id).prices;
    },
    'shipping-profiles': (id) => sellerData(ctx, id).shippingProfiles,
    returns: (id) => sellerData(ctx, id).returns.map(returnView),
    shipments: (id) => sellerData(ctx, id).shipments,
  };
  for (const [segment, read] of Object.entries(readBack)) {
    router.get(`/partners/:partnerId/${segment}`, (req, res) => {
      const partner = partnerOr404(ctx, req.params.partnerId, res);
      if (partner) res.json(read(partner.partnerId));
    });
  }

  return router;
}
