/**
 * `sellerConnection`: one long-running workflow per seller owns that seller's OTTO connection.
 * Handlers are registered before the first await; they only change state synchronously, and the main
 * loop waits on `condition()` for the next deadline or state change.
 */
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  allHandlersFinished,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  log,
} from '@temporalio/workflow';
import {
  authorizationCallbackSignal,
  beginConsentInputSchema,
  beginConsentUpdate,
  connectionStatusQuery,
  disconnectUpdate,
  FailureTypes,
  searchAttributes,
  sellerConnectionInputSchema,
  type ConnectionStatus,
  type SellerConnectionInput,
  type WorkflowSettings,
} from './definitions';
import { isTerminal, transition } from './connection-state';
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

export async function sellerConnection(args: SellerConnectionArgs): Promise<ConnectionStatus> {
  const parsed = sellerConnectionInputSchema.safeParse(args);
  if (!parsed.success) {
    throw invalidInput(`invalid workflow input: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const settings: WorkflowSettings = parsed.data.settings;
  const s: SellerState = args.carried ?? initialSellerState(parsed.data.sellerId);
  const info = () => ({ workflowId: workflowInfo().workflowId, runId: workflowInfo().runId });
  const event = (type: string, detail?: string) =>
    recordEvent(s, Date.now(), type, detail, settings.maxEvents);

  let publishedState: string | null = null;
  let publishedVersion: string | null = null;
  let publishedPartner: string | null = null;
  const publish = () => {
    const pairs = [];
    if (publishedState !== s.state) pairs.push({ key: searchAttributes.connectionState, value: s.state });
    if (s.appVersion !== null && publishedVersion !== s.appVersion) {
      pairs.push({ key: searchAttributes.appVersion, value: s.appVersion });
    }
    if (s.partnerId !== null && publishedPartner !== s.partnerId) {
      pairs.push({ key: searchAttributes.partnerId, value: s.partnerId });
    }
    if (publishedState === null) pairs.push({ key: searchAttributes.sellerId, value: s.sellerId });
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    publishedState = s.state;
    publishedVersion = s.appVersion;
    publishedPartner = s.partnerId;
    setCurrentDetails(describeWaiting(s));
  };

  // ---- handlers: registered before the first await -------------------------------------------------

  setHandler(connectionStatusQuery, () => toStatus(s, settings, info()));

  setHandler(
    beginConsentUpdate,
    (input) => {
      const consentInput = beginConsentInputSchema.parse(input);
      s.pendingConsent = {
        appVersion: consentInput.appVersion,
        nonce: consentInput.nonce,
        sealedPkceVerifier: consentInput.sealedPkceVerifier,
        requestedAt: Date.now(),
        deadline: Date.now() + settings.consentTimeoutMs,
      };
      const replaced = s.state === 'pending_consent';
      applyEvent(s, 'consent_requested');
      if (s.state === 'pending_consent') s.lastError = null;
      event(
        replaced ? 'consent_reissued' : 'consent_requested',
        `app ${consentInput.appVersion}, waiting until ${iso(s.pendingConsent.deadline)}`,
      );
      publish();
      return {
        state: s.state,
        appVersion: consentInput.appVersion,
        nonce: consentInput.nonce,
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
        const refusal = beginConsentRefusal(s, result.data.appVersion);
        if (refusal !== null) {
          const type = refusal.includes('already connected')
            ? FailureTypes.alreadyConnected
            : FailureTypes.invalidTransition;
          throw ApplicationFailure.create({ type, message: refusal, nonRetryable: true });
        }
      },
    },
  );

  setHandler(
    disconnectUpdate,
    (input) => {
      applyEvent(s, 'disconnect_requested');
      s.pendingConsent = null;
      s.token = { ...s.token, sealed: null, nextRefreshAt: null };
      event('disconnected', input.reason ?? 'data exchange removed by the shop system');
      publish();
      return { state: s.state };
    },
    {
      validator: (_input) => {
        const result = transition(s.state, 'disconnect_requested');
        if (!result.ok)
          throw ApplicationFailure.create({ type: FailureTypes.invalidTransition, message: result.reason });
      },
    },
  );

  setHandler(authorizationCallbackSignal, (callback) => {
    const pending = s.pendingConsent;
    if (pending === null || callback.nonce !== pending.nonce) {
      event(
        'callback_refused',
        'the callback does not belong to the current consent request (stale or replayed)',
      );
      return;
    }
    if (callback.error !== undefined) {
      applyEvent(s, 'callback_error');
      s.lastError = describeOttoError(callback.error, callback.errorDescription);
      event('consent_denied', s.lastError);
      publish();
      return;
    }
    // Exchanging the code arrives with the token activities; until then a code cannot be used.
    event('callback_refused', 'authorization codes are not exchanged by this version yet');
  });

  // ---- main loop -------------------------------------------------------------------------------------

  publish();
  while (!isTerminal(s.state)) {
    const deadline = nextDeadline(s);
    const stateBefore = s.state;
    const pendingBefore = s.pendingConsent;
    const changed = () => s.state !== stateBefore || s.pendingConsent !== pendingBefore;
    const woke =
      deadline === null
        ? (await condition(changed), true)
        : await condition(changed, Math.max(1, deadline - Date.now()));
    if (!woke) onDeadline(s, event);
    publish();

    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > settings.maxHistoryEvents) {
      await condition(allHandlersFinished);
      log.info('continuing as new to bound history', { historyLength: workflowInfo().historyLength });
      return await continueAsNew<typeof sellerConnection>({ sellerId: s.sellerId, settings, carried: s });
    }
  }

  await condition(allHandlersFinished);
  return toStatus(s, settings, info());
}

/** The next absolute time at which the workflow must act by itself, or null to wait for messages only. */
function nextDeadline(s: SellerState): number | null {
  return s.pendingConsent?.deadline ?? null;
}

function onDeadline(s: SellerState, event: (type: string, detail?: string) => void): void {
  const pending = s.pendingConsent;
  if (pending !== null && Date.now() >= pending.deadline) {
    s.pendingConsent = null;
    applyEvent(s, 'consent_timed_out');
    event('consent_expired', `nobody confirmed app ${pending.appVersion} at OTTO in time`);
  }
}

/** OTTO's `error=` callback in words a seller understands (otto-api.md §2.3: undocumented cases stay explicit). */
export function describeOttoError(error: string, description?: string): string {
  const detail = description ? ` OTTO said: "${description}".` : '';
  if (error === 'access_denied') {
    return (
      'Access was not granted at OTTO. The OTTO user who confirmed needs admin rights and the ' +
      `"Dienstleister Freigaben" permission, or the consent was cancelled.${detail}`
    );
  }
  return `OTTO refused the authorization (${error}).${detail}`;
}
