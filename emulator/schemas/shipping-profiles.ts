/** Shipping profiles v1 (docs/otto-api.md §5.5). */
import { z } from 'zod';

export const shippingProfileSchema = z.strictObject({
  shippingProfileId: z.string().min(1),
  shippingProfileName: z.string().min(1),
  workingDays: z.array(
    z.enum(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY']),
  ),
  orderCutoff: z.string().regex(/^([01]\d|2[0-3]):(00|30)$/),
  deliveryType: z.enum([
    'PARCEL',
    'FORWARDER_PREFERREDLOCATION',
    'FORWARDER_CURBSIDE',
    'FORWARDER_HEAVYDUTY',
  ]),
  defaultProcessingTime: z.number().int().min(1).max(99),
  transportTime: z.number().int().min(1).max(99),
});

/** `GET /v1/shipping-profiles`: envelope `results`, `links` one object (optional). */
export const shippingProfileListSchema = z.strictObject({
  results: z.array(shippingProfileSchema),
  links: z.strictObject({ rel: z.string().optional(), href: z.string().optional() }).optional(),
});

/** POST 201. */
export const shippingProfileCreatedSchema = z.strictObject({
  shippingProfileId: z.string().min(1),
  message: z.string(),
});

/** 400/404/409/412/500: `type` is the URL of the request. */
export const shippingProfileErrorSchema = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  validationErrors: z.array(z.strictObject({ detail: z.string(), logref: z.string() })),
});
