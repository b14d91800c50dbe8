/**
 * The one place that names the seller workflow and its messages. The workflow, the worker, the API and
 * the tests import these definitions; no other file spells a signal, query, update or search-attribute
 * name. Pure: safe inside the workflow sandbox.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { z } from 'zod';
import type { ConnectionStatus } from './status-view';
import {
  APP_VERSIONS,
  CONNECTION_STATES,
  TRANSFER_KINDS,
  WEBHOOK_EVENT_TYPES,
  WORKFLOW_ID_PREFIX,
  type TransferKind,
} from '../common/workflow-names';

export const WORKFLOW_TYPE = 'sellerConnection';
export const DEFAULT_TASK_QUEUE = 'otto-connect';

/** The shop system's id for a seller: 1–64 chars of [A-Za-z0-9._-]. */
export const sellerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'sellerId must be 1–64 characters of A–Z, a–z, 0–9, ".", "_" or "-"');
export type SellerId = z.infer<typeof sellerIdSchema>;

export function sellerWorkflowId(sellerId: SellerId): string {
  return `${WORKFLOW_ID_PREFIX}${sellerId}`;
}

export const appVersionSchema = z.enum(APP_VERSIONS);
export type AppVersion = z.infer<typeof appVersionSchema>;

export const connectionStateSchema = z.enum(CONNECTION_STATES);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const transferKindSchema = z.enum(TRANSFER_KINDS);
export { CONNECTION_STATES, TRANSFER_KINDS, WEBHOOK_EVENT_TYPES, WORKFLOW_ID_PREFIX, type TransferKind };

/** Search attributes (registered on the dev server by the test harness and `npm run dev`). */
export const searchAttributes = {
  sellerId: defineSearchAttributeKey('OttoSellerId', SearchAttributeType.KEYWORD),
  connectionState: defineSearchAttributeKey('OttoConnectionState', SearchAttributeType.KEYWORD),
  appVersion: defineSearchAttributeKey('OttoAppVersion', SearchAttributeType.KEYWORD),
  partnerId: defineSearchAttributeKey('OttoPartnerId', SearchAttributeType.KEYWORD),
} as const;

/** Name → CLI type, for `temporal server start-dev --search-attribute` and `operator search-attribute create`. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS: ReadonlyArray<{ name: string; cliType: 'Keyword' }> =
  Object.values(searchAttributes).map((key) => ({ name: key.name, cliType: 'Keyword' as const }));

/** Token activities run on this task queue unless TOKEN_TASK_QUEUES spreads sellers over several (egress IPs). */
export const DEFAULT_TOKEN_TASK_QUEUE = 'otto-connect-tokens';

/**
 * The effective settings of one seller's run. The worker resolves them at every run start (a local
 * activity over its own configuration, plus the seller's overrides), so a deploy with new settings
 * reaches every seller at its next run, and `applySettings` reaches them now. Every one has a
 * production default (docs/design.md §5).
 */
// prettier-ignore
export const workflowSettingsSchema = z.object({
  consentTimeoutMs: z.number().int().positive().default(24 * 3_600_000),
  /** Mint this long before expiry (less than half the token's life: config and the token policy enforce it). */
  tokenRefreshMarginMs: z.number().int().min(1_000).default(5 * 60_000),
  /** Up to this much earlier, drawn per refresh, so sellers connected together spread out. */
  refreshJitterMs: z.number().int().nonnegative().default(30_000),
  /** Longest wait between mint attempts after a failure (the backoff doubles from 1 s up to this). */
  refreshRetryMaxIntervalMs: z.number().int().min(100).default(30_000),
  /**
   * Revocation needs evidence: refused mints spanning this window, with no successful data call in
   * between, before the seller counts as revoked (docs/otto-api.md §4: OTTO documents no revocation signal).
   */
  revocationConfirmWindowMs: z.number().int().min(0).default(30 * 60_000),
  /** …and at least this many refused attempts within it. */
  revocationMinRefusals: z.number().int().min(1).default(3),
  /**
   * During a fleet incident (breaker open, our credentials refused) each seller tries again this often at
   * most: thousands of sellers retrying at the normal backoff would only queue up at the token endpoint.
   */
  incidentRetryIntervalMs: z.number().int().min(100).default(2 * 60_000),
  /** How long completing an authorization may take (the code itself lives ~60 s). */
  authorizationTimeoutMs: z.number().int().min(1_000).default(60_000),
  /** Token activities run here, rate-limited to stay under OTTO's token-endpoint cap per egress IP. */
  tokenTaskQueue: z.string().min(1).default(DEFAULT_TOKEN_TASK_QUEUE),
  /** The newest app version this deployment offers (drives `upgradeAvailable`). */
  latestAppVersion: appVersionSchema.default('v2'),
  /** Per kind; null = off. Defaults from docs/otto-api.md §6. */
  transferIntervalsMs: z
    .object({
      ordersImport: z.number().int().min(100).nullable().default(15 * 60_000),
      stockExport: z.number().int().min(100).nullable().default(15 * 60_000),
      pricesExport: z.number().int().min(100).nullable().default(24 * 3_600_000),
      returnsImport: z.number().int().min(100).nullable().default(3_600_000),
      shippingProfilesSync: z.number().int().min(100).nullable().default(3_600_000),
    })
    .prefault({}),
  /** A daily transfer (prices) runs at this hour, Europe/Berlin; null = every 24 h from the last run. */
  dailyTransferHour: z.number().int().min(0).max(23).nullable().default(2),
  /** Stock: a full resync at least this often (docs/otto-api.md §6: "full resync at least daily"). */
  stockFullResyncMs: z.number().int().min(1_000).default(24 * 3_600_000),
  /** How long one transfer run may keep retrying (backoff, Retry-After) before it counts as failed. */
  transferRetryWindowMs: z.number().int().min(1_000).default(10 * 60_000),
  /** Longest wait between a transfer's retries, and how soon a failed run is tried again. */
  transferRetryMaxIntervalMs: z.number().int().min(100).default(30_000),
  /** A transfer starts only with a token valid at least this long; otherwise a token is minted first. */
  minTokenValidityMs: z.number().int().min(1_000).default(60_000),
  /**
   * Before continuing as new, running transfers get this long to finish; then they are cancelled (their
   * progress is heartbeated and handed to the next run, which resumes them).
   */
  drainTimeoutMs: z.number().int().min(100).default(60_000),
  /** The token scope that allows shipping profiles: no OTTO source names it (docs/otto-api.md §3.1, §7). */
  shippingProfilesScope: z.string().min(1).default('shipping-profiles'),
  maxHistoryEvents: z.number().int().min(50).default(2_000),
  maxEvents: z.number().int().min(1).max(500).default(50),
  /**
   * Whether this deployment sends webhooks (WEBHOOK_URL set): off, no delivery is scheduled at all, so
   * sellers' histories do not grow by an activity per event nobody receives.
   */
  webhooksEnabled: z.boolean().default(false),
  /** Longest wait between a webhook's delivery attempts (the shop may be down for a while). */
  webhookRetryMaxIntervalMs: z.number().int().min(100).default(5 * 60_000),
  /** How long one webhook is retried before it counts as failed (redeliverable by an admin). */
  webhookDeliveryWindowMs: z.number().int().min(1_000).default(3 * 24 * 3_600_000),
});
export type WorkflowSettings = z.infer<typeof workflowSettingsSchema>;
export type WorkflowSettingsInput = z.input<typeof workflowSettingsSchema>;

/**
 * One seller's own settings, kept in its workflow input and carried across continue-as-new; everything
 * else comes from the worker's configuration. Tests use them for short lifetimes; an admin may pin a
 * seller to a token queue (egress IP).
 */
const withoutDefault = (field: z.ZodType): z.ZodType =>
  field instanceof z.ZodDefault ? (field.removeDefault() as z.ZodType) : field;
export const settingsOverridesSchema = z
  .object(
    Object.fromEntries(
      Object.entries(workflowSettingsSchema.shape)
        .filter(([key]) => key !== 'transferIntervalsMs')
        .map(([key, field]) => [key, withoutDefault(field).optional()]),
    ) as {
      [K in Exclude<keyof WorkflowSettings, 'transferIntervalsMs'>]: z.ZodOptional<
        z.ZodType<WorkflowSettings[K]>
      >;
    },
  )
  .extend({
    // Only the kinds named: the others keep the worker's intervals.
    transferIntervalsMs: z
      .object({
        ordersImport: z.number().int().min(100).nullable(),
        stockExport: z.number().int().min(100).nullable(),
        pricesExport: z.number().int().min(100).nullable(),
        returnsImport: z.number().int().min(100).nullable(),
        shippingProfilesSync: z.number().int().min(100).nullable(),
      })
      .partial()
      .optional(),
  });
export type SettingsOverrides = z.infer<typeof settingsOverridesSchema>;

export const sellerConnectionInputSchema = z.object({
  sellerId: sellerIdSchema,
  overrides: settingsOverridesSchema.prefault({}),
});
export type SellerConnectionInput = z.input<typeof sellerConnectionInputSchema>;

/** The local activity that turns the worker's configuration plus a seller's overrides into its settings. */
export interface ResolveSettingsInput {
  sellerId: string;
  overrides: SettingsOverrides;
}

// ---- updates -------------------------------------------------------------------------------------

/**
 * A sealed secret: `v2.<kid>.<iv>.<ciphertext+tag>`, bound to its purpose and seller (see common/seal.ts).
 * Never plaintext in history. The shape of `v1` (bound to neither) still passes here only because the
 * handlers parse their input again on replay: histories recorded before v2 must replay. A v1 value gets
 * nothing: the sealer refuses to unseal it (the authorization fails asking for a new consent).
 */
export const sealedSchema = z
  .string()
  .regex(/^v[12]\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a sealed secret');

export const beginConsentInputSchema = z.object({
  sellerId: sellerIdSchema,
  appVersion: appVersionSchema,
  /** Made with Node's crypto by the caller: never by workflow code. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'nonce must be 16–128 url-safe characters'),
  /** Absent when PKCE is off (OTTO_PKCE=off). */
  sealedPkceVerifier: sealedSchema.optional(),
  /** A private app's invitation link (OPC "Einladungslink generieren"), sealed: it installs our app once. */
  sealedInvitationUrl: sealedSchema.optional(),
  /** An admin explicitly lets this consent land on another OTTO partner than the seller's current one. */
  allowPartnerChange: z.boolean().optional(),
  /** The app is private (no installation link): refuse unless an invitation link is given or kept. */
  invitationRequired: z.boolean().optional(),
});
export type BeginConsentInput = z.infer<typeof beginConsentInputSchema>;
export interface BeginConsentResult {
  state: ConnectionState;
  appVersion: AppVersion;
  nonce: string;
  consentDeadline: string;
  /** The invitation link this consent uses (given now or kept from the consent it replaces), sealed. */
  sealedInvitationUrl: string | null;
}
export const beginConsentUpdate = defineUpdate<BeginConsentResult, [BeginConsentInput]>('beginConsent');

export interface CommandResult {
  state: ConnectionState;
}
export interface ReasonInput {
  reason?: string;
}
export const disconnectUpdate = defineUpdate<CommandResult, [ReasonInput]>('disconnect');
export const pauseUpdate = defineUpdate<CommandResult, [ReasonInput]>('pause');
export const resumeUpdate = defineUpdate<CommandResult, []>('resume');
export const runTransferNowUpdate = defineUpdate<CommandResult, [{ kind: TransferKind }]>('runTransferNow');

export interface ApplySettingsInput {
  /** Replaces the seller's overrides when given; otherwise the worker's current configuration is applied. */
  overrides?: SettingsOverrides;
}
export interface ApplySettingsResult {
  state: ConnectionState;
  tokenTaskQueue: string;
  transferIntervalsMs: WorkflowSettings['transferIntervalsMs'];
}
/** Re-resolves the seller's settings from the worker's configuration now (the admin's apply-now). */
export const applySettingsUpdate = defineUpdate<ApplySettingsResult, [ApplySettingsInput]>('applySettings');

export interface RedeliverWebhookResult {
  eventId: string;
  status: WebhookDeliveryState;
}
/** An admin sends a recorded webhook again, with the same id (the shop's idempotency key). */
export const redeliverWebhookUpdate = defineUpdate<RedeliverWebhookResult, [{ eventId: string }]>(
  'redeliverWebhook',
);

// ---- the consent callback --------------------------------------------------------------------------

export const authorizationCallbackSchema = z.object({
  nonce: z.string().min(1).max(128),
  sealedCode: sealedSchema.optional(),
  error: z.string().max(200).optional(),
  errorDescription: z.string().max(1000).optional(),
});
export type AuthorizationCallback = z.infer<typeof authorizationCallbackSchema>;

// ---- the callback as an update: the workflow's validator gives the verdict on every API replica -------

export interface ConsentCallbackResult {
  state: ConnectionState;
  /** `authorizing`: the code is being exchanged; `answered`: OTTO's error= was recorded. */
  outcome: 'authorizing' | 'answered';
}
export const consentCallbackUpdate = defineUpdate<ConsentCallbackResult, [AuthorizationCallback]>(
  'consentCallback',
);

// ---- queries -------------------------------------------------------------------------------------

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

export type { ConnectionStatus } from './status-view';
export const connectionStatusQuery = defineQuery<ConnectionStatus>('connectionStatus');

// ---- typed failures ------------------------------------------------------------------------------

/** ApplicationFailure types a caller may see; the API maps them to HTTP status codes. */
export const FailureTypes = {
  invalidInput: 'InvalidInput',
  alreadyConnected: 'AlreadyConnected',
  invalidTransition: 'InvalidTransition',
  /**
   * Minting refused with 401/403/404 for this installation: evidence that the seller removed the app in
   * OPC, confirmed only by refusals spanning the confirmation window. Non-retryable.
   */
  installationRevoked: 'InstallationRevoked',
  /**
   * Not this seller's fault: the fleet breaker is open (most installations of the app refused at once: an
   * OTTO outage or a wrong appId), or the developer token is refused. Nobody is revoked. Non-retryable.
   */
  fleetIncident: 'OttoFleetIncident',
  /** The code exchange was refused (invalid_grant …): the seller must consent again. Non-retryable. */
  authorizationRejected: 'AuthorizationRejected',
  /** OTTO refused our client credentials: a deployment problem, not the seller's. Non-retryable. */
  invalidClientCredentials: 'InvalidClientCredentials',
  /** Any other 4xx: our request was wrong; retrying will not help. Non-retryable. */
  requestRejected: 'OttoRequestRejected',
  /** 429: retried after Retry-After. */
  rateLimited: 'RateLimited',
  /** 5xx or network: retried with backoff. */
  ottoUnavailable: 'OttoUnavailable',
  /** A data call answered 401: the workflow mints a new token once and runs the transfer again. */
  tokenRejected: 'TokenRejected',
  /** The token would expire before the call: the workflow refreshes first. Never sent to OTTO. */
  tokenExpiring: 'TokenExpiring',
  /** The installation lookup answered 404: this OTTO partner has not installed the app. Non-retryable. */
  appNotInstalled: 'AppNotInstalled',
  /** The consent landed on another OTTO partner than the seller's current one. Non-retryable. */
  partnerMismatch: 'PartnerMismatch',
  /** A callback for a consent that was already answered (code or error=). */
  callbackReplayed: 'CallbackReplayed',
  /** A callback for no current consent request (superseded by a newer "Allow access", or none pending). */
  callbackStale: 'CallbackStale',
  /** Redelivery of a webhook this seller's workflow does not (or no longer) hold. */
  webhookNotFound: 'WebhookNotFound',
  /** The shop's webhook endpoint answered non-2xx or not at all: retried with backoff. */
  webhookDeliveryFailed: 'WebhookDeliveryFailed',
} as const;

export const NON_RETRYABLE_FAILURE_TYPES: string[] = [
  FailureTypes.invalidInput,
  FailureTypes.installationRevoked,
  FailureTypes.fleetIncident,
  FailureTypes.authorizationRejected,
  FailureTypes.invalidClientCredentials,
  FailureTypes.requestRejected,
  FailureTypes.tokenRejected,
  FailureTypes.tokenExpiring,
  FailureTypes.appNotInstalled,
  FailureTypes.partnerMismatch,
];

// ---- activity contracts (implemented in activities/, proxied by the workflow) -------------------------

export interface CompleteAuthorizationInput {
  sellerId: string;
  appVersion: AppVersion;
  sealedCode: string;
  /** Sent as code_verifier when present (OTTO_PKCE=on); never sent otherwise (Keycloak refuses it). */
  sealedPkceVerifier?: string;
  /** The partner the seller is connected to; a user token of another partner is refused before minting. */
  expectedPartnerId?: string;
}
export interface MintedToken {
  /** Sealed installation access token. */
  sealedToken: string;
  /** Epoch ms. */
  expiresAt: number;
  scopes: string[];
}
export interface AuthorizationResult extends MintedToken {
  appVersion: AppVersion;
  appId: string;
  installationId: string;
  /** From the user token's claim (OTTO_PARTNER_ID_CLAIM); null when OTTO's token carries none. */
  partnerId: string | null;
}
/** Opaque per-kind progress carried by the workflow (JSON only): each transfer activity parses its own. */
export type TransferCursor = Record<string, string | number | null>;

export interface TransferInput {
  sellerId: string;
  partnerId: string;
  /** Sealed installation token and its expiry: a transfer stops before using a token that is about to expire. */
  sealedToken: string;
  tokenExpiresAt: number;
  cursor: TransferCursor;
  /** Stock: resend everything, not only changes (the daily resync). */
  full?: boolean;
  /**
   * Progress of an earlier schedule of this run that was cancelled or stopped for a new token (the
   * activity's own heartbeat details win when present: they belong to this schedule's retries).
   */
  resume?: unknown;
}

export interface TransferResult {
  /** Items moved (imported or exported). */
  count: number;
  cursor: TransferCursor;
  detail: string;
  /** ordersImport: the orders this run inserted or changed (the first 100), for `orders.changed`. */
  changedOrderIds?: string[];
  /** ordersImport, when orders changed: the orders feed cursor after these changes (common/feed-cursor.ts). */
  feedCursor?: string;
}

export interface MintInstallationTokenInput {
  sellerId: string;
  appVersion: AppVersion;
  installationId: string;
}

// ---- webhooks to the shop (Standard Webhooks; activities/webhook-activities.ts signs and sends) ---------

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The JSON body the shop receives; `data.sellerId` always set. */
export interface WebhookPayload {
  type: WebhookEventType;
  /** When the event happened (ISO); each attempt's send time is the `webhook-timestamp` header. */
  timestamp: string;
  data: { sellerId: string } & Record<string, unknown>;
}

export interface DeliverWebhookInput {
  /** The event id: sent as `webhook-id` on every attempt and every redelivery. */
  eventId: string;
  payload: WebhookPayload;
}

export interface DeliverWebhookResult {
  /** `disabled`: WEBHOOK_URL/WEBHOOK_SECRET are not configured on this worker; nothing was sent. */
  outcome: 'delivered' | 'disabled';
  attempt: number;
  httpStatus: number | null;
  /** The previous attempt's error, when this one succeeded after failures. */
  previousError: string | null;
}
