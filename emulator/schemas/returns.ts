/** Returns v3 (docs/otto-api.md §5.4). */
import { z } from 'zod';
import { linkSchema, untypedObjectSchema } from './common';

export const returnStatusSchema = z.enum(['ANNOUNCED', 'ACCEPTED', 'REJECTED', 'MISDIRECTED']);
export const returnConditionSchema = z.enum(['A', 'B', 'C', 'D', 'E']);
export const acceptanceReasonSchema = z.enum([
  'RETURN_RECEIVED',
  'STATUS_SENT_BY_ACCIDENT',
  'CANCEL_REQUEST_BY_CUSTOMER',
  'REFUND_AFTER_AFFIDAVIT',
  'COMPLAINT',
  'SHIPMENT_LOST',
  'RETURN_LOST',
  'UNDELIVERABLE',
]);
export const rejectionReasonSchema = z.enum([
  'THIRD_PARTY_ITEM',
  'WRONG_ITEM',
  'EXCHANGE',
  'DAMAGE_TO_THE_HYGIENE_SEAL',
  'ITEM_DAMAGED',
  'RETURN_PERIOD_EXCEEDED',
  'ITEM_NOT_IN_THE_PARCEL',
]);

export const announcedDetailsSchema = z.strictObject({
  returnTrackingKey: z
    .strictObject({ carrier: z.string().optional(), trackingNumbers: z.array(z.string()).optional() })
    .optional(),
});
export const decidedDetailsSchema = z.strictObject({
  condition: z.string().optional(),
  reason: z.string().optional(),
});
export const misdirectedDetailsSchema = z.strictObject({
  orderNumber: z.string().optional(),
  ottoWarehouseID: z.string().optional(),
});

const item = <S extends z.ZodType, D extends z.ZodType>(status: S, details: D) =>
  z.strictObject({
    positionItemId: z.string().optional(),
    salesOrderId: z.string().optional(),
    status: status.optional(),
    occurredTime: z.string().optional(),
    details: details.optional(),
  });

/** A positionItems[] entry; `details` depends on the status. */
export const returnPositionItemSchema = z.union([
  item(z.literal('ANNOUNCED'), announcedDetailsSchema),
  item(z.enum(['ACCEPTED', 'REJECTED']), decidedDetailsSchema),
  item(z.literal('MISDIRECTED'), misdirectedDetailsSchema),
]);

/** `GET /v3/returns` 200 (all fields optional at OTTO). */
export const returnsListSchema = z.strictObject({
  positionItems: z.array(returnPositionItemSchema).optional(),
  links: z.array(linkSchema).optional(),
});

export const returnsApiErrorSchema = z.strictObject({
  title: z.string().optional(),
  detail: z.string().optional(),
  path: z.string().optional(),
  logref: z.string().optional(),
});

/** 400/401/404/413/422/500 of the returns API. */
export const returnsErrorSchema = z.strictObject({ errors: z.array(returnsApiErrorSchema).optional() });

/** POST acceptance/rejection 200: untyped. */
export const returnsDecidedSchema = untypedObjectSchema;

const decidedItem = z.strictObject({
  positionItemId: z.string(),
  salesOrderId: z.string(),
  condition: z.string(),
  reason: z.string().optional(),
});

/** POST acceptance 207. */
export const acceptanceMultiStatusSchema = z.strictObject({
  results: z.array(decidedItem.extend({ reason: acceptanceReasonSchema.optional() })),
  errors: z.array(returnsApiErrorSchema).optional(),
});

/** POST rejection 207: `reason` is required there. */
export const rejectionMultiStatusSchema = z.strictObject({
  results: z.array(decidedItem.extend({ reason: rejectionReasonSchema })),
  errors: z.array(returnsApiErrorSchema).optional(),
});
