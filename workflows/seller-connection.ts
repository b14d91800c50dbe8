/**
 * `sellerConnection`: one long-running workflow per seller owns that seller's OTTO connection: pending
 * consent, the callback, timed token refreshes, revocation, app upgrades. Message handlers only change
 * state synchronously; the main loop does every activity call, one at a time, and otherwise waits on
 * `condition()` for the next deadline or a state change. Secrets appear only sealed.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  type RetryPolicy,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { TokenActivities } from '../activities/token-activities';
import type { TransferActivities } from '../activities/transfer-activities';
import type { WebhookActivities } from '../activities/webhook-activities';
import {
  authorizationCallbackSchema,
  authorizationCallbackSignal,
  consentCallbackUpdate,
  type AuthorizationCallback,
  type ConsentCallbackResult,
  beginConsentInputSchema,
  beginConsentUpdate,
  connectionStatusQuery,
  disconnectUpdate,
  FailureTypes,
  NON_RETRYABLE_FAILURE_TYPES,
  pauseUpdate,
  redeliverWebhookUpdate,
  resumeUpdate,
  runTransferNowUpdate,
  searchAttributes,
  TRANSFER_KINDS,
  transferKindSchema,
  sellerConnectionInputSchema,
  type AuthorizationResult,
  type ConnectionStatus,
  type MintedToken,
  type SellerConnectionInput,
  type TransferKind,
  type TransferResult,
  type WebhookEventType,
  type WorkflowSettings,
} from './definitions';
import { isConnected, isTerminal, transition, type ConnectionEventType } from './connection-state';
import { describeOttoCallbackError } from './otto-errors-text';
import {
  addWebhook,
  applyEvent,
  beginConsentRefusal,
  callbackRefusal,
  MAX_ANSWERED_NONCES,
  MAX_WEBHOOK_ORDER_IDS,
  pruneWebhooks,
  describeWaiting,
  initialSellerState,
  iso,
  recordEvent,
  toStatus,
  withDefaults,
  type SellerState,
  type TransferState,
  type WebhookRecord,
} from './seller-state';
import { nextDueAt } from './schedule';

export interface SellerConnectionArgs extends SellerConnectionInput {
  /** Present only on a continued-as-new run: the whole state of the previous run. */
  carried?: SellerState;
}

function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureTypes.invalidInput, message, nonRetryable: true });
}

function refusal(event: ConnectionEventType, s: SellerState): void {
  const result = transition(s.state, event);
  if (!result.ok)
    throw ApplicationFailure.create({
      type: FailureTypes.invalidTransition,
      message: result.reason,
      nonRetryable: true,
    });
}

/** What the seller reads when completing an authorization failed; every text ends in what to do. */
function authorizationFailureText(
  appVersion: string,
  failure: { type: string | undefined; message: string },
): string {
  switch (failure.type) {
    case FailureTypes.appNotInstalled:
      return 'The app is not installed for your OTTO account: click “Allow access” to install it.';
    case FailureTypes.partnerMismatch:
      return `${failure.message} The connection keeps its current OTTO account. To move this seller to another OTTO account, ask the shop's administrator.`;
    default:
      return `Connecting app ${appVersion} failed: ${failure.message}. Please click "Allow access" again.`;
  }
}

/** The failure type and message behind an activity failure. */
function failureOf(err: unknown): { type: string | undefined; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  if (cause instanceof Error) {
    // Timeouts wrap the last attempt's failure.
    const inner = cause.cause;
    if (inner instanceof ApplicationFailure) return { type: inner.type ?? undefined, message: inner.message };
    return { type: cause.name, message: cause.message };
  }
  return { type: undefined, message: String(cause) };
}

export async function sellerConnection(args: SellerConnectionArgs): Promise<ConnectionStatus> {
  const parsed = sellerConnectionInputSchema.safeParse(args);
  if (!parsed.success) {
    throw invalidInput(`invalid workflow input: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const settings: WorkflowSettings = parsed.data.settings;
  const s: SellerState = args.carried ? withDefaults(args.carried) : initialSellerState(parsed.data.sellerId);
  const info = () => ({ workflowId: workflowInfo().workflowId, runId: workflowInfo().runId });
  const event = (type: string, detail?: string) => {
    recordEvent(s, Date.now(), type, detail, settings.maxEvents);
    // Every state change records an event right after it: the one place that tells the shop.
    if (s.state !== s.notifiedState) {
      const from = s.notifiedState;
      s.notifiedState = s.state;
      emitWebhook('connection.state_changed', { from, to: s.state, event: type, reason: detail ?? type });
    }
  };

  const retry: RetryPolicy = {
    initialInterval: Math.min(1_000, settings.refreshRetryMaxIntervalMs),
    backoffCoefficient: 2,
    maximumInterval: settings.refreshRetryMaxIntervalMs,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
  };
  // One refresh keeps retrying for at most the margin, i.e. until the token it replaces expires.
  const mintOptions = {
    taskQueue: settings.tokenTaskQueue,
    startToCloseTimeout: '15s',
    scheduleToCloseTimeout: settings.tokenRefreshMarginMs,
    retry,
  } as const;
  const authorizationOptions = { ...mintOptions, scheduleToCloseTimeout: settings.authorizationTimeoutMs };
  const tokenActivities = proxyActivities<TokenActivities>(mintOptions);

  const transferRetry: RetryPolicy = {
    initialInterval: Math.min(1_000, settings.transferRetryMaxIntervalMs),
    backoffCoefficient: 2,
    maximumInterval: settings.transferRetryMaxIntervalMs,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
  };
  const transferOptions = {
    startToCloseTimeout: '5m',
    heartbeatTimeout: '30s',
    scheduleToCloseTimeout: settings.transferRetryWindowMs,
    retry: transferRetry,
  } as const;
  const transfers = proxyActivities<TransferActivities>(transferOptions);

  // At least once: no attempt limit, the delivery window (scheduleToClose) bounds the retrying, so a
  // shop that is down for hours or misconfigured for a while loses nothing.
  const webhookOptions = {
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: settings.webhookDeliveryWindowMs,
    retry: {
      initialInterval: Math.min(1_000, settings.webhookRetryMaxIntervalMs),
      backoffCoefficient: 2,
      maximumInterval: settings.webhookRetryMaxIntervalMs,
    },
  } as const;
  const webhookActivities = proxyActivities<WebhookActivities>(webhookOptions);
  /** Event ids whose delivery runs in this run (not carried: a new run restarts every pending one). */
  const delivering = new Set<string>();

  let published: { state?: string; version?: string; partner?: string; details?: string } = {};
  const publish = () => {
    const pairs = [];
    if (published.state === undefined) pairs.push({ key: searchAttributes.sellerId, value: s.sellerId });
    if (published.state !== s.state) pairs.push({ key: searchAttributes.connectionState, value: s.state });
    if (s.appVersion !== null && published.version !== s.appVersion)
      pairs.push({ key: searchAttributes.appVersion, value: s.appVersion });
    if (s.partnerId !== null && published.partner !== s.partnerId)
      pairs.push({ key: searchAttributes.partnerId, value: s.partnerId });
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    const details = describeWaiting(s);
    if (details !== published.details) setCurrentDetails(details);
    published = {
      state: s.state,
      version: s.appVersion ?? undefined,
      partner: s.partnerId ?? undefined,
      details,
    };
  };

  // ---- handlers: registered before the first await -------------------------------------------------

  setHandler(connectionStatusQuery, () => toStatus(s, settings, info()));

  setHandler(
    beginConsentUpdate,
    (input) => {
      const consent = beginConsentInputSchema.parse(input);
      const previous = s.pendingConsent;
      const reissued = previous !== null;
      // "Allow access" clicked again for a private app keeps the invitation link the admin gave before.
      const sealedInvitationUrl =
        consent.sealedInvitationUrl ??
        (previous?.appVersion === consent.appVersion ? (previous.sealedInvitationUrl ?? null) : null);
      s.pendingConsent = {
        appVersion: consent.appVersion,
        nonce: consent.nonce,
        sealedPkceVerifier: consent.sealedPkceVerifier ?? null,
        sealedInvitationUrl,
        allowPartnerChange:
          consent.allowPartnerChange ??
          (previous?.appVersion === consent.appVersion && previous.allowPartnerChange === true),
        requestedAt: Date.now(),
        deadline: Date.now() + settings.consentTimeoutMs,
        callbackUsed: false,
      };
      applyEvent(s, 'consent_requested');
      if (s.state === 'pending_consent') s.lastError = null;
      const kind = isConnected(s.state)
        ? 'upgrade_requested'
        : reissued
          ? 'consent_reissued'
          : 'consent_requested';
      event(kind, `app ${consent.appVersion}, waiting until ${iso(s.pendingConsent.deadline)}`);
      publish();
      return {
        state: s.state,
        appVersion: consent.appVersion,
        nonce: consent.nonce,
        consentDeadline: iso(s.pendingConsent.deadline)!,
        sealedInvitationUrl,
      };
    },
    {
      validator: (input) => {
        const result = beginConsentInputSchema.safeParse(input);
        if (!result.success) throw invalidInput(result.error.issues.map((i) => i.message).join('; '));
        if (result.data.sellerId !== s.sellerId) {
          throw invalidInput(`this workflow belongs to seller ${s.sellerId}, not ${result.data.sellerId}`);
        }
        const { appVersion, invitationRequired, sealedInvitationUrl } = result.data;
        const keptInvitation =
          s.pendingConsent?.appVersion === appVersion &&
          (s.pendingConsent.sealedInvitationUrl ?? null) !== null;
        if (invitationRequired === true && sealedInvitationUrl === undefined && !keptInvitation) {
          throw invalidInput(
            `app ${appVersion} is a private OTTO app: start the consent with an invitation link (invitationUrl) generated in OPC`,
          );
        }
        if (s.pendingAuthorization !== null) {
          throw ApplicationFailure.create({
            type: FailureTypes.invalidTransition,
            message: 'an authorization is being completed right now; try again in a moment',
            nonRetryable: true,
          });
        }
        const refused = beginConsentRefusal(s, result.data.appVersion);
        if (refused !== null) {
          const type = refused.includes('already connected')
            ? FailureTypes.alreadyConnected
            : FailureTypes.invalidTransition;
          throw ApplicationFailure.create({ type, message: refused, nonRetryable: true });
        }
      },
    },
  );

  setHandler(
    disconnectUpdate,
    (input) => {
      applyEvent(s, 'disconnect_requested');
      s.pendingConsent = null;
      s.pendingAuthorization = null;
      // Forget the installation: nothing may use it after this (otto-api.md §4, "removing the data exchange").
      s.token = { ...s.token, sealed: null, nextRefreshAt: null };
      s.installationId = null;
      event(
        'disconnected',
        input.reason ?? 'data exchange removed by the shop system; remove the app in OTTO’s portal too',
      );
      publish();
      return { state: s.state };
    },
    { validator: (_input) => refusal('disconnect_requested', s) },
  );

  setHandler(
    pauseUpdate,
    (input) => {
      applyEvent(s, 'pause_requested');
      event('paused', input.reason ?? 'transfers paused; tokens are still refreshed');
      publish();
      return { state: s.state };
    },
    { validator: (_input) => refusal('pause_requested', s) },
  );

  setHandler(
    resumeUpdate,
    () => {
      applyEvent(s, 'resume_requested');
      event('resumed');
      publish();
      return { state: s.state };
    },
    { validator: () => refusal('resume_requested', s) },
  );

  setHandler(
    runTransferNowUpdate,
    ({ kind }) => {
      const t = ensureTransfer(kind);
      t.nextDueAt = Date.now();
      event('transfer_requested', `${kind} run requested now`);
      return { state: s.state };
    },
    {
      validator: (input) => {
        const parsedKind = transferKindSchema.safeParse((input as { kind?: unknown } | undefined)?.kind);
        if (!parsedKind.success) throw invalidInput(`kind must be one of ${TRANSFER_KINDS.join(', ')}`);
        if (!isConnected(s.state)) {
          throw ApplicationFailure.create({
            type: FailureTypes.invalidTransition,
            message: `transfers run only while connected (the connection is ${s.state.replace(/_/g, ' ')})`,
            nonRetryable: true,
          });
        }
        if (s.state === 'paused') {
          throw ApplicationFailure.create({
            type: FailureTypes.invalidTransition,
            message: 'transfers are paused; resume the connection first',
            nonRetryable: true,
          });
        }
      },
    },
  );

  setHandler(
    redeliverWebhookUpdate,
    ({ eventId }) => {
      const w = s.webhooks.find((x) => x.eventId === eventId)!;
      if (w.status !== 'pending') {
        // Same id and payload: the shop's idempotency key tells it this is the event it may have seen.
        w.status = 'pending';
        w.deliveredAt = null;
        w.deadline = Date.now() + settings.webhookDeliveryWindowMs;
        event('webhook_redelivery_requested', `${w.type} ${w.eventId}`);
        void deliverWebhook(w);
      }
      return { eventId, status: w.status };
    },
    {
      validator: (input) => {
        const eventId = (input as { eventId?: unknown } | undefined)?.eventId;
        if (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > 100) {
          throw invalidInput('eventId must be a webhook event id');
        }
        if (!s.webhooks.some((w) => w.eventId === eventId)) {
          throw ApplicationFailure.create({
            type: FailureTypes.webhookNotFound,
            message: `seller ${s.sellerId} has no webhook ${eventId} (only the last ${s.webhooks.length} are kept)`,
            nonRetryable: true,
          });
        }
      },
    },
  );

  /** A consent's answer (code or OTTO's error=): one per consent, remembered for replay detection. */
  function answerConsent(callback: AuthorizationCallback): ConsentCallbackResult['outcome'] {
    const pending = s.pendingConsent!;
    pending.callbackUsed = true;
    s.answeredNonces = [...s.answeredNonces, pending.nonce].slice(-MAX_ANSWERED_NONCES);
    if (callback.error !== undefined || callback.sealedCode === undefined) {
      applyEvent(s, 'callback_error');
      s.lastError = describeOttoCallbackError(callback.error ?? 'missing_code', callback.errorDescription);
      event('consent_denied', s.lastError);
      publish();
      return 'answered';
    }
    applyEvent(s, 'callback_accepted');
    s.pendingAuthorization = {
      appVersion: pending.appVersion,
      sealedCode: callback.sealedCode,
      sealedPkceVerifier: pending.sealedPkceVerifier,
      allowPartnerChange: pending.allowPartnerChange === true,
      receivedAt: Date.now(),
    };
    event('callback_accepted', `authorizing app ${pending.appVersion}`);
    publish();
    return 'authorizing';
  }

  setHandler(
    consentCallbackUpdate,
    (callback) => ({ state: s.state, outcome: answerConsent(authorizationCallbackSchema.parse(callback)) }),
    {
      validator: (callback) => {
        const parsedCallback = authorizationCallbackSchema.safeParse(callback);
        if (!parsedCallback.success) {
          throw invalidInput(parsedCallback.error.issues.map((i) => i.message).join('; '));
        }
        const refused = callbackRefusal(s, parsedCallback.data.nonce);
        if (refused !== null) {
          throw ApplicationFailure.create({
            type: refused.kind === 'replayed' ? FailureTypes.callbackReplayed : FailureTypes.callbackStale,
            message: refused.message,
            nonRetryable: true,
          });
        }
        if (s.pendingAuthorization !== null) {
          throw ApplicationFailure.create({
            type: FailureTypes.invalidTransition,
            message: 'an authorization is being completed right now',
            nonRetryable: true,
          });
        }
      },
    },
  );

  // Histories from before the update (and any old API replica still signalling) keep working.
  setHandler(authorizationCallbackSignal, (callback) => {
    if (callbackRefusal(s, callback.nonce) !== null || s.pendingAuthorization !== null) {
      event(
        'callback_refused',
        'the callback does not belong to the current consent request (stale or replayed)',
      );
      return;
    }
    answerConsent(callback);
  });

  // ---- webhooks to the shop -------------------------------------------------------------------------

  /**
   * Records an event for the shop and starts its delivery beside the main loop. Behind a patch: runs
   * recorded before webhooks replay without these commands (and without drawing a uuid).
   */
  function emitWebhook(type: WebhookEventType, data: Record<string, unknown>): void {
    if (!settings.webhooksEnabled || !patched('webhooks')) return;
    const now = Date.now();
    const record: WebhookRecord = {
      // Deterministic (the workflow's seeded random), so a replay yields the same id.
      eventId: `evt_${uuid4()}`,
      type,
      at: now,
      status: 'pending',
      attempts: 0,
      lastError: null,
      deliveredAt: null,
      deadline: now + settings.webhookDeliveryWindowMs,
      payload: { type, timestamp: iso(now)!, data: { sellerId: s.sellerId, ...data } },
    };
    addWebhook(s, record);
    void deliverWebhook(record);
  }

  async function deliverWebhook(w: WebhookRecord): Promise<void> {
    if (delivering.has(w.eventId)) return;
    const remaining = w.deadline - Date.now();
    if (remaining < 1_000) {
      w.status = 'failed';
      w.lastError = w.lastError ?? 'the delivery window passed';
      event('webhook_failed', `${w.type} ${w.eventId}: ${w.lastError}`);
      pruneWebhooks(s);
      return;
    }
    delivering.add(w.eventId);
    try {
      const result = await webhookActivities.deliverWebhook.executeWithOptions(
        {
          ...webhookOptions,
          scheduleToCloseTimeout: remaining,
          summary: `webhook ${w.type} ${w.eventId}`,
        },
        [{ eventId: w.eventId, payload: w.payload }],
      );
      if (result.outcome === 'disabled') {
        // WEBHOOK_URL is not configured: there is no delivery to show.
        s.webhooks = s.webhooks.filter((x) => x !== w);
        return;
      }
      w.status = 'delivered';
      w.attempts += result.attempt;
      w.lastError = result.previousError;
      w.deliveredAt = Date.now();
    } catch (err) {
      const failure = failureOf(err);
      const attempts = /^attempt (\d+):/.exec(failure.message)?.[1];
      w.status = 'failed';
      w.attempts += attempts === undefined ? 1 : Number(attempts);
      w.lastError = failure.message;
      event('webhook_failed', `${w.type} ${w.eventId}: ${failure.message}`);
    } finally {
      delivering.delete(w.eventId);
      pruneWebhooks(s);
    }
  }

  // ---- activities, cancelled if the connection ends meanwhile ---------------------------------------

  async function unlessEnded<T>(work: () => Promise<T>): Promise<T | undefined> {
    const scope = new CancellationScope();
    const watcher = new CancellationScope();
    watcher
      .run(() => condition(() => isTerminal(s.state)))
      .then(() => scope.cancel())
      .catch(() => undefined);
    try {
      return await scope.run(work);
    } catch (err) {
      if (isCancellation(err) && isTerminal(s.state)) return undefined;
      throw err;
    } finally {
      watcher.cancel();
    }
  }

  function acceptToken(minted: MintedToken): void {
    const now = Date.now();
    const jitter = settings.refreshJitterMs > 0 ? Math.floor(Math.random() * settings.refreshJitterMs) : 0;
    s.token = {
      sealed: minted.sealedToken,
      expiresAt: minted.expiresAt,
      lastRefreshedAt: now,
      // The margin before expiry, but never sooner than a quarter of the token's life (no hot loop when
      // tokens live shorter than the margin).
      nextRefreshAt: Math.max(
        now + Math.min(1_000, (minted.expiresAt - now) / 4),
        minted.expiresAt - settings.tokenRefreshMarginMs - jitter,
      ),
      refreshCount: s.token.refreshCount + 1,
    };
    s.scopes = [...minted.scopes];
  }

  async function authorize(): Promise<void> {
    const pending = s.pendingAuthorization!;
    const upgrading = isConnected(s.state);
    let result: AuthorizationResult | undefined;
    try {
      result = await unlessEnded(() =>
        tokenActivities.completeAuthorization.executeWithOptions(
          {
            ...authorizationOptions,
            summary: `authorize app ${pending.appVersion} for seller ${s.sellerId}`,
          },
          [
            {
              sellerId: s.sellerId,
              appVersion: pending.appVersion,
              sealedCode: pending.sealedCode,
              ...(pending.sealedPkceVerifier === null
                ? {}
                : { sealedPkceVerifier: pending.sealedPkceVerifier }),
              // Nobody re-points a connected seller to another OTTO account unless an admin allowed it.
              ...(s.partnerId === null || pending.allowPartnerChange === true
                ? {}
                : { expectedPartnerId: s.partnerId }),
            },
          ],
        ),
      );
    } catch (err) {
      const failure = failureOf(err);
      s.pendingAuthorization = null;
      if (upgrading) s.pendingConsent = null;
      applyEvent(s, 'authorization_failed');
      s.lastError = authorizationFailureText(pending.appVersion, failure);
      event('authorization_failed', failure.message);
      return;
    }
    s.pendingAuthorization = null;
    if (result === undefined) return;
    const previous = s.appVersion;
    // One step: installation, scopes, version and token switch together (design §2, upgrade while active).
    s.appVersion = result.appVersion;
    s.installationId = result.installationId;
    s.partnerId = result.partnerId;
    s.pendingConsent = null;
    s.revocationSuspectedAt = null;
    acceptToken(result);
    applyEvent(s, 'authorization_succeeded');
    s.lastError = null;
    s.failing = [];
    scheduleTransfers();
    event(
      upgrading ? 'upgraded' : 'authorized',
      upgrading
        ? `switched from app ${previous} to ${result.appVersion} (partner ${result.partnerId ?? 'unknown'})`
        : `app ${result.appVersion} installed for partner ${result.partnerId ?? 'unknown'}; token valid until ${iso(result.expiresAt)}`,
    );
    emitWebhook('consent.completed', {
      appVersion: result.appVersion,
      partnerId: result.partnerId,
      installationId: result.installationId,
      previousAppVersion: upgrading ? previous : null,
    });
  }

  async function refresh(): Promise<void> {
    const installationId = s.installationId!;
    const appVersion = s.appVersion!;
    let minted: MintedToken | undefined;
    try {
      minted = await unlessEnded(() =>
        tokenActivities.mintInstallationToken.executeWithOptions(
          {
            ...mintOptions,
            summary: `mint installation token #${s.token.refreshCount + 1} (app ${appVersion})`,
          },
          [{ sellerId: s.sellerId, appVersion, installationId }],
        ),
      );
    } catch (err) {
      const failure = failureOf(err);
      const now = Date.now();
      if (failure.type === FailureTypes.installationRevoked) {
        if (s.revocationSuspectedAt === null) {
          // OTTO sends no revocation event; one refusal could be a glitch, so confirm once more.
          s.revocationSuspectedAt = now;
          s.token.nextRefreshAt = now + settings.revocationConfirmDelayMs;
          event('revocation_suspected', `${failure.message}; confirming once more`);
          return;
        }
        applyEvent(s, 'installation_revoked');
        s.token = { ...s.token, sealed: null, nextRefreshAt: null };
        s.pendingConsent = null;
        s.lastError =
          'The seller removed the app in OTTO (Zugriff entziehen). Click "Allow access" to connect again.';
        event('revoked', failure.message);
        return;
      }
      s.token.nextRefreshAt = now + settings.refreshRetryMaxIntervalMs;
      event('token_refresh_failed', failure.message);
      if (s.token.expiresAt !== null && now >= s.token.expiresAt - 1_000) {
        markFailing(
          'token',
          `The installation token expired before a new one could be minted: ${failure.message}`,
        );
      } else {
        s.lastError = `Token refresh failed: ${failure.message}`;
      }
      return;
    }
    if (minted === undefined) return;
    const hadSuspicion = s.revocationSuspectedAt !== null;
    s.revocationSuspectedAt = null;
    acceptToken(minted);
    if (hadSuspicion) event('revocation_not_confirmed', 'minting works again');
    event('token_refreshed', `#${s.token.refreshCount}, valid until ${iso(s.token.expiresAt)}`);
    if (s.lastError?.startsWith('Token refresh failed')) s.lastError = null;
    markOk('token');
  }

  function expireConsentIfDue(now: number): void {
    const pending = s.pendingConsent;
    if (pending === null || now < pending.deadline || s.pendingAuthorization !== null) return;
    s.pendingConsent = null;
    applyEvent(s, 'consent_timed_out');
    event(
      isConnected(s.state) ? 'upgrade_expired' : 'consent_expired',
      `nobody confirmed app ${pending.appVersion} at OTTO in time`,
    );
  }

  /** The next absolute time at which the workflow must act by itself, or null to wait for messages only. */
  function nextDeadline(): number | null {
    const candidates: number[] = [];
    if (s.pendingConsent !== null) candidates.push(s.pendingConsent.deadline);
    if (isConnected(s.state) && s.token.nextRefreshAt !== null) candidates.push(s.token.nextRefreshAt);
    if (transfersAllowed()) {
      for (const t of Object.values(s.transfers))
        if (!t.running && t.nextDueAt !== null) candidates.push(t.nextDueAt);
    }
    return candidates.length === 0 ? null : Math.min(...candidates);
  }

  // ---- degraded / recovered bookkeeping ------------------------------------------------------------

  function markFailing(what: string, message: string): void {
    if (!s.failing.includes(what)) s.failing.push(what);
    s.lastError = message;
    if (s.state === 'active' && applyEvent(s, 'otto_unavailable')) event('degraded', message);
  }

  function markOk(what: string): void {
    s.failing = s.failing.filter((f) => f !== what);
    if (s.failing.length === 0 && s.state === 'degraded' && applyEvent(s, 'recovered')) {
      s.lastError = null;
      event('recovered', `OTTO answers again (${what})`);
    }
  }

  // ---- transfers -----------------------------------------------------------------------------------

  function ensureTransfer(kind: TransferKind): TransferState {
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
        remintRequested: false,
      };
      s.transfers[kind] = t;
    }
    return t;
  }

  /** On (re)connection: every configured transfer runs once right away, then on its interval. */
  function scheduleTransfers(): void {
    for (const kind of TRANSFER_KINDS) {
      const t = ensureTransfer(kind);
      t.intervalMs = settings.transferIntervalsMs[kind];
      if (t.intervalMs !== null && t.nextDueAt === null) t.nextDueAt = Date.now();
    }
  }

  // A fresh token lives at least the refresh margin; never demand more than half of that.
  const minTokenValidity = Math.min(settings.minTokenValidityMs, settings.tokenRefreshMarginMs / 2);
  const transfersAllowed = () =>
    (s.state === 'active' || s.state === 'degraded') && s.pendingAuthorization === null;
  const anyTransferRunning = () => Object.values(s.transfers).some((t) => t.running);
  let transferSettled = 0;

  function dueTransfers(now: number): TransferKind[] {
    return TRANSFER_KINDS.filter((kind) => {
      const t = s.transfers[kind];
      return t !== undefined && !t.running && t.nextDueAt !== null && now >= t.nextDueAt;
    });
  }

  function startDueTransfers(): void {
    if (!transfersAllowed()) return;
    const now = Date.now();
    for (const kind of dueTransfers(now)) {
      if (
        s.token.sealed === null ||
        s.token.expiresAt === null ||
        s.token.expiresAt - now < minTokenValidity
      ) {
        // Never start with a token that could expire mid-run: refresh first, the transfer follows.
        if (s.token.nextRefreshAt === null || s.token.nextRefreshAt > now) s.token.nextRefreshAt = now;
        return;
      }
      void runTransfer(kind);
    }
  }

  async function runTransfer(kind: TransferKind): Promise<void> {
    const t = ensureTransfer(kind);
    const startedAt = Date.now();
    t.running = true;
    let retrySoon = false;
    try {
      if (kind === 'shippingProfilesSync' && !s.scopes.includes(settings.shippingProfilesScope)) {
        t.lastResult = 'skipped';
        t.lastCount = 0;
        t.lastDetail = `skipped: missing scope "${settings.shippingProfilesScope}" — upgrade to the v2 app (click "Allow access" again) to sync shipping profiles`;
        return;
      }
      const lastFullAt = typeof t.cursor.lastFullAt === 'number' ? t.cursor.lastFullAt : null;
      const full =
        kind === 'stockExport' &&
        (lastFullAt === null || startedAt - lastFullAt >= settings.stockFullResyncMs);
      const result: TransferResult | undefined = await unlessEnded(() =>
        transfers[kind].executeWithOptions(
          { ...transferOptions, summary: `${kind}${full ? ' (full resync)' : ''} for seller ${s.sellerId}` },
          [
            {
              sellerId: s.sellerId,
              // The per-partner rate limit's key; OTTO's token may carry no partner id (otto-api.md §2.4).
              partnerId: s.partnerId ?? `installation:${s.installationId ?? s.sellerId}`,
              sealedToken: s.token.sealed!,
              tokenExpiresAt: s.token.expiresAt!,
              cursor: t.cursor,
              full,
            },
          ],
        ),
      );
      if (result === undefined) return;
      t.cursor = result.cursor;
      t.lastResult = 'ok';
      t.lastCount = result.count;
      t.lastDetail = result.detail;
      t.remintRequested = false;
      markOk(kind);
      if (kind === 'ordersImport') announceOrders(result);
    } catch (err) {
      const failure = failureOf(err);
      const tokenProblem =
        failure.type === FailureTypes.tokenExpiring || failure.type === FailureTypes.tokenRejected;
      if (tokenProblem && (failure.type === FailureTypes.tokenExpiring || !t.remintRequested)) {
        // A 401 means OTTO no longer takes this token: mint a new one at once, then run again (once).
        if (failure.type === FailureTypes.tokenRejected) t.remintRequested = true;
        s.token.nextRefreshAt = Date.now();
        t.nextDueAt = Date.now();
        event('token_remint_requested', `${kind}: ${failure.message}`);
        return;
      }
      t.lastResult = 'failed';
      t.lastCount = 0;
      t.lastDetail = failure.message;
      retrySoon = true;
      markFailing(kind, `${kind} failed: ${failure.message}`);
      event('transfer_failed', `${kind}: ${failure.message}`);
      emitWebhook('transfer.failed', { kind, message: failure.message, failureType: failure.type ?? null });
    } finally {
      t.running = false;
      t.lastRunAt = startedAt;
      const now = Date.now();
      if (t.nextDueAt !== null && t.nextDueAt > startedAt) {
        // Asked to run again (runTransferNow or a re-mint) while this run was going: keep that.
      } else if (t.intervalMs === null) t.nextDueAt = null;
      else if (retrySoon) t.nextDueAt = now + Math.min(t.intervalMs, settings.transferRetryMaxIntervalMs);
      else t.nextDueAt = nextDueAt(now, t.intervalMs, settings.dailyTransferHour, 'Europe/Berlin');
      transferSettled++;
    }
  }

  /** `orders.changed` when an import brought changes; the ids and cursor once the import reports them. */
  function announceOrders(result: TransferResult): void {
    const { changedOrderIds, feedCursor } = result;
    const changed = changedOrderIds === undefined ? result.count > 0 : changedOrderIds.length > 0;
    if (!changed) return;
    const ids = changedOrderIds ?? [];
    emitWebhook('orders.changed', {
      // Bounded: the feed from the cursor is the full answer; the ids are a hint.
      salesOrderIds: ids.slice(0, MAX_WEBHOOK_ORDER_IDS),
      salesOrderIdsTruncated: ids.length > MAX_WEBHOOK_ORDER_IDS,
      count: changedOrderIds?.length ?? result.count,
      feedCursor: feedCursor ?? null,
    });
  }

  /** Checked in every wait too, so a stream of signals alone cannot grow the history without bound. */
  function historyTooLong(): boolean {
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    return continueAsNewSuggested || historyLength > settings.maxHistoryEvents;
  }

  // ---- main loop -------------------------------------------------------------------------------------

  // Deliveries still pending when the previous run continued as new start again (same ids, same window).
  for (const w of s.webhooks) if (w.status === 'pending') void deliverWebhook(w);
  publish();
  while (!isTerminal(s.state)) {
    if (s.pendingAuthorization !== null) {
      await authorize();
    } else if (
      isConnected(s.state) &&
      s.token.nextRefreshAt !== null &&
      Date.now() >= s.token.nextRefreshAt
    ) {
      await refresh();
    } else {
      expireConsentIfDue(Date.now());
      if (isTerminal(s.state)) break;
      startDueTransfers();
      const deadline = nextDeadline();
      const stateBefore = s.state;
      const pendingBefore = s.pendingConsent;
      const settledBefore = transferSettled;
      const refreshBefore = s.token.nextRefreshAt;
      const dueBefore = TRANSFER_KINDS.map((k) => s.transfers[k]?.nextDueAt ?? null).join();
      const wake = () =>
        s.state !== stateBefore ||
        s.pendingConsent !== pendingBefore ||
        s.pendingAuthorization !== null ||
        transferSettled !== settledBefore ||
        s.token.nextRefreshAt !== refreshBefore ||
        TRANSFER_KINDS.map((k) => s.transfers[k]?.nextDueAt ?? null).join() !== dueBefore ||
        historyTooLong();
      if (deadline === null) await condition(wake);
      else await condition(wake, Math.max(1, deadline - Date.now()), { summary: describeWaiting(s) });
    }
    publish();

    if (!isTerminal(s.state) && historyTooLong()) {
      // Running transfers finish in this run; their results are part of the carried state.
      await condition(() => allHandlersFinished() && !anyTransferRunning());
      log.info('continuing as new to bound history', { historyLength: workflowInfo().historyLength });
      return await continueAsNew<typeof sellerConnection>({ sellerId: s.sellerId, settings, carried: s });
    }
  }

  publish();
  // The last events (revoked, disconnected) reach the shop before the workflow ends; each delivery is
  // bounded by its window.
  await condition(() => allHandlersFinished() && !anyTransferRunning() && delivering.size === 0);
  return toStatus(s, settings, info());
}
