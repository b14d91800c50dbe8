/**
 * The seller workflow's input rules as plain data: the id, nonce and sealed-secret patterns with their
 * messages, the consent callback's limits, and every setting's production default (docs/design.md §5).
 *
 * Pure (no zod, no Node) and imported as a VALUE by the workflow: with the reusable V8 context every
 * module in the workflow bundle is evaluated again for each cached workflow, so the workflow's own checks
 * (workflows/guards.ts) use these constants instead of zod, and the zod schemas at the edge
 * (common/workflow-schemas.ts) are built on the same constants: each rule and default is written once.
 */
import type { APP_VERSIONS, TransferKind } from './workflow-names';

/** The shop system's id for a seller: 1–64 chars of [A-Za-z0-9._-]. */
export const SELLER_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const SELLER_ID_MESSAGE = 'sellerId must be 1–64 characters of A–Z, a–z, 0–9, ".", "_" or "-"';

/**
 * The seller ids the API takes in its URLs: SELLER_ID_PATTERN without ids of dots only ("." and ".."),
 * which browsers and fetch() remove from a URL path, so such a seller could never be addressed. Only
 * the API checks this: the workflow keeps SELLER_ID_PATTERN, so a run's input it once accepted is
 * accepted again on replay.
 */
export const API_SELLER_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;
export const API_SELLER_ID_MESSAGE = `${SELLER_ID_MESSAGE}, and not dots only (a URL cannot carry "." or "..")`;

/** A consent request's nonce: made with Node's crypto by the caller, never by workflow code. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
export const NONCE_MESSAGE = 'nonce must be 16–128 url-safe characters';

/**
 * A sealed secret: `v2.<kid>.<iv>.<ciphertext+tag>`, bound to its purpose and seller (see common/seal.ts).
 * The shape of `v1` still passes only so histories recorded before v2 replay (the sealer refuses it).
 */
export const SEALED_PATTERN = /^v[12]\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
export const SEALED_MESSAGE = 'must be a sealed secret';

/** The consent callback's lengths (OTTO's error= and error_description= are free text). */
export const CALLBACK_LIMITS = { nonceMax: 128, errorMax: 200, errorDescriptionMax: 1000 } as const;

/** Token activities run on this task queue unless TOKEN_TASK_QUEUES spreads sellers over several (egress IPs). */
export const DEFAULT_TOKEN_TASK_QUEUE = 'otto-connect-tokens';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/**
 * Every setting's production default, in the order of `workflowSettingsSchema` (which takes its
 * `.default(…)`s from here; what each setting means is documented there).
 */
export const SETTINGS_DEFAULTS = {
  consentTimeoutMs: 24 * HOUR,
  tokenRefreshMarginMs: 5 * MINUTE,
  refreshJitterMs: 30_000,
  refreshRetryMaxIntervalMs: 30_000,
  revocationConfirmWindowMs: 30 * MINUTE,
  revocationMinRefusals: 3,
  incidentRetryIntervalMs: 2 * MINUTE,
  revocationProbeIntervalMs: 60 * MINUTE,
  authorizationTimeoutMs: 60_000,
  tokenTaskQueue: DEFAULT_TOKEN_TASK_QUEUE as string,
  latestAppVersion: 'v2' as (typeof APP_VERSIONS)[number],
  /** Per kind; null = off (docs/otto-api.md §6). */
  transferIntervalsMs: {
    ordersImport: 15 * MINUTE,
    stockExport: 15 * MINUTE,
    pricesExport: 24 * HOUR,
    returnsImport: HOUR,
    shippingProfilesSync: HOUR,
  } as Record<TransferKind, number | null>,
  dailyTransferHour: 2 as number | null,
  stockFullResyncMs: 24 * HOUR,
  transferRetryWindowMs: 10 * MINUTE,
  transferRetryMaxIntervalMs: 30_000,
  minTokenValidityMs: 60_000,
  drainTimeoutMs: 60_000,
  shippingProfilesScope: 'shipping-profiles' as string,
  // A day at the default intervals is ≈ 1,100 events: at most one continue-as-new a day, and the
  // worker's memory for a cached run (it grows with the run's events, docs/scaling.md §4) stays bounded.
  maxHistoryEvents: 1_200,
  maxEvents: 50,
  webhooksEnabled: false as boolean,
  webhookRetryMaxIntervalMs: 5 * MINUTE,
  webhookDeliveryWindowMs: 3 * 24 * HOUR,
  maxPendingWebhooks: 50,
};
