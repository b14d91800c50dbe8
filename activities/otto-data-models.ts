/**
 * OTTO's seller-data models as the connector reads them (docs/otto-api.md §5, from OTTO's generated API
 * clients). Written from the documentation, independent of the emulator. Lenient on purpose (OTTO:
 * "ignore unknown fields"): unknown fields are kept (so whole objects can be stored), optional fields
 * may be absent or null, and only what OTTO marks required is required.
 */
import { z } from 'zod';

const isoDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO 8601 date-time' });
const optionalString = z.string().nullish();

/** `{rel, href}`: orders, returns, stock and prices send a list; shipping profiles send one object. */
export const link = z.looseObject({ rel: optionalString, href: optionalString });
export const linkList = z
  .union([z.array(link), link])
  .nullish()
  .transform((l) => (l == null ? [] : Array.isArray(l) ? l : [l]));
export type Link = z.infer<typeof link>;

export function linkHref(links: readonly Link[], rel: string): string | undefined {
  const href = links.find((l) => l.rel?.toLowerCase() === rel)?.href;
  return href ? href : undefined;
}

// ---- §5.1 orders (v4) ------------------------------------------------------------------------------

const orderAmount = z.looseObject({ amount: z.number(), currency: z.string() });

export const positionItem = z.looseObject({
  positionItemId: z.string(),
  fulfillmentStatus: z.string(),
  itemValueGrossPrice: orderAmount,
  product: z.looseObject({
    sku: z.string(),
    articleNumber: z.string(),
    productTitle: z.string(),
    vatRate: z.number(),
    ean: optionalString,
  }),
  itemValueReducedGrossPrice: orderAmount.nullish(),
  cancellationDate: optionalString,
  cancellationReason: optionalString,
});
export type OttoPositionItem = z.infer<typeof positionItem>;

export const partnerOrder = z.looseObject({
  salesOrderId: z.string(),
  orderNumber: z.string(),
  orderDate: isoDate,
  orderLifecycleInformation: z.looseObject({ lifecycleChangeDate: isoDate }),
  positionItems: z.array(positionItem),
  /** Optional in OTTO's model: the lifecycle change date stands in when it is missing. */
  lastModifiedDate: isoDate.nullish(),
});
export type OttoPartnerOrder = z.infer<typeof partnerOrder>;

export const ordersPage = z.looseObject({
  resources: z
    .array(partnerOrder)
    .nullish()
    .transform((r) => r ?? []),
  links: linkList,
});

/**
 * An orders page whose orders are checked one by one (the import): one order that does not match the
 * model must not keep every other order of the page, and of every later run, from the shop.
 */
export const ordersPageLoose = z.looseObject({
  resources: z
    .array(z.unknown())
    .nullish()
    .transform((r) => r ?? []),
  links: linkList,
});

// ---- §5.4 returns (v3) -----------------------------------------------------------------------------

/** Every field optional in OTTO's model; items without a position item id cannot be stored. */
export const returnItem = z.looseObject({
  positionItemId: optionalString,
  salesOrderId: optionalString,
  status: optionalString,
  occurredTime: isoDate.nullish(),
  details: z.unknown().optional(),
});
export type OttoReturnItem = z.infer<typeof returnItem>;

export const returnsPage = z.looseObject({
  positionItems: z
    .array(returnItem)
    .nullish()
    .transform((r) => r ?? []),
  links: linkList,
});

// ---- §5.5 shipping profiles ------------------------------------------------------------------------

export const shippingProfile = z.looseObject({
  shippingProfileId: z.string(),
  shippingProfileName: z.string(),
  workingDays: z.array(z.string()),
  orderCutoff: z.string(),
  deliveryType: z.string(),
  defaultProcessingTime: z.number().int(),
  transportTime: z.number().int(),
});
export type OttoShippingProfile = z.infer<typeof shippingProfile>;

/** `results` stays absent (null) when OTTO sends none: such a page is no proof that a profile is gone. */
export const shippingProfilesPage = z.looseObject({
  results: z.array(shippingProfile).nullish(),
  links: linkList,
});

// ---- §5.2 stock ------------------------------------------------------------------------------------

/** 200: untyped. 207: `{results: [{sku, quantity, lastModified, links}], errors: [...]}`. */
export const quantitiesAnswer = z.unknown().transform((body) => {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const results = Array.isArray(b.results) ? (b.results as unknown[]) : undefined;
  return {
    body,
    /** SKUs OTTO lists as taken; undefined when the answer has no `results` list. */
    takenSkus: results?.flatMap((r) =>
      r && typeof r === 'object' && typeof (r as Record<string, unknown>).sku === 'string'
        ? [(r as Record<string, unknown>).sku as string]
        : [],
    ),
  };
});

// ---- §5.3 prices -----------------------------------------------------------------------------------

const count = z.number().nullish();

/** 202 of POST /v5/products/prices and 200 of GET /v5/products/update-tasks/{id}. */
export const productProcessProgress = z.looseObject({
  state: optionalString,
  message: optionalString,
  total: count,
  progress: count,
  succeeded: count,
  failed: count,
  unchanged: count,
  pingAfter: optionalString,
  links: linkList,
});
export type ProductProcessProgress = z.infer<typeof productProcessProgress>;

/**
 * GET …/update-tasks/{id}/failed: `{results: [{variation, errors: [...]}]}`. OTTO's generated client
 * types `variation` as a string (the SKU); an object `{sku, …}` is read too. Normalised to the SKU.
 */
export const productProcessResult = z.looseObject({
  results: z
    .array(
      z
        .looseObject({
          variation: z.union([z.string(), z.looseObject({ sku: optionalString })]).nullish(),
          errors: z.unknown().optional(),
        })
        .transform((r) => ({
          sku: typeof r.variation === 'string' ? r.variation : (r.variation?.sku ?? undefined),
          errors: r.errors,
        })),
    )
    .nullish()
    .transform((r) => r ?? []),
  links: linkList,
});
