import type { Router } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendShipmentError } from '../http-errors';
import { uuid } from '../ids';
import { applyPositionStatus, touchOrder } from '../order-factory';
import { sellerData } from '../seller-data';
import type { Order, PositionItem } from '../state';
import { validate } from '../validation';
import { exactRouter } from './exact-router';

/** TrackingKey carriers of Shipments v1 (docs/otto-api.md §5.6). */
export const CARRIERS = [
  'DHL',
  'DHL_EXPRESS',
  'DHL_FREIGHT',
  'DHL_HOME_DELIVERY',
  'GLS',
  'HERMES',
  'DPD',
  'UPS',
  'BTW',
  'BURSPED',
  'CARGOLINE',
  'DACHSER',
  'DB_SCHENKER',
  'DSV',
  'EMONS',
  'EPH_DIREKT',
  'IDS',
  'GEIS',
  'GEL',
  'GUETTLER',
  'HES',
  'HELLMANN',
  'HEUEL',
  'KOCH',
  'KUEHNE_NAGEL',
  'LOGWIN',
  'MEYER_JUMBO',
  'RABEN_LOGISTIK',
  'RHENUS',
  'REIMER',
  'REITHMEIER',
  'SCHOCKEMOEHLE',
  'SCHMIDT_GEVELSBERG',
  'ZUFALL',
  'OTHER_FORWARDER',
] as const;

/**
 * Carriers whose shipments need a tracking number ("parcel"); forwarders may omit it. [I] DHL_HOME_DELIVERY
 * (two-man handling) counts as parcel here: the stricter reading.
 */
const PARCEL_CARRIERS = new Set<string>([
  'DHL',
  'DHL_EXPRESS',
  'DHL_HOME_DELIVERY',
  'GLS',
  'HERMES',
  'DPD',
  'UPS',
]);
const RETURN_CARRIERS = ['DHL', 'GLS', 'HERMES'] as const;

/** "Must be a valid UTC dateTime according to ISO 8601": `Z` or `+00:00` only. */
const UTC_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|\+00:00)$/;

const shipmentSchema = z
  .object({
    trackingKey: z.object({ carrier: z.enum(CARRIERS), trackingNumber: z.string().min(1).optional() }),
    shipDate: z
      .string()
      .regex(UTC_DATE_TIME, 'shipDate must be a UTC date-time (ISO 8601)')
      .refine((v) => !Number.isNaN(Date.parse(v)), 'shipDate is not a date'),
    shipFromAddress: z.object({
      city: z.string().min(1),
      countryCode: z.string().regex(/^[A-Z]{3}$/, 'countryCode must be ISO 3166-1 alpha-3, e.g. "DEU"'),
      zipCode: z.string().min(1),
    }),
    positionItems: z
      .array(
        z.object({
          positionItemId: z.string().min(1),
          salesOrderId: z.string().min(1),
          returnTrackingKey: z.object({
            carrier: z.enum(RETURN_CARRIERS),
            trackingNumber: z.string().min(1),
          }),
          returnAddressCarrierId: z.string().min(1).optional(),
        }),
      )
      .min(1),
  })
  .superRefine((body, check) => {
    if (PARCEL_CARRIERS.has(body.trackingKey.carrier) && body.trackingKey.trackingNumber === undefined) {
      check.addIssue({
        code: 'custom',
        path: ['trackingKey', 'trackingNumber'],
        message: `trackingNumber is required for the parcel carrier ${body.trackingKey.carrier}`,
      });
    }
  });

/**
 * Shipments v1 (scope `shipments`): `POST /v1/shipments` marks the position items SENT (sentDate, tracking
 * info, a new order change date). All or nothing. Errors are `{ errors: { title, path, detail, jsonPath } }`
 * (one object, the first problem): 400 for an invalid body or an unknown order/position item, 409 [I] for
 * a position item that is not PROCESSABLE (already shipped, cancelled, still announced) or listed twice.
 */
export function shipmentsRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();

  router.post('/v1/shipments', requireInstallationToken(ctx, 'shipments'), (req, res) => {
    const parsed = validate(shipmentSchema, req.body);
    if (!parsed.ok) {
      const first = parsed.issues[0];
      sendShipmentError(res, 400, {
        title: 'Bad Request',
        detail: first?.message ?? 'Invalid shipment',
        jsonPath: first?.jsonPath ?? '$',
      });
      return;
    }
    const body = parsed.value;
    const data = sellerData(ctx, caller(res).partnerId);
    const found: { order: Order; item: PositionItem }[] = [];
    const seen = new Set<string>();
    for (const [index, p] of body.positionItems.entries()) {
      const order = data.orders.find((o) => o.salesOrderId === p.salesOrderId);
      const item = order?.positionItems.find((i) => i.positionItemId === p.positionItemId);
      const at = `$.positionItems[${index}]`;
      if (!order || !item) {
        sendShipmentError(res, 400, {
          title: 'Bad Request',
          detail: `Position item ${p.positionItemId} does not belong to a sales order ${p.salesOrderId} of the partner`,
          jsonPath: `${at}.positionItemId`,
        });
        return;
      }
      if (item.fulfillmentStatus !== 'PROCESSABLE' || seen.has(item.positionItemId)) {
        sendShipmentError(res, 409, {
          title: 'Conflict',
          detail: seen.has(item.positionItemId)
            ? `Position item ${p.positionItemId} is listed twice`
            : `Position item ${p.positionItemId} is ${item.fulfillmentStatus}, not PROCESSABLE`,
          jsonPath: `${at}.positionItemId`,
        });
        return;
      }
      seen.add(item.positionItemId);
      found.push({ order, item });
    }
    const touched = new Map<Order, string>();
    for (const { order, item } of found) {
      const at = touched.get(order) ?? touchOrder(ctx, order);
      touched.set(order, at);
      applyPositionStatus(item, 'SENT', at);
      item.sentDate = body.shipDate;
      item.trackingInfo = {
        carrier: body.trackingKey.carrier,
        ...(body.trackingKey.trackingNumber !== undefined
          ? { trackingNumber: body.trackingKey.trackingNumber }
          : {}),
      };
    }
    const shipmentId = uuid();
    data.shipments.push({ shipmentId, createdAt: ctx.nowIso(), ...body });
    ctx.persist();
    res.status(201).json({ shipmentId });
  });

  return router;
}
