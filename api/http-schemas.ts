/**
 * Every HTTP input and output as zod schemas: routes parse with them (and use the parsed output), and
 * openapi.ts turns the same schemas into the API description. One source, so the two cannot drift.
 */
import { z } from 'zod';
import { connectionStatusSchema } from '../common/status-schema';
import { API_SELLER_ID_MESSAGE, API_SELLER_ID_PATTERN } from '../common/workflow-input-rules';
import { CONNECTION_STATES } from '../common/workflow-names';
import {
  appVersionSchema,
  connectionStateSchema,
  sellerIdSchema,
  transferKindSchema,
} from '../common/workflow-schemas';
import { FORM_TOKEN_FIELD, MAX_ASSISTANT_TOKEN_LENGTH } from './assistant-session';
import { MAX_CONSENT_TICKET_LENGTH } from './consent-cookie';
import { MAX_LIST_CURSOR_LENGTH } from './list-cursor';
import { MAX_STATE_LENGTH } from './oauth-state';

// ---- inputs --------------------------------------------------------------------------------------

/** A seller id in a URL: the workflow's rule, and not dots only (common/workflow-input-rules.ts). */
const sellerIdParamSchema = z.string().regex(API_SELLER_ID_PATTERN, API_SELLER_ID_MESSAGE);

export const sellerParamsSchema = z.strictObject({ sellerId: sellerIdParamSchema });
export const transferParamsSchema = z.strictObject({
  sellerId: sellerIdParamSchema,
  kind: transferKindSchema,
});
export const webhookParamsSchema = z.strictObject({
  sellerId: sellerIdParamSchema,
  eventId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'eventId must be a webhook event id (webhook-id)'),
});
export const redeliverResponseSchema = z.object({
  sellerId: sellerIdSchema,
  eventId: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
});

export const beginConnectionBodySchema = z
  .strictObject({
    appVersion: appVersionSchema.optional().describe('Defaults to the newest configured app version.'),
    invitationUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      // RFC 3986 characters only, as a link copied from OPC is: it travels verbatim in the consent
      // cookie, whose size must stay predictable (a 2,048-character link still fits).
      // (a refinement, not .regex(): that would drop `format: uri` from the OpenAPI document)
      .refine(
        (url) => /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/.test(url),
        'invitationUrl must be a URL as OPC generates it (percent-encoded, no spaces, quotes or other characters outside RFC 3986)',
      )
      .optional()
      .describe(
        'A private app’s invitation link from OPC (“Einladungslink generieren”; valid 24 h, single use), percent-encoded (RFC 3986 characters only). Required for a private app (one without installationUrl in OTTO_APPS).',
      ),
    allowPartnerChange: z
      .boolean()
      .optional()
      .describe(
        'Let this consent land on another OTTO partner than the seller is connected to (refused otherwise).',
      ),
  })
  .describe('Start (or re-issue) consent for a seller.');

export const consentStartQuerySchema = z.strictObject({
  ticket: z.string().min(1).max(MAX_CONSENT_TICKET_LENGTH),
});

export const emptyBodySchema = z.strictObject({}).describe('No body, or an empty JSON object.');

export const reasonBodySchema = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional().describe('Shown in the seller’s event log.'),
});

/** GET …/connection: the summary (from the workflow's memo) or the full view (the workflow's query). */
export const statusQuerySchema = z.strictObject({
  view: z
    .enum(['summary', 'full'])
    .default('summary')
    .describe(
      '`summary` (default): the status without `events` and `webhooks`, read from Temporal without asking the seller’s worker. `full`: everything, from the workflow’s `connectionStatus` query (slower; needs a worker).',
    ),
});

/**
 * A whole number in the query string: decimal digits only, given once (`?limit=10`). Not
 * z.coerce.number(), which reads `''` as 0 and takes `0x10`, `1e3` and `  1`, and calls a repeated
 * parameter NaN. Every way to get it wrong gets the same message, naming the parameter and its bounds.
 */
function queryInteger(name: string, min: number, max: number) {
  const message = `${name} must be a whole number from ${min} to ${max}, written in digits and given once`;
  return z.preprocess(
    (value) => (typeof value === 'string' && /^[0-9]{1,10}$/.test(value) ? Number(value) : value),
    z
      .number({ error: message })
      .int({ error: message })
      .min(min, { error: message })
      .max(max, { error: message }),
  );
}

/** Connection list page size: default and bounds of `pageSize`. */
export const DEFAULT_LIST_PAGE_SIZE = 100;
export const MAX_LIST_PAGE_SIZE = 1000;

export const listQuerySchema = z
  .strictObject({
    state: connectionStateSchema.optional().describe(`One of ${CONNECTION_STATES.join(', ')}.`),
    pageSize: queryInteger('pageSize', 1, MAX_LIST_PAGE_SIZE)
      .optional()
      .describe(
        `Sellers per page, 1–${MAX_LIST_PAGE_SIZE}; default ${DEFAULT_LIST_PAGE_SIZE}. A page may hold fewer: only \`nextCursor: null\` ends the list.`,
      ),
    limit: queryInteger('limit', 1, MAX_LIST_PAGE_SIZE)
      .optional()
      .describe('The older name of `pageSize` (an alias; give one of them).'),
    cursor: z
      .string()
      .min(1)
      .max(MAX_LIST_CURSOR_LENGTH)
      .optional()
      .describe(
        'The `nextCursor` of the previous page (opaque), with the same `state`; omit for the first page.',
      ),
  })
  .refine((q) => q.pageSize === undefined || q.limit === undefined, {
    message: 'give pageSize or its alias limit, not both',
    path: ['limit'],
  });

export const assistantSessionBodySchema = z
  .strictObject({
    appVersion: appVersionSchema
      .optional()
      .describe('The app version “Allow access” starts consent for; default the newest offered.'),
    invitationUrl: beginConnectionBodySchema.shape.invitationUrl.describe(
      'A private app’s invitation link from OPC (valid 24 h, single use) for “Allow access” in this session; it belongs to appVersion (default the newest offered).',
    ),
  })
  .describe('Optional: what “Allow access” in this session uses. No body, or `{}`, for the defaults.');

/** The shop's one-time link; refusals are pages, so the token is checked by the route, not here. */
export const assistantLinkQuerySchema = z.strictObject({
  token: z.string().min(1).max(MAX_ASSISTANT_TOKEN_LENGTH),
});
/**
 * The seller comes from the session cookie only. A `sellerId` left in the URL (old links, the callback's
 * redirect) is accepted when it names the session's seller and refused (403) otherwise.
 */
export const assistantQuerySchema = z.object({
  sellerId: z
    .string()
    .max(200)
    .optional()
    .describe('Ignored when it names the session’s seller; any other seller is refused (403).'),
});
export const allowAccessFormSchema = z.strictObject({
  [FORM_TOKEN_FIELD]: z
    .string()
    .min(1)
    .max(128)
    .describe('The per-session form token rendered into the assistant page (CSRF).'),
  appVersion: appVersionSchema.optional(),
});

/**
 * OTTO's redirect (docs/otto-api.md §2.3). Lengths are bounded far above real values and within the
 * workflow signal's limits; a repeated parameter arrives as an array and fails as "expected string".
 */
export const callbackQuerySchema = z.object({
  state: z.string().min(1).max(MAX_STATE_LENGTH).optional(),
  code: z
    .string()
    .min(1)
    .max(2048)
    .regex(/^[\x21-\x7e]+$/, 'code must be printable ASCII without spaces')
    .optional(),
  iss: z.string().min(1).max(2048).optional(),
  error: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/, 'error must be an OAuth error code')
    .optional(),
  error_description: z.string().max(1000).optional(),
  session_state: z.string().max(2048).optional().describe('Sent by Keycloak; ignored.'),
});

// ---- outputs -------------------------------------------------------------------------------------

export const errorResponseSchema = z.object({
  error: z.object({
    code: z.string().describe('Stable, machine-readable'),
    message: z.string().describe('For humans'),
    details: z.unknown().optional(),
  }),
});

export const assistantSessionResponseSchema = z.object({
  url: z
    .url()
    .describe(
      "Send the seller's browser here (or load it in the shop's admin frame): opening it once sets the assistant session cookie for this seller and shows the assistant.",
    ),
  expiresAt: z.iso
    .datetime()
    .describe('The link must be opened before then; the session then lasts ASSISTANT_SESSION_TTL.'),
});

export const beginConnectionResponseSchema = z.object({
  state: connectionStateSchema.describe('The connection state after this request (not the OAuth state).'),
  appVersion: appVersionSchema,
  authorizeUrl: z
    .url()
    .describe(
      "Send the seller's browser here: a one-time link of ours that binds the browser to this consent and goes on to OTTO's installation page.",
    ),
  installationUrl: z
    .url()
    .describe(
      'OTTO’s installation link (public app) or the invitation link (private app) the seller is sent to.',
    ),
  linkExpiresAt: z.iso.datetime().describe('authorizeUrl works until then.'),
  consentDeadline: z.iso.datetime(),
});

const temporalLinkSchema = z.object({ workflowId: z.string(), runId: z.string(), uiUrl: z.url() });
const isoOrNull = z.iso.datetime().nullable();

/**
 * The full status view (`?view=full`): the workflow's query result (connectionStatusSchema, defined once
 * for the query, this response and the OpenAPI document) with a link into the Temporal UI.
 */
export const statusViewSchema = connectionStatusSchema.extend({ temporal: temporalLinkSchema });

/**
 * The status summary the seller workflow keeps in its memo (workflows/status-summary.ts): the status
 * view's own fields without the two lists and the Temporal ids. The API validates the memo with it.
 */
export const statusSummarySchema = connectionStatusSchema.omit({
  events: true,
  webhooks: true,
  temporal: true,
});

/** The summary as GET …/connection answers it by default, with the run it was read from. */
export const statusSummaryViewSchema = statusSummarySchema.extend({ temporal: temporalLinkSchema });

/** GET …/connection's answer: the summary, plus `events` and `webhooks` with `view=full`. */
export const connectionResponseSchema = statusSummaryViewSchema.extend({
  events: connectionStatusSchema.shape.events.optional().describe('With `view=full` only: the event log.'),
  webhooks: connectionStatusSchema.shape.webhooks
    .optional()
    .describe(
      'With `view=full` only: the last webhook deliveries to the shop, oldest first (every pending one is listed).',
    ),
});

export const connectionSummarySchema = z.object({
  sellerId: z.string(),
  state: connectionStateSchema.nullable(),
  appVersion: appVersionSchema.nullable(),
  partnerId: z.string().nullable(),
  running: z.boolean(),
  executionStatus: z.string(),
  startedAt: z.iso.datetime(),
  closedAt: isoOrNull,
  temporal: temporalLinkSchema,
  status: statusSummarySchema
    .nullable()
    .describe(
      'The status summary this run last wrote (its memo, as in GET …/connection); null for a run started before release 0.2.0.',
    ),
});

export const listResponseSchema = z.object({
  items: z.array(connectionSummarySchema).describe('Running sellers first (newest first), then ended ones.'),
  nextCursor: z
    .string()
    .nullable()
    .describe('Pass as `cursor` for the next page; null: this was the last page.'),
});
export const commandResponseSchema = z.object({ sellerId: sellerIdSchema, state: connectionStateSchema });
export const applySettingsResponseSchema = z.object({
  matched: z.number().int().nonnegative().describe('Running seller workflows found.'),
  applied: z
    .number()
    .int()
    .nonnegative()
    .describe('Of those, how many now run with the worker’s current settings.'),
  failed: z
    .array(z.object({ sellerId: z.string(), message: z.string() }))
    .describe('Sellers that did not take the update (ended meanwhile, an older run, Temporal errors).'),
});
export const healthResponseSchema = z.object({ status: z.literal('ok') });
export const readyResponseSchema = z.object({ status: z.literal('ready'), temporal: z.literal('reachable') });

// ---- the shop API (role `shop`) --------------------------------------------------------------------

/** Items per PUT …/stock or …/prices. */
export const MAX_SHOP_BATCH_ITEMS = 1000;
export const MAX_STOCK_QUANTITY = 1_000_000;
export const MAX_PRICE_AMOUNT = 1_000_000;
/** Feed page size: default and bounds of `limit`. */
export const DEFAULT_FEED_LIMIT = 100;
export const MAX_FEED_LIMIT = 1000;

export const skuSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[^\p{C}]+$/u, 'sku must be printable characters (no control characters)')
  .refine((sku) => sku.trim() === sku, 'sku must not start or end with whitespace')
  .describe('The seller’s SKU as OTTO knows it: 1–50 printable characters.');

/** Refuses a SKU that occurs twice in one batch, naming the later item and the earlier one. */
function uniqueSkus(items: ReadonlyArray<{ sku: string }>, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const first = seen.get(item.sku);
    if (first === undefined) seen.set(item.sku, index);
    else
      ctx.addIssue({
        code: 'custom',
        path: [index, 'sku'],
        message: `duplicate sku in this batch (also item ${first}); send each SKU once`,
      });
  });
}

export const stockItemSchema = z.strictObject({
  sku: skuSchema,
  quantity: z
    .number()
    .int()
    .min(0)
    .max(MAX_STOCK_QUANTITY)
    .describe(`Available quantity: an integer 0–${MAX_STOCK_QUANTITY.toLocaleString('en')}.`),
});
export const stockBatchSchema = z
  .array(stockItemSchema)
  .min(1)
  .max(MAX_SHOP_BATCH_ITEMS)
  .superRefine(uniqueSkus)
  .describe(
    `1–${MAX_SHOP_BATCH_ITEMS} stock levels, each SKU once. All or nothing: one invalid item refuses the batch.`,
  );

export const priceItemSchema = z.strictObject({
  sku: skuSchema,
  amount: z
    .number()
    .positive()
    .max(MAX_PRICE_AMOUNT)
    .multipleOf(0.01)
    .describe('Gross price, > 0 with at most 2 decimals.'),
  currency: z.literal('EUR').describe('OTTO Market accepts EUR only.'),
});
export const priceBatchSchema = z
  .array(priceItemSchema)
  .min(1)
  .max(MAX_SHOP_BATCH_ITEMS)
  .superRefine(uniqueSkus)
  .describe(
    `1–${MAX_SHOP_BATCH_ITEMS} prices, each SKU once. All or nothing: one invalid item refuses the batch.`,
  );

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x20-\x7e]+$/, 'Idempotency-Key must be printable ASCII')
  .describe(
    'Optional. The same key with the same body within 24 h answers the first answer again without writing; with another body 409.',
  );

export const feedQuerySchema = z.strictObject({
  after: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('The `next` cursor of the previous page (opaque); omit to start at the beginning.'),
  limit: queryInteger('limit', 1, MAX_FEED_LIMIT)
    .default(DEFAULT_FEED_LIMIT)
    .describe(`Items per page, 1–${MAX_FEED_LIMIT}; default ${DEFAULT_FEED_LIMIT}.`),
});

export const shopBatchResponseSchema = z.object({
  accepted: z.number().int().describe('Items written (the whole batch).'),
  firstChangeSeq: z
    .number()
    .int()
    .describe(
      'The change number of the batch’s first item. The items’ numbers increase in batch order but need not be consecutive (other writes may take numbers in between).',
    ),
  changeSeq: z
    .number()
    .int()
    .describe('The change number of the batch’s last item: the next export after it sends the batch.'),
});

const positionItemSchema = z.object({
  positionItemId: z.string(),
  fulfillmentStatus: z.string(),
  sku: z.string(),
  amount: z.number(),
  currency: z.string(),
  articleNumber: z.string().optional(),
  productTitle: z.string().optional(),
  cancellationReason: z.string().nullable().optional(),
});

const feedPage = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item).describe('In change order; an item comes again only when it changed.'),
    next: z
      .string()
      .describe('Always present: the cursor for the next call (`after=`); poll with it, even when empty.'),
    hasMore: z.boolean().describe('More items are waiting: call again with `next` right away.'),
  });

export const orderFeedResponseSchema = feedPage(
  z.object({
    changeSeq: z.number().int(),
    salesOrderId: z.string(),
    orderNumber: z.string(),
    orderDate: z.string(),
    fulfillmentStatus: z.string().describe('Derived from the position items as OTTO buckets orders.'),
    changeDate: z.string(),
    lifecycleChangeDate: z.string(),
    lastModifiedDate: z.string().nullable(),
    positionItems: z.array(positionItemSchema),
    data: z.record(z.string(), z.unknown()).optional().describe('The whole order as OTTO sent it.'),
  }),
);

export const returnFeedResponseSchema = feedPage(
  z.object({
    changeSeq: z.number().int(),
    positionItemId: z.string(),
    salesOrderId: z.string(),
    status: z.string().describe('ANNOUNCED, ACCEPTED, REJECTED, MISDIRECTED'),
    occurredTime: z.string().nullable(),
    details: z.unknown(),
  }),
);

export const shippingProfilesResponseSchema = z.object({
  profiles: z.array(
    z.object({
      shippingProfileId: z.string(),
      shippingProfileName: z.string(),
      workingDays: z.array(z.string()),
      orderCutoff: z.string(),
      deliveryType: z.string(),
      defaultProcessingTime: z.number(),
      transportTime: z.number(),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
});

const exportFailureSchema = z.object({
  sku: z.string(),
  error: z.string().describe('OTTO’s error text from the last refusal.'),
  attempts: z.number().int().describe('Runs in a row OTTO refused it; it is sent again every run.'),
  firstFailedAt: z.string(),
  lastFailedAt: z.string(),
});

export const transfersResponseSchema = z.object({
  sellerId: sellerIdSchema,
  transfers: z.record(
    transferKindSchema,
    z.object({
      lastRuns: z
        .array(
          z.object({
            startedAt: z.string(),
            finishedAt: z.string(),
            result: z.enum(['ok', 'failed']),
            count: z.number().int(),
            detail: z.string(),
          }),
        )
        .describe('Newest first, at most 20.'),
      failures: z
        .array(exportFailureSchema)
        .optional()
        .describe('Exports only: the SKUs OTTO currently refuses (stock) or failed to price (prices).'),
    }),
  ),
});
