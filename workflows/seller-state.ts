/**
 * The seller workflow's carried state and the pure functions that read and change it. Plain JSON only
 * (no Map, no Date): it crosses continue-as-new as a payload. Deadlines are absolute epoch ms.
 */
import type {
  TransferCursor,
  TransferKind,
  AppVersion,
  ConnectionEvent,
  ConnectionState,
  ConnectionStatus,
  WebhookDeliveryState,
  WebhookEventType,
  WebhookPayload,
  WorkflowSettings,
} from './definitions';
import { isConnected, transition, type ConnectionEventType } from './connection-state';

export interface PendingConsent {
  appVersion: AppVersion;
  nonce: string;
  /** Null when PKCE is off. */
  sealedPkceVerifier: string | null;
  /** A private app's invitation link, sealed; null for a public app's installation link. */
  sealedInvitationUrl?: string | null;
  /** An admin allowed this consent to land on another OTTO partner. */
  allowPartnerChange?: boolean;
  requestedAt: number;
  deadline: number;
  /** A callback was accepted for this nonce: any further one is a replay. */
  callbackUsed: boolean;
}

/** A callback with a code, waiting for the main loop to exchange it. */
export interface PendingAuthorization {
  appVersion: AppVersion;
  sealedCode: string;
  sealedPkceVerifier: string | null;
  allowPartnerChange?: boolean;
  receivedAt: number;
}

export interface TokenState {
  /** Sealed installation token (common/seal.ts); the workflow never unseals it. */
  sealed: string | null;
  expiresAt: number | null;
  lastRefreshedAt: number | null;
  nextRefreshAt: number | null;
  refreshCount: number;
}

export interface TransferState {
  intervalMs: number | null;
  lastRunAt: number | null;
  lastResult: 'ok' | 'failed' | 'skipped' | null;
  lastCount: number | null;
  lastDetail: string | null;
  nextDueAt: number | null;
  cursor: TransferCursor;
  running: boolean;
  /** A 401 already led to one re-mint; a second one is a failure. */
  remintRequested: boolean;
}

/** One webhook: its payload stays here (for retries after continue-as-new and for redelivery). */
export interface WebhookRecord {
  eventId: string;
  type: WebhookEventType;
  /** Epoch ms the event happened. */
  at: number;
  status: WebhookDeliveryState;
  attempts: number;
  lastError: string | null;
  deliveredAt: number | null;
  /** Absolute end of the current delivery's retry window (restarted deliveries keep it). */
  deadline: number;
  payload: WebhookPayload;
}

export interface SellerState {
  sellerId: string;
  state: ConnectionState;
  appVersion: AppVersion | null;
  partnerId: string | null;
  installationId: string | null;
  scopes: string[];
  token: TokenState;
  pendingConsent: PendingConsent | null;
  pendingAuthorization: PendingAuthorization | null;
  /** When a mint was first refused (401/403/404); a second refusal confirms the revocation. */
  revocationSuspectedAt: number | null;
  transfers: Partial<Record<TransferKind, TransferState>>;
  /** What keeps the connection degraded: 'token' and/or transfer kinds. Empty → active again. */
  failing: string[];
  lastError: string | null;
  events: ConnectionEvent[];
  /** Nonces of consents already answered (newest last, bounded): a callback for one is a replay. */
  answeredNonces: string[];
  /** The state the shop was last told about (`connection.state_changed`). */
  notifiedState: ConnectionState;
  /** Webhooks, oldest first: every pending one plus the last settled ones (bounded). */
  webhooks: WebhookRecord[];
}

export function initialSellerState(sellerId: string): SellerState {
  return {
    sellerId,
    state: 'new',
    appVersion: null,
    partnerId: null,
    installationId: null,
    scopes: [],
    token: { sealed: null, expiresAt: null, lastRefreshedAt: null, nextRefreshAt: null, refreshCount: 0 },
    pendingConsent: null,
    pendingAuthorization: null,
    revocationSuspectedAt: null,
    transfers: {},
    failing: [],
    lastError: null,
    events: [],
    answeredNonces: [],
    notifiedState: 'new',
    webhooks: [],
  };
}

/** How many answered consents a seller remembers for replay detection. */
export const MAX_ANSWERED_NONCES = 10;

/** Why a callback must be refused (a replay, or for no current consent), or null when it is the answer. */
export function callbackRefusal(
  s: SellerState,
  nonce: string,
): { kind: 'replayed' | 'stale'; message: string } | null {
  const pending = s.pendingConsent;
  if (s.answeredNonces.includes(nonce) || (pending?.nonce === nonce && pending.callbackUsed)) {
    return { kind: 'replayed', message: 'this consent was already answered; the callback is a replay' };
  }
  if (pending === null || pending.nonce !== nonce) {
    return {
      kind: 'stale',
      message:
        pending === null
          ? 'no consent is waiting for an answer'
          : 'the callback belongs to an earlier "Allow access"; a newer one is waiting',
    };
  }
  return null;
}

/** A carried state from an older version of this workflow gets the fields added since. */
export function withDefaults(carried: SellerState): SellerState {
  return {
    ...initialSellerState(carried.sellerId),
    ...carried,
    transfers: carried.transfers ?? {},
    failing: carried.failing ?? [],
    answeredNonces: carried.answeredNonces ?? [],
    // A run carried from before webhooks: its current state was never announced and is not news now.
    notifiedState: carried.notifiedState ?? carried.state,
    webhooks: carried.webhooks ?? [],
  };
}

/** How many settled webhooks a seller keeps (for the status view and redelivery); pending ones all stay. */
export const MAX_SETTLED_WEBHOOKS = 30;
/** orders.changed names at most this many order ids; the shop reads the rest from the feed cursor. */
export const MAX_WEBHOOK_ORDER_IDS = 100;

/** Appends a webhook and drops the oldest settled ones beyond the bound. */
export function addWebhook(s: SellerState, record: WebhookRecord): void {
  s.webhooks.push(record);
  pruneWebhooks(s);
}

export function pruneWebhooks(s: SellerState, max = MAX_SETTLED_WEBHOOKS): void {
  let excess = s.webhooks.filter((w) => w.status !== 'pending').length - max;
  if (excess <= 0) return;
  s.webhooks = s.webhooks.filter((w) => w.status === 'pending' || excess-- <= 0);
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Appends to the bounded event log (newest last). */
export function recordEvent(
  s: SellerState,
  now: number,
  type: string,
  detail: string | undefined,
  max: number,
): void {
  s.events.push(detail === undefined ? { at: iso(now)!, type } : { at: iso(now)!, type, detail });
  if (s.events.length > max) s.events.splice(0, s.events.length - max);
}

/**
 * Applies a state-machine event. Returns false (and changes nothing) when the table refuses it; callers
 * that reach here have already validated, so a refusal is recorded rather than thrown.
 */
export function applyEvent(s: SellerState, event: ConnectionEventType): boolean {
  const result = transition(s.state, event);
  if (!result.ok) return false;
  s.state = result.to;
  return true;
}

/** Why a `beginConsent` must be refused, or null when it may proceed. */
export function beginConsentRefusal(s: SellerState, appVersion: AppVersion): string | null {
  if (isConnected(s.state) && s.appVersion === appVersion) {
    return `seller ${s.sellerId} is already connected with app ${appVersion}`;
  }
  if (isConnected(s.state) && s.appVersion !== null && appVersion < s.appVersion) {
    return `seller ${s.sellerId} is connected with app ${s.appVersion}; a downgrade to ${appVersion} is not offered`;
  }
  const result = transition(s.state, 'consent_requested');
  return result.ok ? null : result.reason;
}

export function toStatus(
  s: SellerState,
  settings: WorkflowSettings,
  workflow: { workflowId: string; runId: string },
): ConnectionStatus {
  return {
    sellerId: s.sellerId,
    state: s.state,
    appVersion: s.appVersion,
    partnerId: s.partnerId,
    installationId: s.installationId,
    scopes: [...s.scopes],
    token: {
      expiresAt: iso(s.token.expiresAt),
      lastRefreshedAt: iso(s.token.lastRefreshedAt),
      nextRefreshAt: iso(s.token.nextRefreshAt),
      refreshCount: s.token.refreshCount,
    },
    pendingConsent: s.pendingConsent
      ? { appVersion: s.pendingConsent.appVersion, deadline: iso(s.pendingConsent.deadline)! }
      : null,
    transfers: Object.fromEntries(
      Object.entries(s.transfers).map(([kind, t]) => [
        kind,
        {
          intervalMs: t.intervalMs,
          lastRunAt: iso(t.lastRunAt),
          lastResult: t.lastResult,
          lastCount: t.lastCount,
          lastDetail: t.lastDetail,
          nextDueAt: iso(t.nextDueAt),
          running: t.running,
        },
      ]),
    ),
    upgradeAvailable:
      isConnected(s.state) && s.appVersion !== null && s.appVersion < settings.latestAppVersion,
    lastError: s.lastError,
    events: s.events.map((e) => ({ ...e })),
    webhooks: s.webhooks.map((w) => ({
      eventId: w.eventId,
      type: w.type,
      at: iso(w.at)!,
      status: w.status,
      attempts: w.attempts,
      lastError: w.lastError,
      deliveredAt: iso(w.deliveredAt),
    })),
    temporal: { ...workflow },
  };
}

/** One line for the Temporal UI: what the workflow waits for next. */
export function describeWaiting(s: SellerState): string {
  switch (s.state) {
    case 'new':
      return 'Waiting for beginConsent';
    case 'pending_consent':
      return `Waiting for the OTTO callback (app ${s.pendingConsent?.appVersion ?? '?'}) until ${iso(s.pendingConsent?.deadline ?? null)}`;
    case 'authorizing':
      return 'Exchanging the authorization code and minting the first installation token';
    case 'active':
    case 'degraded':
    case 'paused':
      return `${s.state}: next token refresh at ${iso(s.token.nextRefreshAt) ?? 'n/a'}${
        s.pendingConsent ? `; upgrade to ${s.pendingConsent.appVersion} pending` : ''
      }`;
    default:
      return `Ended: ${s.state}`;
  }
}
