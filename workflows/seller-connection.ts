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
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { TokenActivities } from '../activities/token-activities';
import {
  authorizationCallbackSignal,
  beginConsentInputSchema,
  beginConsentUpdate,
  connectionStatusQuery,
  disconnectUpdate,
  FailureTypes,
  NON_RETRYABLE_FAILURE_TYPES,
  pauseUpdate,
  resumeUpdate,
  searchAttributes,
  sellerConnectionInputSchema,
  type AuthorizationResult,
  type ConnectionStatus,
  type MintedToken,
  type SellerConnectionInput,
  type WorkflowSettings,
} from './definitions';
import { isConnected, isTerminal, transition, type ConnectionEventType } from './connection-state';
import { describeOttoCallbackError } from './otto-errors-text';
import {
  applyEvent,
  beginConsentRefusal,
  describeWaiting,
  initialSellerState,
  iso,
  recordEvent,
  toStatus,
  type SellerState,
} from './seller-state';

export interface SellerConnectionArgs extends SellerConnectionInput {
  /** Present only on a continued-as-new run: the whole state of the previous run. */
  carried?: SellerState;
}

function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureTypes.invalidInput, message, nonRetryable: true });
}

function refusal(event: ConnectionEventType, s: SellerState): void {
  const result = transition(s.state, event);
  if (!result.ok) throw ApplicationFailure.create({ type: FailureTypes.invalidTransition, message: result.reason, nonRetryable: true });
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
  const s: SellerState = args.carried ?? initialSellerState(parsed.data.sellerId);
  const info = () => ({ workflowId: workflowInfo().workflowId, runId: workflowInfo().runId });
  const event = (type: string, detail?: string) => recordEvent(s, Date.now(), type, detail, settings.maxEvents);

  const retry: RetryPolicy = {
    initialInterval: Math.min(1_000, settings.refreshRetryMaxIntervalMs),
    backoffCoefficient: 2,
    maximumInterval: settings.refreshRetryMaxIntervalMs,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
  };
  // One refresh keeps retrying for at most the margin, i.e. until the token it replaces expires.
  const tokens = proxyActivities<TokenActivities>({
    taskQueue: settings.tokenTaskQueue,
    startToCloseTimeout: '15s',
    scheduleToCloseTimeout: settings.tokenRefreshMarginMs,
    retry,
  });
  const authorization = proxyActivities<TokenActivities>({
    taskQueue: settings.tokenTaskQueue,
    startToCloseTimeout: '15s',
    scheduleToCloseTimeout: settings.authorizationTimeoutMs,
    retry,
  });

  let published: { state?: string; version?: string; partner?: string; details?: string } = {};
  const publish = () => {
    const pairs = [];
    if (published.state === undefined) pairs.push({ key: searchAttributes.sellerId, value: s.sellerId });
    if (published.state !== s.state) pairs.push({ key: searchAttributes.connectionState, value: s.state });
    if (s.appVersion !== null && published.version !== s.appVersion) pairs.push({ key: searchAttributes.appVersion, value: s.appVersion });
    if (s.partnerId !== null && published.partner !== s.partnerId) pairs.push({ key: searchAttributes.partnerId, value: s.partnerId });
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    const details = describeWaiting(s);
    if (details !== published.details) setCurrentDetails(details);
    published = { state: s.state, version: s.appVersion ?? undefined, partner: s.partnerId ?? undefined, details };
  };

  // ---- handlers: registered before the first await -------------------------------------------------

  setHandler(connectionStatusQuery, () => toStatus(s, settings, info()));

  setHandler(
    beginConsentUpdate,
    (input) => {
      const consent = beginConsentInputSchema.parse(input);
      const reissued = s.pendingConsent !== null;
      s.pendingConsent = {
        appVersion: consent.appVersion,
        nonce: consent.nonce,
        sealedPkceVerifier: consent.sealedPkceVerifier,
        requestedAt: Date.now(),
        deadline: Date.now() + settings.consentTimeoutMs,
        callbackUsed: false,
      };
      applyEvent(s, 'consent_requested');
      if (s.state === 'pending_consent') s.lastError = null;
      const kind = isConnected(s.state) ? 'upgrade_requested' : reissued ? 'consent_reissued' : 'consent_requested';
      event(kind, `app ${consent.appVersion}, waiting until ${iso(s.pendingConsent.deadline)}`);
      publish();
      return {
        state: s.state,
        appVersion: consent.appVersion,
        nonce: consent.nonce,
        consentDeadline: iso(s.pendingConsent.deadline)!,
      };
    },
    {
      validator: (input) => {
        const result = beginConsentInputSchema.safeParse(input);
        if (!result.success) throw invalidInput(result.error.issues.map((i) => i.message).join('; '));
        if (result.data.sellerId !== s.sellerId) {
          throw invalidInput(`this workflow belongs to seller ${s.sellerId}, not ${result.data.sellerId}`);
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
          const type = refused.includes('already connected') ? FailureTypes.alreadyConnected : FailureTypes.invalidTransition;
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
      event('disconnected', input.reason ?? 'data exchange removed by the shop system; remove the app in OTTO’s portal too');
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

  setHandler(authorizationCallbackSignal, (callback) => {
    const pending = s.pendingConsent;
    if (pending === null || pending.callbackUsed || callback.nonce !== pending.nonce) {
      event('callback_refused', 'the callback does not belong to the current consent request (stale or replayed)');
      return;
    }
    if (callback.error !== undefined || callback.sealedCode === undefined) {
      applyEvent(s, 'callback_error');
      s.lastError = describeOttoCallbackError(callback.error ?? 'missing_code', callback.errorDescription);
      event('consent_denied', s.lastError);
      publish();
      return;
    }
    pending.callbackUsed = true;
    applyEvent(s, 'callback_accepted');
    s.pendingAuthorization = {
      appVersion: pending.appVersion,
      sealedCode: callback.sealedCode,
      sealedPkceVerifier: pending.sealedPkceVerifier,
      receivedAt: Date.now(),
    };
    event('callback_accepted', `authorizing app ${pending.appVersion}`);
    publish();
  });

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
        authorization.completeAuthorization.executeWithOptions(
          {
            taskQueue: settings.tokenTaskQueue,
            startToCloseTimeout: '15s',
            scheduleToCloseTimeout: settings.authorizationTimeoutMs,
            retry,
            summary: `authorize app ${pending.appVersion} for seller ${s.sellerId}`,
          },
          [{ sellerId: s.sellerId, appVersion: pending.appVersion, sealedCode: pending.sealedCode, sealedPkceVerifier: pending.sealedPkceVerifier }],
        ),
      );
    } catch (err) {
      const failure = failureOf(err);
      s.pendingAuthorization = null;
      if (upgrading) s.pendingConsent = null;
      applyEvent(s, 'authorization_failed');
      s.lastError = `Connecting app ${pending.appVersion} failed: ${failure.message}. Please click "Allow access" again.`;
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
    event(
      upgrading ? 'upgraded' : 'authorized',
      upgrading
        ? `switched from app ${previous} to ${result.appVersion} (partner ${result.partnerId})`
        : `app ${result.appVersion} installed for partner ${result.partnerId}; token valid until ${iso(result.expiresAt)}`,
    );
  }

  async function refresh(): Promise<void> {
    const installationId = s.installationId!;
    const appVersion = s.appVersion!;
    let minted: MintedToken | undefined;
    try {
      minted = await unlessEnded(() =>
        tokens.mintInstallationToken.executeWithOptions(
          {
            taskQueue: settings.tokenTaskQueue,
            startToCloseTimeout: '15s',
            scheduleToCloseTimeout: settings.tokenRefreshMarginMs,
            retry,
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
        s.lastError = 'The seller removed the app in OTTO (Zugriff entziehen). Click "Allow access" to connect again.';
        event('revoked', failure.message);
        return;
      }
      s.lastError = `Token refresh failed: ${failure.message}`;
      s.token.nextRefreshAt = now + settings.refreshRetryMaxIntervalMs;
      if (s.token.expiresAt !== null && now >= s.token.expiresAt - 1_000 && s.state === 'active') {
        applyEvent(s, 'otto_unavailable');
        event('degraded', `the installation token expired before a new one could be minted: ${failure.message}`);
      } else {
        event('token_refresh_failed', failure.message);
      }
      return;
    }
    if (minted === undefined) return;
    const wasDegraded = s.state === 'degraded';
    const hadSuspicion = s.revocationSuspectedAt !== null;
    s.revocationSuspectedAt = null;
    acceptToken(minted);
    if (wasDegraded && applyEvent(s, 'recovered')) {
      s.lastError = null;
      event('recovered', 'OTTO answers again; token refreshed');
    }
    if (hadSuspicion) event('revocation_not_confirmed', 'minting works again');
    event('token_refreshed', `#${s.token.refreshCount}, valid until ${iso(s.token.expiresAt)}`);
  }

  function expireConsentIfDue(now: number): void {
    const pending = s.pendingConsent;
    if (pending === null || now < pending.deadline || s.pendingAuthorization !== null) return;
    s.pendingConsent = null;
    applyEvent(s, 'consent_timed_out');
    event(isConnected(s.state) ? 'upgrade_expired' : 'consent_expired', `nobody confirmed app ${pending.appVersion} at OTTO in time`);
  }

  /** The next absolute time at which the workflow must act by itself, or null to wait for messages only. */
  function nextDeadline(): number | null {
    const candidates: number[] = [];
    if (s.pendingConsent !== null) candidates.push(s.pendingConsent.deadline);
    if (isConnected(s.state) && s.token.nextRefreshAt !== null) candidates.push(s.token.nextRefreshAt);
    return candidates.length === 0 ? null : Math.min(...candidates);
  }

  /** Checked in every wait too, so a stream of signals alone cannot grow the history without bound. */
  function historyTooLong(): boolean {
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    return continueAsNewSuggested || historyLength > settings.maxHistoryEvents;
  }

  // ---- main loop -------------------------------------------------------------------------------------

  publish();
  while (!isTerminal(s.state)) {
    if (s.pendingAuthorization !== null) {
      await authorize();
    } else if (isConnected(s.state) && s.token.nextRefreshAt !== null && Date.now() >= s.token.nextRefreshAt) {
      await refresh();
    } else {
      expireConsentIfDue(Date.now());
      if (isTerminal(s.state)) break;
      const deadline = nextDeadline();
      const stateBefore = s.state;
      const pendingBefore = s.pendingConsent;
      const wake = () =>
        s.state !== stateBefore ||
        s.pendingConsent !== pendingBefore ||
        s.pendingAuthorization !== null ||
        historyTooLong();
      if (deadline === null) await condition(wake);
      else await condition(wake, Math.max(1, deadline - Date.now()), { summary: describeWaiting(s) });
    }
    publish();

    if (!isTerminal(s.state) && historyTooLong()) {
      await condition(allHandlersFinished);
      log.info('continuing as new to bound history', { historyLength: workflowInfo().historyLength });
      return await continueAsNew<typeof sellerConnection>({ sellerId: s.sellerId, settings, carried: s });
    }
  }

  publish();
  await condition(allHandlersFinished);
  return toStatus(s, settings, info());
}
