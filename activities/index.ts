/**
 * `createActivities(deps)`: every activity, built with its dependencies injected (HTTP, sealing, apps,
 * the seller store). Workflows import only the types.
 */
import type { SellerStore } from '../store/seller-store';
import { createOttoDataClient } from './otto-data-client';
import { createTickActivities } from './tick-activities';
import { createTokenService, type TokenActivityDeps, type TokenService } from './token-activities';
import { createStoreTokenVault } from './token-vault';
import { createTransferActivities } from './transfer-activities';
import { createWebhookActivities, type WebhookTarget } from './webhook-activities';

export interface ActivityDeps extends TokenActivityDeps {
  store: SellerStore;
  /** OTTO allows 20 requests/s per partner (per worker process here). */
  partnerRequestsPerSecond?: number;
  /** Data calls never go out with a token that expires within this long (default 5 s). */
  tokenSafetyMarginMs?: number;
  /** RETURN_STATUSES: returns imported by status, a pass each; unset or empty = one pass over all. */
  returnStatuses?: string[];
  /** OTTO_RATE_LIMIT_BACKOFF: a 429 without Retry-After waits this long, doubling (default 1 s) … */
  rateLimitBackoffMs?: number;
  /** … OTTO_RATE_LIMIT_WAITS: at most this many in one call (default 3). */
  maxRateLimitWaits?: number;
  /** OTTO_ORDERS_PAGE_SIZE: orders per page (default 128). */
  ordersPageSize?: number;
  /** WEBHOOK_URL and WEBHOOK_SECRET; unset = webhooks off. */
  webhook?: WebhookTarget;
}

/**
 * The transfers, the tick that runs them together (minting through `tokens`, the process's one token
 * service: pass the same one the token activities use) and the webhooks.
 */
export function createDataActivities(deps: ActivityDeps, tokens: TokenService = createTokenService(deps)) {
  const otto = createOttoDataClient({
    apiBaseUrl: deps.apiBaseUrl,
    sealer: deps.sealer,
    fetch: deps.fetch,
    ottoTransport: deps.ottoTransport,
    now: deps.now,
    partnerRequestsPerSecond: deps.partnerRequestsPerSecond,
    rateLimitBackoffMs: deps.rateLimitBackoffMs,
    maxRateLimitWaits: deps.maxRateLimitWaits,
    tokenSafetyMarginMs: deps.tokenSafetyMarginMs,
    metrics: deps.metrics,
    onOttoDeprecation: deps.onOttoDeprecation,
  });
  const transfers = createTransferActivities({
    store: deps.store,
    otto,
    metrics: deps.metrics,
    returnStatuses: deps.returnStatuses,
    ordersPageSize: deps.ordersPageSize,
  });
  return {
    ...transfers,
    ...createTickActivities({ tokens, transfers, vault: createStoreTokenVault(deps.store), now: deps.now }),
    ...createWebhookActivities({ webhook: deps.webhook, fetch: deps.fetch, metrics: deps.metrics }),
  };
}

export function createActivities(deps: ActivityDeps) {
  const tokens = createTokenService(deps);
  return { ...tokens.activities, ...createDataActivities(deps, tokens) };
}

export type Activities = ReturnType<typeof createActivities>;
export {
  createTokenActivities,
  createTokenService,
  type TokenActivities,
  type TokenService,
} from './token-activities';
export { createTickActivities, type TickActivities } from './tick-activities';
export { createTransferActivities, type TransferActivities } from './transfer-activities';
export { createWebhookActivities, type WebhookActivities } from './webhook-activities';
export { noMetrics, type ActivityMetrics, type MintRefusalOutcome } from './activity-metrics';
export { FleetBreaker, type FleetBreakerOptions, type FleetBreakerStatus } from './fleet-breaker';
