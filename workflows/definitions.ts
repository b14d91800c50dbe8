/**
 * The one place that names the seller workflow and its messages. The workflow, the worker, the API and
 * the tests import these definitions; no other file spells a signal, query, update or search-attribute
 * name. Pure: safe inside the workflow sandbox, and light: with the reusable V8 context every module the
 * workflow imports is evaluated again per cached workflow, so the zod schemas of the same messages live
 * in common/workflow-schemas.ts (imported here only as types) and the workflow checks its input with
 * workflows/guards.ts.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ConnectionStatus } from './status-view';
import type {
  AuthorizationCallback,
  BeginConsentInput,
  SettingsOverrides,
  WorkflowSettings,
} from '../common/workflow-schemas';
import { DEFAULT_TOKEN_TASK_QUEUE } from '../common/workflow-input-rules';
import {
  CONNECTION_STATES,
  TRANSFER_KINDS,
  type APP_VERSIONS,
  WEBHOOK_EVENT_TYPES,
  WORKFLOW_ID_PREFIX,
  type TransferKind,
} from '../common/workflow-names';

export const WORKFLOW_TYPE = 'sellerConnection';
export const DEFAULT_TASK_QUEUE = 'otto-connect';

/** The shop system's id for a seller: 1–64 chars of [A-Za-z0-9._-] (common/workflow-input-rules.ts). */
export type SellerId = string;

export function sellerWorkflowId(sellerId: SellerId): string {
  return `${WORKFLOW_ID_PREFIX}${sellerId}`;
}

export type AppVersion = (typeof APP_VERSIONS)[number];
export type ConnectionState = (typeof CONNECTION_STATES)[number];
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
export { DEFAULT_TOKEN_TASK_QUEUE };

/**
 * The effective settings of one seller's run, the seller's own overrides, and the workflow's input:
 * their schemas and what each setting means are in common/workflow-schemas.ts, their defaults in
 * common/workflow-input-rules.ts.
 */
export type {
  AuthorizationCallback,
  BeginConsentInput,
  SellerConnectionInput,
  SettingsOverrides,
  WorkflowSettings,
  WorkflowSettingsInput,
} from '../common/workflow-schemas';

/** The local activity that turns the worker's configuration plus a seller's overrides into its settings. */
export interface ResolveSettingsInput {
  sellerId: string;
  overrides: SettingsOverrides;
}

// ---- updates -------------------------------------------------------------------------------------

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

// ---- the consent callback as an update: the workflow's validator gives the verdict on every API replica ----

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
   * The connection is over (disconnected, revoked, consent expired) though its run may still be open for
   * a moment while it finishes: a command refused for that reason, told apart from other refusals so the
   * API answers the same whether or not the run has closed yet.
   */
  connectionEnded: 'ConnectionEnded',
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
  /** The consent landed on an OTTO partner another seller of the shop is connected to. Non-retryable. */
  partnerTaken: 'PartnerTaken',
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
  FailureTypes.partnerTaken,
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
  /**
   * false (patch jitTicks): no installation token is minted here; the first tick mints one when it needs
   * it. Connecting costs one token-endpoint request (the code exchange) instead of two.
   */
  mintToken?: boolean;
}
export interface MintedToken {
  /** Sealed installation access token. */
  sealedToken: string;
  /** Epoch ms. */
  expiresAt: number;
  scopes: string[];
}
export interface AuthorizationResult extends Omit<MintedToken, 'sealedToken' | 'expiresAt'> {
  /** Null when nothing was minted (`mintToken: false`); then `scopes` are the app's configured ones. */
  sealedToken: string | null;
  expiresAt: number | null;
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
  /**
   * `disabled`: WEBHOOK_URL/WEBHOOK_SECRET are not configured on this worker; nothing was sent. Only
   * workers before 0.2.0 answer it (newer ones fail retryably, so a worker with the URL delivers).
   */
  outcome: 'delivered' | 'disabled';
  attempt: number;
  httpStatus: number | null;
  /** The previous attempt's error, when this one succeeded after failures. */
  previousError: string | null;
}
