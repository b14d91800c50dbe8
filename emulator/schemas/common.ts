/**
 * Response schemas of OTTO's seller data APIs, written from docs/otto-api.md §5 (and the generated
 * clients it cites), for the emulator's own tests only. The connector has its own parsers and must never
 * import these; nothing here imports connector code either.
 *
 * Conventions: `z.strictObject` where the doc lists every field (an extra field is a bug in the
 * emulator); fields the doc/client marks optional are optional; date-times are ISO 8601 in UTC ("answers
 * in UTC", docs/otto-api.md §5 General).
 */
import { z } from 'zod';

/** An ISO 8601 date-time in UTC, as OTTO answers. */
export const utcDateTime = z.iso.datetime();

/** ISO 4217 currency code. */
export const currencyCode = z.string().regex(/^[A-Z]{3}$/);

/** ISO 3166-1 alpha-3 country code. */
export const countryAlpha3 = z.string().regex(/^[A-Z]{3}$/);

/** `{ rel, href }` as in every `links` array. */
export const linkSchema = z.strictObject({ rel: z.string().min(1), href: z.string().min(1) });

/** Generic error body (docs/otto-api.md §5.7): orders, prices, and the gateway's 401/403/404/429. */
export const genericErrorEntrySchema = z.strictObject({
  path: z.string().min(1),
  title: z.string().min(1),
  code: z.union([z.string(), z.number()]).optional(),
  detail: z.string().optional(),
  'detail-structured': z.unknown().optional(),
  jsonpath: z.string().optional(),
  logref: z.string().optional(),
});

export const genericErrorSchema = z.strictObject({
  errors: z.array(genericErrorEntrySchema).min(1),
  warnings: z.array(genericErrorEntrySchema).optional(),
});

/** A body the doc leaves untyped ("200: body untyped"): any JSON object. */
export const untypedObjectSchema = z.record(z.string(), z.unknown());
