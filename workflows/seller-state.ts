/**
 * The seller's connection as one plain-JSON object with separate sub-states (lifecycle, health, admin
 * pause, consent/upgrade in progress, token, transfers), and every rule that reads or changes it. Pure:
 * no Temporal API, no clock, no randomness (callers pass `now` and jitter), so the whole connection is
 * unit-tested without a server. Message validators and handlers call the same `…Refusal` predicates.
 * It crosses continue-as-new as a payload: no Map, no Date; deadlines are absolute epoch ms.
 */
import type {
  AppVersion,
  AuthorizationCallback,
  AuthorizationResult,
  BeginConsentInput,
  ConnectionState,
  ConnectionStatus,
  MintedToken,
  SettingsOverrides,
  TransferCursor,
  TransferKind,
  TransferResult,
  WebhookDeliveryState,
  WebhookEventType,
  WebhookPayload,
  WorkflowSettings,
} from './definitions';
import { FailureTypes, TRANSFER_KINDS } from './definitions';
import {
  isEnded,
  transition,
  type Lifecycle,
  type LifecycleEvent,
  type TransitionResult,
} from './connection-state';
import { describeOttoCallbackError } from './otto-errors-text';
import { nextDueAt } from './schedule';
import type { TickResult } from './tick-types';
import {
  addRefusal,
  discardToken,
  dropToken,
  initialToken,
  onMinted,
  onMintFailed,
  validUntil,
  type RevocationEvidence,
  type TokenState,
} from './token-policy';

export interface PendingConsent {
  appVersion: AppVersion;
  nonce: string;
  /** Null when PKCE is off. */
  sealedPkceVerifier: string | null;
  /** A private app's invitation link, sealed; null for a public app's installation link. */
  sealedInvitationUrl: string | null;
  /** An admin allowed this consent to land on another OTTO partner. */
  allowPartnerChange: boolean;
  requestedAt: number;
  deadline: number;
}

/** A callback with a code, waiting to be exchanged (while not connected: the public state `authorizing`). */
export interface PendingAuthorization {
  appVersion: AppVersion;
  sealedCode: string;
  sealedPkceVerifier: string | null;
  allowPartnerChange: boolean;
  receivedAt: number;
  running: boolean;
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
  /** Progress of a run that stopped part-way (new token, deploy): the next run resumes it. */
  resume: unknown;
  /** A 401 already led to one re-mint; a second one is a failure. */
  remintRequested: boolean;
  /**
   * Ticks (patch `jitTicks`): the due time the running (or last) run served; the next one is due an
   * interval after it, not after the run ended, so transfers due together stay together.
   */
  servedDueAt?: number | null;
  /** Ticks: when the running run started (lastRunAt moves only when it ends, with its result). */
  runStartedAt?: number | null;
  /** Ticks: "run now" arrived while a run was going on: the next run is due when this one ends. */
  rerunRequested?: boolean;
  /** Ticks: failed runs in a row (0 after a success): each one doubles the wait before the next retry. */
  failStreak?: number;
}

export interface Health {
  /** What keeps the connection degraded: 'token' and/or transfer kinds. */
  failing: string[];
  /** A fleet-wide problem (breaker open, our credentials refused): not evidence against this seller. */
  incident: string | null;
  revocation: RevocationEvidence | null;
  /**
   * What each live problem says ('token', a transfer kind, 'revocation'), so `lastError` can fall back
   * to one still live when the shown one clears. Optional because states carried from earlier runs lack it.
   */
  reasons?: Record<string, string>;
}

/** One webhook: its payload stays here (for retries after continue-as-new and for redelivery). */
export interface WebhookRecord {
  eventId: string;
  type: WebhookEventType;
  at: number;
  status: WebhookDeliveryState;
  attempts: number;
  lastError: string | null;
  deliveredAt: number | null;
  /** Absolute end of the current delivery's retry window (restarted deliveries keep it). */
  deadline: number;
  payload: WebhookPayload;
}

export interface SellerConnection {
  sellerId: string;
  lifecycle: Lifecycle;
  /** This seller's own settings (kept across runs); the rest comes from the worker at each run start. */
  overrides: SettingsOverrides;
  appVersion: AppVersion | null;
  partnerId: string | null;
  installationId: string | null;
  scopes: string[];
  token: TokenState;
  /** The consent waiting for OTTO's callback: the first one, or an app upgrade while connected. */
  consent: PendingConsent | null;
  authorization: PendingAuthorization | null;
  /** Admin pause: transfers stop, tokens are still minted so a revocation is still noticed. */
  pause: { since: number; reason: string } | null;
  health: Health;
  transfers: Partial<Record<TransferKind, TransferState>>;
  lastError: string | null;
  events: { at: string; type: string; detail?: string }[];
  /** Nonces of consents already answered (newest last, bounded): a callback for one is a replay. */
  answeredNonces: string[];
  /** The public state last announced (event + `connection.state_changed`). */
  announcedState: ConnectionState;
  /** Events for the shop that the workflow has yet to turn into webhook deliveries. */
  outbox: { type: WebhookEventType; data: Record<string, unknown> }[];
  /** Webhooks, oldest first: every pending one plus the last settled ones (bounded). */
  webhooks: WebhookRecord[];
}

export const MAX_ANSWERED_NONCES = 10;
export const MAX_SETTLED_WEBHOOKS = 30;
/** orders.changed names at most this many order ids; the shop reads the rest from the feed cursor. */
export const MAX_WEBHOOK_ORDER_IDS = 100;

export function initialConnection(sellerId: string, overrides: SettingsOverrides = {}): SellerConnection {
  return {
    sellerId,
    lifecycle: 'new',
    overrides,
    appVersion: null,
    partnerId: null,
    installationId: null,
    scopes: [],
    token: initialToken(),
    consent: null,
    authorization: null,
    pause: null,
    health: { failing: [], incident: null, revocation: null },
    transfers: {},
    lastError: null,
    events: [],
    answeredNonces: [],
    announcedState: 'new',
    outbox: [],
    webhooks: [],
  };
}

// ---- derived views ------------------------------------------------------------------------------------

export function isDegraded(s: SellerConnection): boolean {
  return s.health.failing.length > 0 || s.health.incident !== null || s.health.revocation !== null;
}

/** The public state (docs/design.md §2): the lifecycle, refined by the connected sub-states. */
export function publicState(s: SellerConnection): ConnectionState {
  switch (s.lifecycle) {
    case 'pending_consent':
      return s.authorization !== null ? 'authorizing' : 'pending_consent';
    case 'connected':
      return s.pause !== null ? 'paused' : isDegraded(s) ? 'degraded' : 'active';
    default:
      return s.lifecycle;
  }
}

export const isConnected = (s: SellerConnection) => s.lifecycle === 'connected';
export const isOver = (s: SellerConnection) => isEnded(s.lifecycle);
/** Transfers run only while connected and not paused. */
export const transfersAllowed = (s: SellerConnection) => isConnected(s) && s.pause === null;

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

// ---- events and announcements -----------------------------------------------------------------------

export function recordEvent(
  s: SellerConnection,
  now: number,
  type: string,
  detail: string | undefined,
  max: number,
) {
  s.events.push(detail === undefined ? { at: iso(now)!, type } : { at: iso(now)!, type, detail });
  if (s.events.length > max) s.events.splice(0, s.events.length - max);
}

/** What the pure functions need besides the state: the clock reading and the settings of this run. */
export interface Ctx {
  now: number;
  settings: WorkflowSettings;
  /** This run's patch flags (docs/versioning.md); absent: every patch off. */
  patches?: RunPatches;
}

/** The `patched()` flags of workflows/patches.ts, read once at run start. */
export interface RunPatches {
  /** Just-in-time tokens and one activity per tick (workflows/tick-types.ts). */
  jitTicks?: boolean;
  /** Draining for continue-as-new waits for the run's webhook deliveries, up to the drain bound. */
  webhookDrain?: boolean;
  /** A transfer switched off while failing no longer keeps the seller degraded. */
  offClearsFailure?: boolean;
  /** The kept settled webhooks drop delivered ones before failed ones (pruneWebhooks). */
  keepFailedWebhooks?: boolean;
  /** An ended run hands its pending webhooks to a webhookOutbox workflow after drainTimeoutMs. */
  handOffWebhooks?: boolean;
  /** A new orders.changed replaces the ones still waiting, carrying their ids. */
  coalesceOrdersChanged?: boolean;
  /** At most settings.maxPendingWebhooks webhooks wait; a new one puts the oldest down (webhook-delivery.ts). */
  boundPendingWebhooks?: boolean;
  /** Shipping profiles on the v2 app when nothing names the installation's scopes (skipReason). */
  shippingByAppVersion?: boolean;
}

function note(s: SellerConnection, c: Ctx, type: string, detail?: string): void {
  recordEvent(s, c.now, type, detail, c.settings.maxEvents);
}

/**
 * After every change: when the public state moved, one event and one `connection.state_changed` for the
 * shop. The one place that announces state changes.
 */
export function announce(s: SellerConnection, c: Ctx, reason: string): void {
  const now = publicState(s);
  if (now === s.announcedState) return;
  const from = s.announcedState;
  s.announcedState = now;
  const type = stateEvent(from, now);
  if (type !== undefined) note(s, c, type, reason);
  s.outbox.push({ type: 'connection.state_changed', data: { from, to: now, event: type ?? now, reason } });
}

/** The event recorded for a move of the public state, unless its cause already recorded one. */
function stateEvent(from: ConnectionState, to: ConnectionState): string | undefined {
  if (to === 'active') return from === 'degraded' ? 'recovered' : undefined;
  if (to === 'pending_consent' || to === 'authorizing') return undefined;
  return to;
}

function move(s: SellerConnection, event: LifecycleEvent): void {
  const result = transition(s.lifecycle, event);
  // Validators and the decision core only reach here when the table allows it.
  if (result.ok) s.lifecycle = result.to;
}

// ---- refusals: validators throw them, handlers rely on them having passed ----------------------------------

export interface Refusal {
  type: string;
  message: string;
}

/** A refused lifecycle move as a refusal: an ended connection has its own type (`connectionEnded`). */
function transitionRefusal(result: TransitionResult): Refusal | null {
  if (result.ok) return null;
  return {
    type: isEnded(result.from) ? FailureTypes.connectionEnded : FailureTypes.invalidTransition,
    message: result.reason,
  };
}

export function beginConsentRefusal(s: SellerConnection, input: BeginConsentInput): Refusal | null {
  if (input.sellerId !== s.sellerId) {
    return {
      type: FailureTypes.invalidInput,
      message: `this workflow belongs to seller ${s.sellerId}, not ${input.sellerId}`,
    };
  }
  const keptInvitation = s.consent?.appVersion === input.appVersion && s.consent.sealedInvitationUrl !== null;
  if (input.invitationRequired === true && input.sealedInvitationUrl === undefined && !keptInvitation) {
    return {
      type: FailureTypes.invalidInput,
      message: `app ${input.appVersion} is a private OTTO app: start the consent with an invitation link (invitationUrl) generated in OPC`,
    };
  }
  if (s.authorization !== null) {
    return {
      type: FailureTypes.invalidTransition,
      message: 'an authorization is being completed right now; try again in a moment',
    };
  }
  if (isConnected(s) && s.appVersion === input.appVersion) {
    return {
      type: FailureTypes.alreadyConnected,
      message: `seller ${s.sellerId} is already connected with app ${input.appVersion}`,
    };
  }
  if (isConnected(s) && s.appVersion !== null && input.appVersion < s.appVersion) {
    return {
      type: FailureTypes.invalidTransition,
      message: `seller ${s.sellerId} is connected with app ${s.appVersion}; a downgrade to ${input.appVersion} is not offered`,
    };
  }
  return transitionRefusal(transition(s.lifecycle, 'consent_requested'));
}

export function callbackRefusal(s: SellerConnection, nonce: string): Refusal | null {
  if (s.answeredNonces.includes(nonce)) {
    return {
      type: FailureTypes.callbackReplayed,
      message: 'this consent was already answered; the callback is a replay',
    };
  }
  if (s.consent === null || s.consent.nonce !== nonce) {
    return {
      type: FailureTypes.callbackStale,
      message:
        s.consent === null
          ? 'no consent is waiting for an answer'
          : 'the callback belongs to an earlier "Allow access"; a newer one is waiting',
    };
  }
  if (s.authorization !== null) {
    return { type: FailureTypes.invalidTransition, message: 'an authorization is being completed right now' };
  }
  return null;
}

export function disconnectRefusal(s: SellerConnection): Refusal | null {
  return transitionRefusal(transition(s.lifecycle, 'disconnect_requested'));
}

export function pauseRefusal(s: SellerConnection): Refusal | null {
  if (isOver(s)) return disconnectRefusal(s);
  if (!isConnected(s))
    return {
      type: FailureTypes.invalidTransition,
      message: `"pause" is possible only while connected (the connection is ${publicState(s).replace(/_/g, ' ')})`,
    };
  if (s.pause !== null)
    return { type: FailureTypes.invalidTransition, message: 'the connection is already paused' };
  return null;
}

export function resumeRefusal(s: SellerConnection): Refusal | null {
  if (isOver(s)) return disconnectRefusal(s);
  if (s.pause === null)
    return {
      type: FailureTypes.invalidTransition,
      message: `"resume" is possible only while paused (the connection is ${publicState(s).replace(/_/g, ' ')})`,
    };
  return null;
}

/** The same rule the decision core uses to start transfers (`transfersAllowed`), with the reason. */
export function runNowRefusal(s: SellerConnection): Refusal | null {
  if (transfersAllowed(s)) return null;
  if (isOver(s)) return disconnectRefusal(s);
  return {
    type: FailureTypes.invalidTransition,
    message:
      s.pause !== null
        ? 'transfers are paused; resume the connection first'
        : `transfers run only while connected (the connection is ${publicState(s).replace(/_/g, ' ')})`,
  };
}

/** "Run now" for a kind whose interval is off: it would never run (ticks take only scheduled kinds). */
export function runNowOffRefusal(s: SellerConnection, kind: TransferKind): Refusal | null {
  if (s.transfers[kind]?.intervalMs !== null) return null;
  return {
    type: FailureTypes.invalidTransition,
    message: `${kind} is switched off for this seller (its interval is off); set an interval to run it`,
  };
}

// ---- message handlers' changes ---------------------------------------------------------------------

export function beginConsent(s: SellerConnection, c: Ctx, input: BeginConsentInput): PendingConsent {
  const previous = s.consent;
  const sameApp = previous?.appVersion === input.appVersion;
  const consent: PendingConsent = {
    appVersion: input.appVersion,
    nonce: input.nonce,
    sealedPkceVerifier: input.sealedPkceVerifier ?? null,
    // "Allow access" clicked again for a private app keeps the invitation link the admin gave before.
    sealedInvitationUrl: input.sealedInvitationUrl ?? (sameApp ? previous.sealedInvitationUrl : null),
    allowPartnerChange: input.allowPartnerChange ?? (sameApp && previous.allowPartnerChange),
    requestedAt: c.now,
    deadline: c.now + c.settings.consentTimeoutMs,
  };
  const upgrading = isConnected(s);
  move(s, 'consent_requested');
  s.consent = consent;
  if (!upgrading) s.lastError = null;
  note(
    s,
    c,
    upgrading ? 'upgrade_requested' : previous ? 'consent_reissued' : 'consent_requested',
    `app ${input.appVersion}, waiting until ${iso(consent.deadline)}`,
  );
  announce(s, c, 'consent requested');
  return consent;
}

/** The consent's answer (code or OTTO's error=): one per consent, remembered for replay detection. */
export function answerConsent(
  s: SellerConnection,
  c: Ctx,
  callback: AuthorizationCallback,
): 'authorizing' | 'answered' {
  const consent = s.consent!;
  s.answeredNonces = [...s.answeredNonces, consent.nonce].slice(-MAX_ANSWERED_NONCES);
  if (callback.error !== undefined || callback.sealedCode === undefined) {
    // OTTO's error= ends this consent's chance; the seller clicks "Allow access" again (a new nonce).
    s.lastError = describeOttoCallbackError(callback.error ?? 'missing_code', callback.errorDescription);
    note(s, c, 'consent_denied', s.lastError);
    return 'answered';
  }
  s.authorization = {
    appVersion: consent.appVersion,
    sealedCode: callback.sealedCode,
    sealedPkceVerifier: consent.sealedPkceVerifier,
    allowPartnerChange: consent.allowPartnerChange,
    receivedAt: c.now,
    running: false,
  };
  note(s, c, 'callback_accepted', `authorizing app ${consent.appVersion}`);
  announce(s, c, 'callback accepted');
  return 'authorizing';
}

export function disconnect(s: SellerConnection, c: Ctx, reason: string | undefined): void {
  move(s, 'disconnect_requested');
  s.consent = null;
  s.authorization = null;
  // Forget the installation: nothing may use it after this (docs/otto-api.md §4, "removing the data exchange").
  dropToken(s.token);
  s.installationId = null;
  announce(s, c, reason ?? 'data exchange removed by the shop system; remove the app in OTTO’s portal too');
}

export function pause(s: SellerConnection, c: Ctx, reason: string | undefined): void {
  const defaultReason =
    c.patches?.jitTicks === true
      ? 'transfers paused; a probe mint still notices a revocation'
      : 'transfers paused; tokens are still refreshed';
  s.pause = { since: c.now, reason: reason ?? defaultReason };
  announce(s, c, s.pause.reason);
}

export function resume(s: SellerConnection, c: Ctx): void {
  s.pause = null;
  note(s, c, 'resumed');
  announce(s, c, 'resumed by an admin');
}

export function requestTransferNow(s: SellerConnection, c: Ctx, kind: TransferKind): void {
  const t = ensureTransfer(s, c.settings, kind);
  if (c.patches?.jitTicks === true && t.running) t.rerunRequested = true;
  else t.nextDueAt = c.now;
  note(s, c, 'transfer_requested', `${kind} run requested now`);
}

/** New settings for this run (run start or `applySettings`): intervals and due times follow at once. */
export function applySettings(s: SellerConnection, c: Ctx): void {
  for (const kind of TRANSFER_KINDS) {
    const t = s.transfers[kind];
    if (t === undefined) continue;
    const interval = c.settings.transferIntervalsMs[kind];
    if (interval === t.intervalMs) continue;
    t.intervalMs = interval;
    if (t.running) continue;
    if (interval === null) {
      t.nextDueAt = null;
      // Switched off while failing: it never runs again to clear its failure (patch offClearsFailure).
      if (c.patches?.offClearsFailure === true && s.health.failing.includes(kind)) markOk(s, kind);
    } else if (t.lastRunAt === null || t.nextDueAt === null) t.nextDueAt = c.now;
    else {
      // Ticks run up to a quarter interval early: the due time a tick served keeps the kind on the
      // shared schedule (with the others due then), where its early start would move it off.
      const anchor = c.patches?.jitTicks === true ? (t.servedDueAt ?? t.lastRunAt) : t.lastRunAt;
      t.nextDueAt = Math.max(
        c.now,
        nextDueAt(anchor, interval, c.settings.dailyTransferHour, 'Europe/Berlin'),
      );
    }
  }
  if (isConnected(s)) scheduleTransfers(s, c);
}

// ---- consent expiry and authorization results -----------------------------------------------------------------

export function consentExpired(s: SellerConnection, now: number): boolean {
  return s.consent !== null && s.authorization === null && now >= s.consent.deadline;
}

export function expireConsent(s: SellerConnection, c: Ctx): void {
  const consent = s.consent!;
  const upgrading = isConnected(s);
  s.consent = null;
  move(s, 'consent_timed_out');
  const why = `nobody confirmed app ${consent.appVersion} at OTTO in time`;
  if (upgrading) note(s, c, 'upgrade_expired', why);
  announce(s, c, why);
}

/** What the seller reads when completing an authorization failed; every text ends in what to do. */
export function authorizationFailureText(
  appVersion: string,
  failure: { type?: string; message: string },
): string {
  switch (failure.type) {
    case FailureTypes.appNotInstalled:
      return 'The app is not installed for your OTTO account: click “Allow access” to install it.';
    case FailureTypes.partnerTaken:
      // The other seller's id stays in the events and the activity's failure (support reads them), not here.
      return "This OTTO account is already connected to another seller of this shop, so it was not connected here. Log in at OTTO with the account that belongs to this seller, or ask the shop's administrator to disconnect the other seller first.";
    case FailureTypes.partnerMismatch:
      return `${failure.message} The connection keeps its current OTTO account. To move this seller to another OTTO account, ask the shop's administrator.`;
    default:
      return `Connecting app ${appVersion} failed: ${failure.message}. Please click "Allow access" again.`;
  }
}

export function authorizationFailed(
  s: SellerConnection,
  c: Ctx,
  failure: { type?: string; message: string },
): void {
  const pending = s.authorization!;
  s.authorization = null;
  // An upgrade's consent is used up; a first consent stays open (the seller may click again).
  if (isConnected(s)) s.consent = null;
  s.lastError = authorizationFailureText(pending.appVersion, failure);
  note(s, c, 'authorization_failed', failure.message);
  announce(s, c, 'authorization failed');
}

export function authorized(s: SellerConnection, c: Ctx, result: AuthorizationResult, jitter: number): void {
  const upgrading = isConnected(s);
  const previous = s.appVersion;
  // One step: installation, scopes, version and token switch together (docs/design.md §2, upgrade while active).
  s.appVersion = result.appVersion;
  s.installationId = result.installationId;
  s.partnerId = result.partnerId;
  s.consent = null;
  s.authorization = null;
  s.health = { failing: [], incident: null, revocation: null };
  s.lastError = null;
  if (result.sealedToken !== null && result.expiresAt !== null) {
    acceptToken(s, c, { ...result, sealedToken: result.sealedToken, expiresAt: result.expiresAt }, jitter);
  } else {
    // Just in time: the first tick mints, at once (an upgrade drops the old installation's token here).
    dropToken(s.token);
    s.token.expiresAt = null;
    s.token.lastRefreshedAt = null;
    s.scopes = [...result.scopes];
  }
  move(s, 'authorization_succeeded');
  scheduleTransfers(s, c);
  note(
    s,
    c,
    upgrading ? 'upgraded' : 'authorized',
    upgrading
      ? `switched from app ${previous} to ${result.appVersion} (partner ${result.partnerId ?? 'unknown'})`
      : `app ${result.appVersion} installed for partner ${result.partnerId ?? 'unknown'}; ${result.expiresAt === null ? 'tokens are minted when transfers need them' : `token valid until ${iso(result.expiresAt)}`}`,
  );
  announce(s, c, upgrading ? 'app upgraded' : 'authorization completed');
  s.outbox.push({
    type: 'consent.completed',
    data: {
      appVersion: result.appVersion,
      partnerId: result.partnerId,
      installationId: result.installationId,
      previousAppVersion: upgrading ? previous : null,
    },
  });
}

// ---- tokens --------------------------------------------------------------------------------------

function acceptToken(s: SellerConnection, c: Ctx, minted: MintedToken, jitter: number): void {
  onMinted(s.token, minted, c.now, c.settings, jitter);
  s.scopes = [...minted.scopes];
}

export function minted(
  s: SellerConnection,
  c: Ctx,
  installationId: string,
  token: MintedToken,
  jitter: number,
): void {
  s.token.minting = false;
  // A mint for an installation replaced meanwhile (upgrade) or forgotten (disconnect) is dropped.
  if (!isConnected(s) || s.installationId !== installationId) return;
  const hadSuspicion = s.health.revocation !== null;
  const hadIncident = s.health.incident;
  s.health.revocation = null;
  s.health.incident = null;
  acceptToken(s, c, token, jitter);
  if (hadSuspicion) note(s, c, 'revocation_not_confirmed', 'minting works again');
  if (hadIncident !== null) note(s, c, 'incident_cleared', 'OTTO mints tokens again');
  note(s, c, 'token_refreshed', `#${s.token.refreshCount}, valid until ${iso(s.token.expiresAt)}`);
  markOk(s, 'token');
  announce(s, c, 'token minted');
}

const INCIDENT_TYPES: readonly string[] = [FailureTypes.fleetIncident, FailureTypes.invalidClientCredentials];

export function mintFailed(
  s: SellerConnection,
  c: Ctx,
  installationId: string,
  failure: { type?: string; message: string },
): void {
  s.token.minting = false;
  if (!isConnected(s) || s.installationId !== installationId) return;
  onMintFailed(s.token, c.now, c.settings, failure.message);
  if (failure.type === FailureTypes.installationRevoked) {
    const { evidence, confirmed } = addRefusal(s.health.revocation, c.now, c.settings);
    const first = s.health.revocation === null;
    s.health.revocation = evidence;
    if (confirmed) {
      move(s, 'revocation_confirmed');
      dropToken(s.token);
      s.consent = null;
      s.authorization = null;
      s.lastError =
        'The seller removed the app in OTTO (Zugriff entziehen). Click "Allow access" to connect again.';
      announce(
        s,
        c,
        `${failure.message}; refused ${evidence.refusals} times over ${Math.round((evidence.lastAt - evidence.firstAt) / 1000)} s`,
      );
      return;
    }
    s.lastError = `OTTO refuses installation tokens for this seller (${failure.message}): the app may have been removed in OTTO's portal; confirming until ${iso(evidence.firstAt + c.settings.revocationConfirmWindowMs)}`;
    (s.health.reasons ??= {}).revocation = s.lastError;
    if (first) note(s, c, 'revocation_suspected', failure.message);
  } else if (INCIDENT_TYPES.includes(failure.type ?? '')) {
    // Not this seller's doing: no evidence counts while the incident lasts, and none from before it.
    s.health.incident = failure.message;
    s.health.revocation = null;
    s.token.retryAt = Math.max(s.token.retryAt ?? 0, c.now + c.settings.incidentRetryIntervalMs);
    s.lastError = failure.message;
    note(s, c, 'incident', failure.message);
  } else {
    note(s, c, 'token_refresh_failed', failure.message);
    // Ticks: a seller connected just in time may have no token yet; without one, nothing moves either.
    const noToken = c.patches?.jitTicks === true && s.token.expiresAt === null;
    if (noToken || (s.token.expiresAt !== null && c.now >= s.token.expiresAt - 1_000)) {
      markFailing(
        s,
        'token',
        noToken
          ? `No installation token could be minted: ${failure.message}`
          : `The installation token expired before a new one could be minted: ${failure.message}`,
      );
    } else {
      s.lastError = `Token refresh failed: ${failure.message}`;
    }
  }
  announce(s, c, failure.message);
}

/** The token ran out with no replacement: the seller is degraded until a mint works. */
export function tokenExpired(s: SellerConnection, c: Ctx): void {
  if (s.health.failing.includes('token')) return;
  const cause = s.token.lastFailure;
  markFailing(
    s,
    'token',
    `The installation token expired before a new one could be minted${cause ? `: ${cause}` : ''}`,
  );
  announce(s, c, 'token expired');
}

// ---- health -----------------------------------------------------------------------------------------

function markFailing(s: SellerConnection, what: string, message: string): void {
  if (!s.health.failing.includes(what)) s.health.failing.push(what);
  (s.health.reasons ??= {})[what] = message;
  s.lastError = message;
}

/**
 * `what` works again. Healthy: no error to show. Still degraded: `lastError` keeps a problem that is
 * still live (the newest one shown), else shows one that is: the incident, the suspected revocation,
 * or the newest failing part's (never a cleared part's message while another part still fails).
 */
function markOk(s: SellerConnection, what: string): void {
  s.health.failing = s.health.failing.filter((f) => f !== what);
  const reasons = s.health.reasons ?? {};
  const holds = (key: string) =>
    key === 'revocation' ? s.health.revocation !== null : s.health.failing.includes(key);
  for (const key of Object.keys(reasons)) if (!holds(key)) delete reasons[key];
  if (!isDegraded(s)) {
    s.lastError = null;
    return;
  }
  const live = [
    ...s.health.failing.map((f) => reasons[f]),
    s.health.revocation !== null ? reasons.revocation : undefined,
    s.health.incident ?? undefined,
  ].filter((m): m is string => m !== undefined);
  if (s.lastError !== null && live.includes(s.lastError)) return;
  s.lastError = live.at(-1) ?? s.lastError;
}

// ---- transfers ---------------------------------------------------------------------------------------

export function ensureTransfer(
  s: SellerConnection,
  settings: WorkflowSettings,
  kind: TransferKind,
): TransferState {
  let t = s.transfers[kind];
  if (!t) {
    t = {
      intervalMs: settings.transferIntervalsMs[kind],
      lastRunAt: null,
      lastResult: null,
      lastCount: null,
      lastDetail: null,
      nextDueAt: null,
      cursor: {},
      running: false,
      resume: null,
      remintRequested: false,
    };
    s.transfers[kind] = t;
  }
  return t;
}

/** On (re)connection and new settings: every configured transfer runs once right away, then on its interval. */
function scheduleTransfers(s: SellerConnection, c: Ctx): void {
  for (const kind of TRANSFER_KINDS) {
    const t = ensureTransfer(s, c.settings, kind);
    t.intervalMs = c.settings.transferIntervalsMs[kind];
    if (t.intervalMs !== null && t.nextDueAt === null && !t.running) t.nextDueAt = c.now;
  }
}

export function dueTransfers(s: SellerConnection, now: number): TransferKind[] {
  return TRANSFER_KINDS.filter((kind) => {
    const t = s.transfers[kind];
    return t !== undefined && !t.running && t.nextDueAt !== null && now >= t.nextDueAt;
  });
}

/** How long a token must still be valid for a transfer to start with it (60 s by default). */
export function tokenReserveMs(settings: WorkflowSettings): number {
  return Math.min(settings.minTokenValidityMs, settings.tokenRefreshMarginMs / 2);
}

/** "I need a token valid until T": a transfer starts only with one valid for a while. */
export function tokenReadyFor(s: SellerConnection, c: Ctx): boolean {
  return validUntil(s.token, c.now + tokenReserveMs(c.settings));
}

/**
 * Whether the seller's installation may read shipping profiles: its token carries the scope. When nothing
 * names its scopes (OTTO documents the installation token's answer as `{access_token, expires_in}` only,
 * docs/otto-api.md §3, and OTTO_APPS lists none for the app), the v2 app is the one that has them (patch
 * shippingByAppVersion): before, such a deployment never synced shipping profiles, not even on v2.
 */
function mayReadShippingProfiles(
  s: SellerConnection,
  settings: WorkflowSettings,
  patches?: RunPatches,
): boolean {
  if (s.scopes.includes(settings.shippingProfilesScope)) return true;
  return patches?.shippingByAppVersion === true && s.scopes.length === 0 && s.appVersion === 'v2';
}

/** Why a due transfer is not run (shipping profiles on the v1 app): shown as skipped, never failed. */
export function skipReason(
  s: SellerConnection,
  settings: WorkflowSettings,
  kind: TransferKind,
  patches?: RunPatches,
): string | null {
  if (kind === 'shippingProfilesSync' && !mayReadShippingProfiles(s, settings, patches)) {
    return `skipped: missing scope "${settings.shippingProfilesScope}" — upgrade to the v2 app (click "Allow access" again) to sync shipping profiles`;
  }
  return null;
}

export function fullResyncDue(s: SellerConnection, c: Ctx, kind: TransferKind): boolean {
  if (kind !== 'stockExport') return false;
  const lastFullAt = s.transfers[kind]?.cursor.lastFullAt;
  return typeof lastFullAt !== 'number' || c.now - lastFullAt >= c.settings.stockFullResyncMs;
}

export function transferStarted(s: SellerConnection, kind: TransferKind, now: number): TransferState {
  const t = s.transfers[kind]!;
  t.running = true;
  t.lastRunAt = now;
  return t;
}

export function transferSkipped(s: SellerConnection, c: Ctx, kind: TransferKind, reason: string): void {
  const t = s.transfers[kind]!;
  if (c.patches?.jitTicks === true) {
    t.servedDueAt = t.nextDueAt ?? c.now;
    t.nextDueAt = null;
  }
  t.lastResult = 'skipped';
  t.lastCount = 0;
  t.lastDetail = reason;
  t.lastRunAt = c.now;
  scheduleNext(s, c, kind, false);
}

function scheduleNext(s: SellerConnection, c: Ctx, kind: TransferKind, retrySoon: boolean): void {
  const t = s.transfers[kind]!;
  if (c.patches?.jitTicks === true) {
    scheduleAnchored(t, c, retrySoon);
    return;
  }
  t.running = false;
  if (t.nextDueAt !== null && t.lastRunAt !== null && t.nextDueAt > t.lastRunAt) return; // asked again meanwhile
  if (t.intervalMs === null) t.nextDueAt = null;
  else if (retrySoon) t.nextDueAt = c.now + Math.min(t.intervalMs, c.settings.transferRetryMaxIntervalMs);
  else t.nextDueAt = nextDueAt(c.now, t.intervalMs, c.settings.dailyTransferHour, 'Europe/Berlin');
}

export function transferSucceeded(
  s: SellerConnection,
  c: Ctx,
  kind: TransferKind,
  result: TransferResult,
): void {
  const t = s.transfers[kind]!;
  t.cursor = result.cursor;
  t.resume = null;
  t.lastResult = 'ok';
  t.lastCount = result.count;
  t.lastDetail = result.detail;
  t.remintRequested = false;
  if (t.failStreak !== undefined) t.failStreak = 0;
  // OTTO took a call with this installation's token: whatever refusals came before prove nothing.
  if (s.health.revocation !== null && t.lastRunAt !== null && t.lastRunAt >= s.health.revocation.firstAt) {
    s.health.revocation = null;
    note(s, c, 'revocation_not_confirmed', `${kind} succeeded with the installation's token`);
  }
  markOk(s, kind);
  scheduleNext(s, c, kind, false);
  if (kind === 'ordersImport') announceOrders(s, result);
  announce(s, c, `${kind} succeeded`);
}

/**
 * One `orders.changed` for several still waiting (patch coalesceOrdersChanged): their order ids (the newest
 * MAX_WEBHOOK_ORDER_IDS), their counts added up, the newest feed cursor (the last one's: it covers theirs).
 */
export function mergeOrdersChanged(datas: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  const ids: string[] = [];
  let truncated = false;
  let count = 0;
  let feedCursor: string | null = null;
  for (const d of datas) {
    for (const id of Array.isArray(d.salesOrderIds) ? (d.salesOrderIds as unknown[]) : []) {
      if (typeof id !== 'string') continue;
      const at = ids.indexOf(id);
      if (at >= 0) ids.splice(at, 1);
      ids.push(id);
    }
    truncated ||= d.salesOrderIdsTruncated === true;
    count += typeof d.count === 'number' ? d.count : 0;
    if (typeof d.feedCursor === 'string') feedCursor = d.feedCursor;
  }
  return {
    salesOrderIds: ids.slice(-MAX_WEBHOOK_ORDER_IDS),
    salesOrderIdsTruncated: truncated || ids.length > MAX_WEBHOOK_ORDER_IDS,
    count,
    feedCursor,
  };
}

/** `orders.changed` when an import brought changes; the ids and cursor once the import reports them. */
function announceOrders(s: SellerConnection, result: TransferResult): void {
  const ids = result.changedOrderIds ?? [];
  const changed = result.changedOrderIds === undefined ? result.count > 0 : ids.length > 0;
  if (!changed) return;
  s.outbox.push({
    type: 'orders.changed',
    data: {
      // Bounded: the feed from the cursor is the full answer; the ids are a hint.
      salesOrderIds: ids.slice(0, MAX_WEBHOOK_ORDER_IDS),
      salesOrderIdsTruncated: ids.length > MAX_WEBHOOK_ORDER_IDS,
      count: result.changedOrderIds?.length ?? result.count,
      feedCursor: result.feedCursor ?? null,
    },
  });
}

/**
 * A transfer stopped without a result. `progress` (from the failure's details) lets the next run resume.
 * A token problem asks for a new token and reruns at once (a 401 once per run); a cancellation (deploy,
 * continue-as-new) just resumes later; anything else is a failure.
 */
export function transferFailed(
  s: SellerConnection,
  c: Ctx,
  kind: TransferKind,
  failure: { type?: string; message: string; cancelled?: boolean },
  progress: unknown,
): void {
  const t = s.transfers[kind]!;
  if (progress !== undefined && progress !== null) t.resume = progress;
  if (failure.cancelled === true) {
    t.running = false;
    t.nextDueAt = c.now;
    note(s, c, 'transfer_interrupted', `${kind}: ${failure.message}; resumes in the next run`);
    return;
  }
  const rejected = failure.type === FailureTypes.tokenRejected;
  if (failure.type === FailureTypes.tokenExpiring || (rejected && !t.remintRequested)) {
    if (rejected) t.remintRequested = true;
    // The next transfer needs a newer token than this one; the due transfer puts in the demand.
    discardToken(s.token);
    t.running = false;
    t.nextDueAt = c.now;
    note(s, c, 'token_remint_requested', `${kind}: ${failure.message}`);
    return;
  }
  const said = t.lastResult === 'failed' ? t.lastDetail : null;
  t.lastResult = 'failed';
  t.lastCount = 0;
  t.lastDetail = failure.message;
  t.failStreak = (t.failStreak ?? 0) + 1;
  markFailing(s, kind, `${kind} failed: ${failure.message}`);
  note(s, c, 'transfer_failed', `${kind}: ${failure.message}`);
  // Under ticks the shop hears of a failure when it begins or says something new, not at every retry of
  // it (a kind OTTO keeps refusing sent one transfer.failed per retry: thousands a day per seller).
  if (c.patches?.jitTicks !== true || said !== failure.message) {
    s.outbox.push({
      type: 'transfer.failed',
      data: { kind, message: failure.message, failureType: failure.type ?? null },
    });
  }
  scheduleNext(s, c, kind, true);
  announce(s, c, `${kind} failed`);
}

export const anyTransferRunning = (s: SellerConnection) => Object.values(s.transfers).some((t) => t.running);

// ---- ticks (patch jitTicks): every transfer due together in one activity, tokens just in time ----------

/**
 * The next due time an interval after the due time the run served (a run requested meanwhile keeps its
 * time); a failure retries soon. Runs that fell behind skip what they missed instead of catching up.
 */
function scheduleAnchored(t: TransferState, c: Ctx, retrySoon: boolean): void {
  t.running = false;
  if (t.nextDueAt !== null) return; // asked again meanwhile
  if (t.intervalMs === null) return;
  if (retrySoon) {
    // The first retry after transferRetryMaxIntervalMs, each further failure in a row twice as late, up
    // to the kind's interval or an hour: a kind that keeps failing costs a tick per interval (the daily
    // ones one an hour), not one per 30 s.
    const first = c.settings.transferRetryMaxIntervalMs;
    const cap = Math.min(t.intervalMs, Math.max(first, TRANSFER_RETRY_BACKOFF_CAP_MS));
    const doublings = Math.min(Math.max((t.failStreak ?? 1) - 1, 0), 20);
    t.nextDueAt = c.now + Math.min(cap, first * 2 ** doublings);
    return;
  }
  const { dailyTransferHour } = c.settings;
  const next = nextDueAt(t.servedDueAt ?? c.now, t.intervalMs, dailyTransferHour, 'Europe/Berlin');
  t.nextDueAt = next > c.now ? next : nextDueAt(c.now, t.intervalMs, dailyTransferHour, 'Europe/Berlin');
}

/** Ticks: retries of a kind that keeps failing back off to at most this (or its interval, if shorter). */
export const TRANSFER_RETRY_BACKOFF_CAP_MS = 3_600_000;

/** A transfer due this soon joins a tick that runs now (at most a quarter of its interval early). */
export const TICK_JOIN_WINDOW_MS = 60_000;

/** The transfers a tick starting at `now` runs: the due ones and those due within the join window. */
export function tickKinds(s: SellerConnection, now: number): TransferKind[] {
  const due = dueTransfers(s, now);
  if (due.length === 0) return [];
  return TRANSFER_KINDS.filter((kind) => {
    const t = s.transfers[kind];
    if (t === undefined || t.running || t.nextDueAt === null || t.intervalMs === null) return false;
    return t.nextDueAt <= now + Math.min(TICK_JOIN_WINDOW_MS, t.intervalMs / 4);
  });
}

/**
 * Token reuse (patch `jitTicks`): the next tick would have to mint at its due time because the carried
 * token runs out shortly before or after it — then it may start early instead, aimed at twice
 * `tokenReserveMs` before the token expires (it needs the reserve when it really starts), at most a
 * quarter of its transfers' interval early, and reuse that token.
 * A 30-minute token then serves three 15-minute ticks, not two (1.33 mints per seller-hour instead of 2).
 * Due times stay anchored (`tickStarted`): an early tick moves no schedule. A run that outlives the
 * token mints again inside the tick before its next call, as any run does. Null: no early tick.
 * A failed transfer's retry never starts early: its due time is now + the retry interval, well inside a
 * quarter of its interval, so an early start would run it at once, fail again, and loop until a new
 * token came (hundreds of ticks and transfer.failed webhooks before each expiry).
 */
export function reuseTick(s: SellerConnection, c: Ctx): { startAt: number; dueAt: number } | null {
  const { token } = s;
  if (token.sealed === null || token.expiresAt === null) return null;
  const waiting = TRANSFER_KINDS.flatMap((kind) => {
    const t = s.transfers[kind];
    return t !== undefined && !t.running && t.nextDueAt !== null && t.intervalMs !== null ? [t] : [];
  });
  if (waiting.length === 0) return null;
  const dueAt = Math.min(...waiting.map((t) => t.nextDueAt!));
  // The tick at its due time keeps the token anyway; or it mints anyway (the phase spread retires it).
  if (token.expiresAt >= dueAt + c.settings.tokenRefreshMarginMs) return null;
  if (retiresBy(token, dueAt)) return null;
  const earliest = Math.max(
    ...waiting
      .filter((t) => t.nextDueAt === dueAt)
      .map((t) => (t.lastResult === 'failed' ? dueAt : dueAt - t.intervalMs! / 4)),
  );
  // Aimed at twice the reserve before expiry: a timer fires a little late (and the workflow task after
  // it takes its time), and the tick still needs the reserve when it really starts.
  const startAt = Math.min(dueAt, token.expiresAt - 2 * tokenReserveMs(c.settings));
  return startAt >= earliest ? { startAt, dueAt } : null;
}

/** The token is retired (the mint phase spread) for a tick starting at `at`. */
export function retiresBy(token: SellerConnection['token'], at: number): boolean {
  return token.retireAt !== undefined && token.retireAt !== null && at >= token.retireAt;
}

/** FNV-1a, 32 bits: a stable number per seller id (the same on every worker and in every replay). */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The mint phase spread (patch `jitTicks`). With token reuse a token serves `n` ticks (three 15-minute
 * ticks for a 30-minute token), so a seller mints at every n-th tick, and that phase is set by when its
 * token cycle began: sellers connected in one wave (a migration, a benchmark's onboarding) or re-minting
 * together after a token-endpoint outage would mint in the same tick forever and queue at the token
 * endpoint's cap together, late. After such a phase reset (the installation's first token, or the first
 * after failed mints) the new token is retired early at the seller's own slot instead: at tick `j` of
 * its `n` (j from a hash of the seller id; j = n keeps the natural phase), which costs one early mint
 * for (n − 1) / n of the sellers, once, and spreads the fleet's mints evenly over the cycle.
 * Returns the time from which a tick mints (a quarter interval before tick j's due time, so an early
 * tick mints too), or null: no spread (the token serves one tick only, or j = n).
 */
export function spreadRetireAt(s: SellerConnection, c: Ctx, anchor: number): number | null {
  const { expiresAt } = s.token;
  if (expiresAt === null) return null;
  const intervals = Object.values(s.transfers).flatMap((t) =>
    t !== undefined && t.intervalMs !== null && t.intervalMs > 0 ? [t.intervalMs] : [],
  );
  if (intervals.length === 0) return null;
  const interval = Math.min(...intervals);
  const reserve = tokenReserveMs(c.settings);
  // The ticks this token serves as reuseTick and decideTick would: on time with the margin, or early.
  let served = 1;
  for (let k = 1; k < 64; k++) {
    const due = anchor + k * interval;
    const onTime = expiresAt >= due + c.settings.tokenRefreshMarginMs;
    const early = expiresAt - 2 * reserve >= due - interval / 4;
    if (!onTime && !early) break;
    served++;
  }
  if (served < 2) return null;
  const slot = 1 + (stableHash(s.sellerId) % served);
  return slot === served ? null : anchor + slot * interval - interval / 4;
}

/** How long before its due time a tick that must mint starts (real time: the token queue's wait). */
export const MINT_LEAD_MS = 10_000;

/**
 * The mint lead (patch `jitTicks`): the next tick will have to mint (its token will not last and token
 * reuse cannot start it early), and a mint may wait in the token queue behind other sellers' (seconds,
 * when the token caps are busy), so it starts `MINT_LEAD_MS` before its due time, at most an eighth of its
 * transfers' interval: the queue's wait is over by the due time and the transfers start on time (up to
 * the lead early), anchored to their due time as ever. The mint comes the lead earlier, which token
 * reuse absorbs (the next early start is the same lead earlier): still three ticks per 30-minute token.
 */
export function mintLeadTick(s: SellerConnection, c: Ctx): { startAt: number; dueAt: number } | null {
  const waiting = TRANSFER_KINDS.flatMap((kind) => {
    const t = s.transfers[kind];
    return t !== undefined && !t.running && t.nextDueAt !== null && t.intervalMs !== null ? [t] : [];
  });
  if (waiting.length === 0) return null;
  const dueAt = Math.min(...waiting.map((t) => t.nextDueAt!));
  const { token } = s;
  // It mints at its due time only if the token will not last the margin then (or is retired by then).
  const lasts = validUntil(token, dueAt + c.settings.tokenRefreshMarginMs) && !retiresBy(token, dueAt);
  if (lasts || reuseTick(s, c) !== null) return null;
  const interval = Math.min(...waiting.filter((t) => t.nextDueAt === dueAt).map((t) => t.intervalMs!));
  return { startAt: dueAt - Math.min(MINT_LEAD_MS, interval / 8), dueAt };
}

/**
 * When a tick must mint even without a transfer due, so a revocation shows while paused or idle: an
 * interval after the last mint (a failed one is retried at its backoff instead). Null: not connected.
 */
export function probeDueAt(s: SellerConnection, c: Ctx): number | null {
  if (!isConnected(s) || s.installationId === null) return null;
  if (s.token.failures > 0) return s.token.retryAt ?? c.now;
  // Never minted for this installation (connected just in time): the first token right away.
  if (s.token.lastRefreshedAt === null) return c.now;
  return s.token.lastRefreshedAt + c.settings.revocationProbeIntervalMs;
}

export interface TickPlan {
  kinds: { kind: TransferKind; full: boolean }[];
  probe: boolean;
  /** The carried token will not last through the run (or the probe): the tick mints first. */
  mints: boolean;
  /** The carried token is retired (the mint phase spread, `spreadRetireAt`): the run mints anyway. */
  retire?: boolean;
}

/**
 * The tick starts: its transfers run, all anchored to the earliest due time among them. Nothing the
 * status summary shows changes here (lastRunAt and nextDueAt move when the tick ends), so a tick costs
 * one summary write, not two.
 */
export function tickStarted(s: SellerConnection, c: Ctx, plan: TickPlan): void {
  // The earliest due time among them: at most now, or later for a tick started early to reuse the token.
  const anchor = Math.min(...plan.kinds.map(({ kind }) => s.transfers[kind]!.nextDueAt ?? c.now));
  for (const { kind } of plan.kinds) {
    const t = s.transfers[kind]!;
    t.running = true;
    t.runStartedAt = c.now;
    t.servedDueAt = anchor;
  }
  s.token.minting = plan.mints;
}

/**
 * What a tick did (or, cancelled, how far it got): the token first (a mint clears revocation
 * suspicions, a failed one feeds the token policy), then each transfer's result. A transfer without an
 * outcome (cancelled, or the mint failed) resumes from its progress in the next tick.
 */
export function tickFinished(
  s: SellerConnection,
  c: Ctx,
  plan: TickPlan,
  installationId: string,
  result: TickResult,
  cancelled: boolean,
): void {
  s.token.minting = false;
  if (result.minted !== null) {
    // A phase reset: the installation's first token, or the first after failed mints (an outage).
    const reset = s.token.lastRefreshedAt === null || s.token.failures > 0;
    minted(s, c, installationId, { ...result.minted, sealedToken: result.minted.sealed }, 0);
    if (result.mints > 1) s.token.refreshCount += result.mints - 1;
    const anchors = plan.kinds.flatMap(({ kind }) => {
      const at = s.transfers[kind]?.servedDueAt;
      return at === undefined || at === null ? [] : [at];
    });
    const accepted = s.token.sealed === result.minted.sealed;
    if (reset && accepted && anchors.length > 0)
      s.token.retireAt = spreadRetireAt(s, c, Math.min(...anchors));
  }
  if (result.mintFailure !== null) mintFailed(s, c, installationId, result.mintFailure);
  for (const { kind } of plan.kinds) {
    const t = s.transfers[kind];
    if (t === undefined) continue;
    if (isOver(s)) {
      t.running = false;
      continue;
    }
    const outcome = result.outcomes[kind];
    const progress = result.progress[kind];
    const rerun = t.rerunRequested === true;
    t.rerunRequested = false;
    if (outcome !== undefined) {
      t.lastRunAt = t.runStartedAt ?? c.now;
      // Asked to run again meanwhile: due now; otherwise the schedule sets the next due time.
      t.nextDueAt = rerun ? c.now : null;
    }
    if (outcome !== undefined && 'ok' in outcome) {
      transferSucceeded(s, c, kind, outcome.ok);
    } else if (outcome !== undefined) {
      if (outcome.failed.type === FailureTypes.tokenRejected) {
        // The tick re-minted once already; OTTO refused the new token too.
        t.remintRequested = true;
        discardToken(s.token);
      }
      transferFailed(s, c, kind, { ...outcome.failed }, outcome.progress);
    } else {
      // Still due (its due time never moved): the next tick resumes it.
      if (progress !== undefined && progress !== null) t.resume = progress;
      t.running = false;
      if (rerun) t.nextDueAt = c.now;
      if (cancelled) note(s, c, 'transfer_interrupted', `${kind}: resumes in the next run`);
    }
  }
  s.token.nextRefreshAt = isOver(s) ? null : nextTickMintAt(s, c);
}

/**
 * When the next tick will mint, as the schedule stands (patch `jitTicks`; the status view's
 * `token.nextRefreshAt`, which the timer-driven refresh set to its timer): the revocation probe (or a
 * failed mint's retry), the phase spread's retirement, or the first coming tick the token cannot serve
 * (neither on time with the margin nor started early to reuse it, as `reuseTick` decides), the mint lead
 * before its due time. Projected from each transfer's next due time and interval; null when not connected.
 */
export function nextTickMintAt(s: SellerConnection, c: Ctx): number | null {
  const probe = probeDueAt(s, c);
  const { token } = s;
  if (probe === null || token.failures > 0 || token.expiresAt === null) return probe;
  const at = [probe];
  if (token.retireAt !== undefined && token.retireAt !== null) at.push(token.retireAt);
  if (transfersAllowed(s)) {
    const next = Object.values(s.transfers).flatMap((t) =>
      t !== undefined && t.nextDueAt !== null && t.intervalMs !== null && t.intervalMs > 0
        ? [{ at: t.nextDueAt, interval: t.intervalMs }]
        : [],
    );
    const reserve = tokenReserveMs(c.settings);
    for (let step = 0; step < 64 && next.length > 0; step++) {
      const due = Math.min(...next.map((n) => n.at));
      const dueNow = next.filter((n) => n.at === due);
      const interval = Math.min(...dueNow.map((n) => n.interval));
      const onTime = token.expiresAt >= due + c.settings.tokenRefreshMarginMs;
      const early = token.expiresAt - 2 * reserve >= due - interval / 4;
      if (!onTime && !early) {
        at.push(due - Math.min(MINT_LEAD_MS, interval / 8));
        break;
      }
      for (const n of dueNow) n.at += n.interval;
    }
  }
  return Math.max(c.now, Math.min(...at));
}

/** A tick that ended without its result (attempts exhausted, or cancelled with no progress saved). */
export function tickResultAfterFailure(
  plan: TickPlan,
  failure: { type?: string; message: string; cancelled?: boolean; progress?: unknown },
): TickResult {
  const saved = failure.progress as Partial<TickResult> | undefined;
  if (saved !== undefined && saved !== null && typeof saved === 'object' && typeof saved.mints === 'number') {
    return {
      minted: saved.minted ?? null,
      mints: saved.mints,
      mintFailure: saved.mintFailure ?? null,
      outcomes: saved.outcomes ?? {},
      progress: saved.progress ?? {},
    };
  }
  const error = { ...(failure.type === undefined ? {} : { type: failure.type }), message: failure.message };
  return {
    minted: null,
    mints: 0,
    // A failed probe counts as a failed mint: the token policy backs off and retries.
    mintFailure: failure.cancelled !== true && plan.kinds.length === 0 ? error : null,
    outcomes:
      failure.cancelled === true
        ? {}
        : Object.fromEntries(plan.kinds.map(({ kind }) => [kind, { failed: error }])),
    progress: {},
  };
}

/** The tick's summary in the Temporal UI. */
export function describeTick(s: SellerConnection, plan: TickPlan): string {
  const what = plan.kinds.map(({ kind, full }) => (full ? `${kind} (full resync)` : kind));
  if (plan.probe) what.push('revocation probe');
  const token = plan.mints ? `mint token #${s.token.refreshCount + 1}` : 'carried token';
  return `${what.join(' + ')} for seller ${s.sellerId} (${token})`;
}

// ---- webhooks ----------------------------------------------------------------------------------------

/**
 * Keeps at most `max` settled webhooks (pending ones always stay), dropping the oldest. With
 * `keepFailed` (patch keepFailedWebhooks) delivered ones go first: a failed one is what an admin may
 * still redeliver, a delivered one only history.
 */
export function pruneWebhooks(s: SellerConnection, max = MAX_SETTLED_WEBHOOKS, keepFailed = false): void {
  let excess = s.webhooks.filter((w) => w.status !== 'pending').length - max;
  if (excess <= 0) return;
  if (keepFailed) {
    s.webhooks = s.webhooks.filter((w) => w.status !== 'delivered' || excess-- <= 0);
    if (excess <= 0) return;
  }
  s.webhooks = s.webhooks.filter((w) => w.status === 'pending' || excess-- <= 0);
}

// ---- views ------------------------------------------------------------------------------------------

export function toStatus(
  s: SellerConnection,
  settings: WorkflowSettings,
  workflow: { workflowId: string; runId: string },
): ConnectionStatus {
  const connected = isConnected(s);
  return {
    sellerId: s.sellerId,
    state: publicState(s),
    appVersion: s.appVersion,
    partnerId: s.partnerId,
    installationId: s.installationId,
    scopes: [...s.scopes],
    token: {
      expiresAt: iso(s.token.expiresAt),
      lastRefreshedAt: iso(s.token.lastRefreshedAt),
      nextRefreshAt: connected ? iso(s.token.nextRefreshAt) : null,
      refreshCount: s.token.refreshCount,
    },
    pendingConsent: s.consent
      ? { appVersion: s.consent.appVersion, deadline: iso(s.consent.deadline)! }
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
          resumable: t.resume !== null,
        },
      ]),
    ),
    health: {
      failing: [...s.health.failing],
      incident: s.health.incident,
      revocationSuspectedAt: iso(s.health.revocation?.firstAt ?? null),
      refusals: s.health.revocation?.refusals ?? 0,
    },
    upgradeAvailable: connected && s.appVersion !== null && s.appVersion < settings.latestAppVersion,
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
export function describeWaiting(s: SellerConnection): string {
  const state = publicState(s);
  switch (state) {
    case 'new':
      return 'Waiting for beginConsent';
    case 'pending_consent':
      return `Waiting for the OTTO callback (app ${s.consent?.appVersion ?? '?'}) until ${iso(s.consent?.deadline ?? null)}`;
    case 'authorizing':
      return 'Exchanging the authorization code and minting the first installation token';
    case 'active':
    case 'degraded':
    case 'paused':
      return `${state}: next token refresh at ${iso(s.token.nextRefreshAt) ?? 'n/a'}${
        s.health.incident ? `; incident: ${s.health.incident}` : ''
      }${s.consent ? `; upgrade to ${s.consent.appVersion} pending` : ''}`;
    default:
      return `Ended: ${state}`;
  }
}
