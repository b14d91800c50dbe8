/** Availability V1 quantities (docs/otto-api.md §5.2). */
import { z } from 'zod';
import { linkSchema, untypedObjectSchema, utcDateTime } from './common';

/** QuantityApiError: `code` is the HTTP status, `path` the endpoint. */
export const quantityApiErrorSchema = z.strictObject({
  code: z.number().int(),
  title: z.string(),
  detail: z.string(),
  path: z.string(),
  logref: z.string(),
});

export const availableQuantitySchema = z.strictObject({
  sku: z.string().min(1),
  quantity: z.number().int().min(0),
  lastModified: utcDateTime,
  links: z.array(linkSchema),
});

/** POST 200: untyped at OTTO. */
export const quantitiesUpdatedSchema = untypedObjectSchema;

/** POST 207: applied SKUs and one error per refused SKU. */
export const quantitiesMultiStatusSchema = z.strictObject({
  results: z.array(availableQuantitySchema),
  errors: z.array(quantityApiErrorSchema).min(1),
});

/** POST 413 / 422 (and the emulator's 400/404 of the reads, in the same shape). */
export const quantitiesErrorSchema = z.strictObject({ errors: z.array(quantityApiErrorSchema).min(1) });

/** `GET /v1/availability/quantities`: only `rel: "next"` in the spec. */
export const quantitiesListSchema = z.strictObject({
  resources: z.strictObject({ variations: z.array(availableQuantitySchema) }),
  links: z.array(linkSchema.extend({ rel: z.literal('next') })),
});

/** `GET /v1/availability/quantities/{sku}`. */
export const quantitySingleSchema = z.strictObject({
  sku: z.string().min(1),
  quantity: z.number().int().min(0),
  lastModified: utcDateTime,
});
