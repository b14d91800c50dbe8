/**
 * The OpenAPI 3.1 description of every route, generated from the zod schemas the routes parse with
 * (http-schemas.ts), so the document cannot drift from what the API accepts.
 */
import { z } from 'zod';
import { TRANSFER_KINDS } from '../workflows/definitions';
import {
  applySettingsResponseSchema,
  beginConnectionBodySchema,
  beginConnectionResponseSchema,
  callbackQuerySchema,
  commandResponseSchema,
  consentStartQuerySchema,
  emptyBodySchema,
  errorResponseSchema,
  healthResponseSchema,
  listQuerySchema,
  listResponseSchema,
  reasonBodySchema,
  sellerParamsSchema,
  connectionResponseSchema,
  statusQuerySchema,
  transferParamsSchema,
  redeliverResponseSchema,
  webhookParamsSchema,
  allowAccessFormSchema,
  assistantLinkQuerySchema,
  assistantQuerySchema,
  assistantSessionBodySchema,
  assistantSessionResponseSchema,
  feedQuerySchema,
  idempotencyKeySchema,
  MAX_SHOP_BATCH_ITEMS,
  orderFeedResponseSchema,
  priceBatchSchema,
  returnFeedResponseSchema,
  shippingProfilesResponseSchema,
  shopBatchResponseSchema,
  stockBatchSchema,
  transfersResponseSchema,
} from './http-schemas';

/** `session`: the assistant session cookie the shop's one-time link sets (api/assistant-session.ts). */
type Auth = 'public' | 'session' | 'support' | 'admin' | 'shop';
type Method = 'get' | 'post' | 'put' | 'delete';

export interface RouteSpec {
  method: Method;
  /** Express syntax (`:sellerId`); converted to OpenAPI's `{sellerId}`. */
  path: string;
  summary: string;
  auth: Auth;
  tag: 'Sellers' | 'Shop' | 'OAuth' | 'Assistant' | 'Operations' | 'Documentation';
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers, by their HTTP name. */
  headers?: z.ZodObject;
  body?: {
    schema: z.ZodType;
    contentType: 'application/json' | 'application/x-www-form-urlencoded';
    required?: boolean;
  };
  /** Status → description and, for JSON, the schema. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

const json = 'application/json';
const err = (description: string) => ({ description, schema: errorResponseSchema });
const authErrors = {
  401: err('No or invalid API key'),
  403: err('The key lacks the needed role'),
  429: err('Too many failed authentication attempts from this address'),
};
/** Commands (workflow updates): a timeout is not "nothing happened". */
const temporalDown = {
  503: err(
    '`temporal_unavailable`: Temporal is unreachable; nothing was changed, try again (Retry-After). `temporal_busy`: Temporal refused the call for load (too many requests for this seller at once, a rate limit); nothing was changed, try again (Retry-After). `temporal_timeout`: Temporal or the seller’s worker did not answer in time; the command may still take effect, so check the connection status before sending it again',
  ),
};
/** Reads: nothing to change, either way. */
const temporalDownRead = {
  503: err(
    '`temporal_unavailable` (Temporal is unreachable), `temporal_busy` (Temporal refused the call for load) or `temporal_timeout` (Temporal or the seller’s worker did not answer in time); try again (Retry-After)',
  ),
};
const sellerErrors = { 400: err('Invalid seller id or body'), 404: err('The seller never connected') };
/** An admin command on one seller: an optional JSON body; besides its own answers, the seller, auth and Temporal errors. */
const sellerCommand = (
  spec: Pick<RouteSpec, 'method' | 'path' | 'summary' | 'responses'> & {
    params?: z.ZodObject;
    body: z.ZodType;
  },
): RouteSpec => ({
  ...spec,
  auth: 'admin',
  tag: 'Sellers',
  params: spec.params ?? sellerParamsSchema,
  body: { schema: spec.body, contentType: json, required: false },
  responses: { ...sellerErrors, ...spec.responses, ...authErrors, ...temporalDown },
});
const notAllowed = { 409: err('Not allowed in the current state') };
const notSupported = { 501: err('The running workflow does not support this command yet') };

export const ROUTES: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/sellers/:sellerId/connection',
    summary:
      'Start (or re-issue) consent; answers our one-time link (authorizeUrl) that binds the seller’s browser and opens OTTO’s installation or invitation link',
    auth: 'admin',
    tag: 'Sellers',
    params: sellerParamsSchema,
    body: { schema: beginConnectionBodySchema, contentType: json },
    responses: {
      201: { description: 'Consent started', schema: beginConnectionResponseSchema },
      400: err(
        'Invalid seller id, body or app version; invitationUrl not on OTTO’s portal; a private app without an invitation link',
      ),
      409: err('Already connected at that version, or the state does not allow it'),
      415: err('Body is not JSON'),
      ...authErrors,
      ...temporalDown,
    },
  },
  {
    method: 'get',
    path: '/api/sellers/:sellerId/connection',
    summary:
      'The seller’s connection status (docs/design.md §3) of its latest run, also an ended one: by default the summary the workflow keeps in its memo (fast, no worker involved); `view=full` adds the event log and webhook deliveries (the workflow’s query)',
    auth: 'support',
    tag: 'Sellers',
    params: sellerParamsSchema,
    query: statusQuerySchema,
    responses: {
      200: {
        description: 'The status summary, or with `view=full` the whole status view',
        schema: connectionResponseSchema,
      },
      ...sellerErrors,
      ...authErrors,
      ...temporalDownRead,
    },
  },
  sellerCommand({
    method: 'delete',
    path: '/api/sellers/:sellerId/connection',
    summary: 'Remove the data exchange (disconnect)',
    body: reasonBodySchema,
    responses: {
      200: { description: 'Disconnected', schema: commandResponseSchema },
      409: err('Not allowed in the current state, or the connection has ended'),
    },
  }),
  sellerCommand({
    method: 'post',
    path: '/api/sellers/:sellerId/connection/pause',
    summary: 'Pause data transfers (tokens keep being refreshed)',
    body: reasonBodySchema,
    responses: { 200: { description: 'Paused', schema: commandResponseSchema }, ...notAllowed },
  }),
  sellerCommand({
    method: 'post',
    path: '/api/sellers/:sellerId/connection/resume',
    summary: 'Resume data transfers',
    body: emptyBodySchema,
    responses: { 200: { description: 'Resumed', schema: commandResponseSchema }, ...notAllowed },
  }),
  sellerCommand({
    method: 'post',
    path: '/api/sellers/:sellerId/transfers/:kind/run',
    summary: `Run one transfer now (${TRANSFER_KINDS.join(', ')})`,
    params: transferParamsSchema,
    body: emptyBodySchema,
    responses: {
      202: { description: 'Run requested', schema: commandResponseSchema },
      ...notAllowed,
      ...notSupported,
    },
  }),
  sellerCommand({
    method: 'post',
    path: '/api/sellers/:sellerId/webhooks/:eventId/redeliver',
    summary:
      'Send a recorded webhook to the shop again, with the same webhook-id (the shop’s idempotency key); a pending one keeps its running delivery',
    params: webhookParamsSchema,
    body: emptyBodySchema,
    responses: {
      202: { description: 'Redelivery started', schema: redeliverResponseSchema },
      404: err('The seller never connected, or it has no webhook with this id (only the last ones are kept)'),
      409: err('The connection has ended (its workflow no longer runs)'),
      ...notSupported,
    },
  }),
  {
    method: 'post',
    path: '/api/sellers/:sellerId/assistant-sessions',
    summary:
      'Open the assistant for this seller: a one-time link (valid ASSISTANT_LINK_TTL, default 10 minutes) that sets an assistant session cookie for this seller only (ASSISTANT_SESSION_TTL, default 1 hour) and shows the assistant; call it from the shop’s backend for the logged-in seller',
    auth: 'admin',
    tag: 'Assistant',
    params: sellerParamsSchema,
    body: { schema: assistantSessionBodySchema, contentType: json, required: false },
    responses: {
      201: { description: 'The one-time link', schema: assistantSessionResponseSchema },
      400: err('Invalid seller id or body; app version not offered; invitationUrl not on OTTO’s portal'),
      415: err('Body is not JSON'),
      ...authErrors,
    },
  },
  {
    method: 'get',
    path: '/api/connections',
    summary:
      'List connections via visibility (search attribute OttoConnectionState and each run’s status memo), each seller once, a page at a time: follow `nextCursor` until it is null',
    auth: 'support',
    tag: 'Sellers',
    query: listQuerySchema,
    responses: {
      200: {
        description: 'One page: running sellers first (newest first), then ended ones',
        schema: listResponseSchema,
      },
      400: err(
        'Invalid state, pageSize or limit, or a cursor this API did not issue for this state (`invalid_cursor`)',
      ),
      ...authErrors,
      ...temporalDownRead,
    },
  },
  {
    method: 'post',
    path: '/api/settings/apply',
    summary:
      'Apply the workers’ current settings (TRANSFER_INTERVALS, TOKEN_REFRESH_MARGIN_SECONDS, TOKEN_TASK_QUEUES, …) to every running seller now, instead of at each seller’s next run',
    auth: 'admin',
    tag: 'Sellers',
    body: { schema: emptyBodySchema, contentType: json, required: false },
    responses: {
      200: {
        description:
          'Sent to every running seller workflow (8 at a time); those that did not take it are listed',
        schema: applySettingsResponseSchema,
      },
      400: err('A body other than `{}`'),
      415: err('Body is not JSON'),
      ...authErrors,
      ...temporalDown,
    },
  },
  {
    method: 'get',
    path: '/oauth/start',
    summary:
      'The admin’s one-time consent link (authorizeUrl): sets the browser-binding cookie and opens OTTO’s installation or invitation link (public); it works in the one browser that opened it first',
    auth: 'public',
    tag: 'OAuth',
    query: consentStartQuerySchema,
    responses: {
      303: { description: 'Cookie set; redirect to OTTO’s installation or invitation link' },
      400: {
        description:
          'Damaged, forged or expired link, or one already opened in another browser (callback_consent_link_used): an HTML page, or JSON when asked',
        schema: errorResponseSchema,
      },
      503: {
        description:
          'The seller store, where opened links are spent, is unreachable: the link stays unopened; try again (Retry-After)',
        schema: errorResponseSchema,
      },
    },
  },
  {
    method: 'get',
    path: '/oauth/callback',
    summary:
      'OTTO’s redirects (public): without code and error, the consent callback after the installation (redirects to OTTO’s login); with code or error, the login’s answer',
    auth: 'public',
    tag: 'OAuth',
    query: callbackQuerySchema,
    responses: {
      303: {
        description:
          'Consent callback: redirect to OTTO’s /oauth2/auth. Code callback accepted (or OTTO’s error recorded): redirect to the assistant',
      },
      400: {
        description:
          'Refused (no consent cookie, another browser, forged, expired, replayed, mixed-up, malformed): an HTML page, or JSON when asked',
        schema: errorResponseSchema,
      },
      ...temporalDown,
    },
  },
  {
    method: 'get',
    path: '/assistant/otto/session',
    summary:
      'The shop’s one-time assistant link (from POST /api/sellers/:sellerId/assistant-sessions): works once, sets the assistant session cookie and redirects to the assistant',
    auth: 'public',
    tag: 'Assistant',
    query: assistantLinkQuerySchema,
    responses: {
      303: { description: 'Session cookie set; redirect to /assistant/otto' },
      400: {
        description: 'Damaged or forged link: an HTML page, or JSON when asked',
        schema: errorResponseSchema,
      },
      410: {
        description: 'Expired, or already opened: an HTML page, or JSON when asked',
        schema: errorResponseSchema,
      },
      503: {
        description:
          'The seller store, where opened links are spent, is unreachable: the link stays unopened; try again (Retry-After)',
        schema: errorResponseSchema,
      },
    },
  },
  {
    method: 'get',
    path: '/assistant/otto',
    summary:
      'The “Base settings – OTTO Market” assistant of the session’s seller (the seller comes from the session cookie only)',
    auth: 'session',
    tag: 'Assistant',
    query: assistantQuerySchema,
    responses: {
      200: { description: 'HTML page', contentType: 'text/html' },
      400: { description: 'Malformed query', contentType: 'text/html' },
      401: {
        description: 'No valid assistant session: open the settings from the shop',
        contentType: 'text/html',
      },
      403: { description: 'The query names another seller than the session’s', contentType: 'text/html' },
      503: { description: 'Temporal unreachable or too slow to answer', contentType: 'text/html' },
    },
  },
  {
    method: 'post',
    path: '/assistant/otto/allow-access',
    summary:
      '“Allow access” for the session’s seller: starts consent, sets the browser-binding cookie and redirects to OTTO’s installation (or invitation) link',
    auth: 'session',
    tag: 'Assistant',
    body: { schema: allowAccessFormSchema, contentType: 'application/x-www-form-urlencoded' },
    responses: {
      303: { description: 'Cookie set; redirect to OTTO’s installation or invitation link' },
      400: {
        description: 'Invalid form, or a private app whose consent was not started with an invitation link',
        contentType: 'text/html',
      },
      401: { description: 'No valid assistant session', contentType: 'text/html' },
      403: {
        description: 'Cross-site form post, or a form token not of this session',
        contentType: 'text/html',
      },
      409: { description: 'Already connected at that version', contentType: 'text/html' },
      415: { description: 'Not a form post', contentType: 'text/html' },
      429: {
        description: 'Too many consent starts from this session or address (10 per 10 minutes each)',
        contentType: 'text/html',
      },
      503: {
        description:
          'Temporal unreachable (nothing was started), or too slow to answer (consent may still start: reload the assistant)',
        contentType: 'text/html',
      },
    },
  },
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    auth: 'public',
    tag: 'Operations',
    responses: { 200: { description: 'Alive', schema: healthResponseSchema } },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    auth: 'public',
    tag: 'Documentation',
    responses: { 200: { description: 'OpenAPI 3.1', contentType: json } },
  },
  {
    method: 'get',
    path: '/api/docs',
    summary: 'Readable API reference',
    auth: 'public',
    tag: 'Documentation',
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
  },
];

// The shop API (role `shop`, api/routes/shop-routes.ts).
const shopErrors = {
  401: err('No or invalid API key'),
  403: err('The key lacks the shop role (admin and support keys do not have it)'),
  429: err('Too many failed authentication attempts from this address'),
  503: err(
    '`store_unavailable`: the seller store is not configured on this API, or cannot be reached right now; try again (Retry-After)',
  ),
};
const idempotencyHeaders = z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() });
const batchRoute = (what: 'stock' | 'prices'): RouteSpec => ({
  method: 'put',
  path: `/api/sellers/:sellerId/${what}`,
  summary:
    what === 'stock'
      ? `Set stock levels: 1–${MAX_SHOP_BATCH_ITEMS} \`{ sku, quantity }\` (integer 0–1,000,000), each SKU once; all or nothing; each item gets the next change number and the next stock export sends it`
      : `Set prices: 1–${MAX_SHOP_BATCH_ITEMS} \`{ sku, amount, currency }\` (amount > 0 with ≤ 2 decimals, currency EUR), each SKU once; all or nothing; each item gets the next change number and the next price export sends it`,
  auth: 'shop',
  tag: 'Shop',
  params: sellerParamsSchema,
  headers: idempotencyHeaders,
  body: { schema: what === 'stock' ? stockBatchSchema : priceBatchSchema, contentType: json },
  responses: {
    200: {
      description:
        'Written (or, for a repeated Idempotency-Key with the same body, the first answer again with `Idempotent-Replayed: true`)',
      schema: shopBatchResponseSchema,
    },
    400: err(
      'Invalid seller id, header or batch: details name each item (`body.3.quantity`); nothing written',
    ),
    409: err('idempotency_key_reused: the key was used in the last 24 h with another body; nothing written'),
    413: err('The body is larger than 512 kB'),
    415: err('Body is not JSON'),
    ...shopErrors,
  },
});
const feedRoute = (what: 'orders' | 'returns'): RouteSpec => ({
  method: 'get',
  path: `/api/sellers/:sellerId/${what}`,
  summary: `The ${what === 'orders' ? 'orders' : 'returns (one item per position item)'} change feed: in change order from the cursor \`after\`; an item comes again only when it changed; poll with \`next\``,
  auth: 'shop',
  tag: 'Shop',
  params: sellerParamsSchema,
  query: feedQuerySchema,
  responses: {
    200: {
      description: 'One page of the feed',
      schema: what === 'orders' ? orderFeedResponseSchema : returnFeedResponseSchema,
    },
    400: err(
      "Invalid seller id or limit, or a cursor this API did not issue for this seller's feed (invalid_cursor)",
    ),
    409: err(
      'The cursor is ahead of the store (cursor_ahead: the store was restored from a backup or replaced); read again from the start (no `after`)',
    ),
    ...shopErrors,
  },
});

const SHOP_ROUTES: RouteSpec[] = [
  batchRoute('stock'),
  batchRoute('prices'),
  feedRoute('orders'),
  feedRoute('returns'),
  {
    method: 'get',
    path: '/api/sellers/:sellerId/shipping-profiles',
    summary: 'The seller’s current shipping profiles at OTTO (as the last sync read them)',
    auth: 'shop',
    tag: 'Shop',
    params: sellerParamsSchema,
    responses: {
      200: { description: 'Shipping profiles, by id', schema: shippingProfilesResponseSchema },
      400: err('Invalid seller id'),
      ...shopErrors,
    },
  },
  {
    method: 'get',
    path: '/api/sellers/:sellerId/transfers',
    summary:
      'Each transfer’s last runs (newest first, up to 20) with counts, and for the exports the SKUs OTTO currently refuses',
    auth: 'shop',
    tag: 'Shop',
    params: sellerParamsSchema,
    responses: {
      200: { description: 'Transfers by kind', schema: transfersResponseSchema },
      400: err('Invalid seller id'),
      ...shopErrors,
    },
  },
];
ROUTES.push(...SHOP_ROUTES);

export const openApiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

function parameters(spec: RouteSpec): unknown[] {
  const out: unknown[] = [];
  for (const [where, obj] of [
    ['path', spec.params],
    ['query', spec.query],
    ['header', spec.headers],
  ] as const) {
    if (!obj) continue;
    const shape = schemaOf(obj, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(shape.properties ?? {})) {
      const description = (schema as { description?: string }).description;
      out.push({
        name,
        in: where,
        required: where === 'path' || (shape.required ?? []).includes(name),
        schema,
        ...(description ? { description } : {}),
      });
    }
  }
  return out;
}

export function buildOpenApiDocument(options: {
  serverUrl: string;
  version?: string;
}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of ROUTES) {
    const operation: Record<string, unknown> = {
      operationId: `${spec.method}${openApiPath(spec.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}`,
      summary: spec.summary,
      tags: [spec.tag],
      security:
        spec.auth === 'public' ? [] : spec.auth === 'session' ? [{ assistantSession: [] }] : [{ apiKey: [] }],
      ...(spec.auth === 'public' || spec.auth === 'session' ? {} : { 'x-required-role': spec.auth }),
      parameters: parameters(spec),
      responses: Object.fromEntries(
        Object.entries(spec.responses).map(([status, r]) => [
          status,
          {
            description: r.description,
            ...(r.schema
              ? { content: { [r.contentType ?? json]: { schema: schemaOf(r.schema, 'output') } } }
              : r.contentType
                ? { content: { [r.contentType]: { schema: { type: 'string' } } } }
                : {}),
          },
        ]),
      ),
    };
    if (spec.body) {
      operation.requestBody = {
        required: spec.body.required ?? true,
        content: { [spec.body.contentType]: { schema: schemaOf(spec.body.schema, 'input') } },
      };
    }
    (paths[openApiPath(spec.path)] ??= {})[spec.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'otto-connect API',
      version: options.version ?? '0.1.0',
      description:
        'Connects shop-system sellers to OTTO Market. Errors are always `{ "error": { "code", "message", "details"? } }`; ' +
        'a path called with a method it does not take answers 405 `method_not_allowed` with `Allow`; paths are case-sensitive. ' +
        'API keys: `Authorization: Bearer <key>`; the `support` role reads, `admin` also writes, `shop` (only) uses the Shop routes. ' +
        '`/readyz` (Temporal reachable) and `/metrics` (Prometheus) are not on this port: they are served ' +
        'with `/healthz` on the ops port (`OPS_PORT`, default 3001, bound to `OPS_HOST`).',
    },
    servers: [{ url: options.serverUrl }],
    tags: ['Sellers', 'Shop', 'OAuth', 'Assistant', 'Operations', 'Documentation'].map((name) => ({ name })),
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'role:key pairs from API_KEYS' },
        assistantSession: {
          type: 'apiKey',
          in: 'cookie',
          name: '__Host-otto-assistant',
          description:
            'The assistant session cookie set by the one-time link of POST /api/sellers/{sellerId}/assistant-sessions (named otto-assistant when PUBLIC_BASE_URL is plain http)',
        },
      },
    },
    paths,
  };
}
