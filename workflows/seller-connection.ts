/**
 * `sellerConnection`: one long-running workflow per seller owns that seller's OTTO connection. This
 * file only executes: handlers change the state through seller-state.ts (validators call the same
 * predicates), the loop asks `decide()` what to do next and runs it — activities in the background, so
 * a slow mint never holds up an authorization, a consent expiry or the drain before continue-as-new —
 * and waits when told to. Secrets appear only sealed.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  type CancellationScope,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { SettingsActivities } from '../activities/settings-activities';
import type { TickActivities } from '../activities/tick-activities';
import type { TokenActivities } from '../activities/token-activities';
import type { TransferActivities } from '../activities/transfer-activities';
import {
  applySettingsUpdate,
  beginConsentUpdate,
  connectionStatusQuery,
  consentCallbackUpdate,
  disconnectUpdate,
  FailureTypes,
  pauseUpdate,
  redeliverWebhookUpdate,
  resumeUpdate,
  runTransferNowUpdate,
  searchAttributes,
  TRANSFER_KINDS,
  type CommandResult,
  type ConnectionStatus,
  type SellerConnectionInput,
  type TransferKind,
  type WorkflowSettings,
} from './definitions';
import {
  checkAuthorizationCallback,
  checkBeginConsentInput,
  checkSellerConnectionInput,
  checkSettingsOverrides,
  isTransferKind,
  mustPass,
  settingsWithDefaults,
} from './guards';
import { failureOf, releasingInput, tickOptions, tokenOptions, transferOptions } from './activity-options';
import type { TickResult } from './tick-types';
import { decide, type Action } from './decide';
import type { PatchId } from './patches';
import {
  STATUS_MEMO_KEY,
  SUMMARY_VOLATILE_REFRESH_MS,
  statusRowNeedsRenewal,
  statusRowValidUntil,
  summaryChangeKey,
  toStatusSummary,
  type StatusSinks,
} from './status-summary';
import { createWebhookDelivery } from './webhook-delivery';
import { SCOPE_EPOCH_OPERATIONS, ScopeEpoch } from './scope-epoch';
import { webhookOutbox, webhookOutboxId } from './webhook-outbox';
import * as core from './seller-state';
import type { Refusal, SellerConnection } from './seller-state';

/** The status row's sink (status-summary.ts): the worker writes what it is handed to the seller store. */
const { statusRows } = proxySinks<StatusSinks>();

export interface SellerConnectionArgs extends SellerConnectionInput {
  /** Present only on a continued-as-new run: the whole state of the previous run. */
  carried?: SellerConnection;
}

function refused(refusal: Refusal): ApplicationFailure {
  return ApplicationFailure.create({ ...refusal, nonRetryable: true });
}

function fail(refusal: Refusal | null): void {
  if (refusal !== null) throw refused(refusal);
}

function invalidInput(issues: { message: string }[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.invalidInput,
    message: issues.map((i) => i.message).join('; '),
    nonRetryable: true,
  });
}

export async function sellerConnection(args: SellerConnectionArgs): Promise<ConnectionStatus> {
  // Run-start patch flags (docs/versioning.md): read once, before the first await.
  const statusMemo = patched('statusMemo' satisfies PatchId);
  const patches: core.RunPatches = {
    jitTicks: patched('jitTicks' satisfies PatchId),
    webhookDrain: patched('webhookDrain' satisfies PatchId),
    offClearsFailure: patched('offClearsFailure' satisfies PatchId),
    keepFailedWebhooks: patched('keepFailedWebhooks' satisfies PatchId),
    handOffWebhooks: patched('handOffWebhooks' satisfies PatchId),
    coalesceOrdersChanged: patched('coalesceOrdersChanged' satisfies PatchId),
    boundPendingWebhooks: patched('boundPendingWebhooks' satisfies PatchId),
    shippingByAppVersion: patched('shippingByAppVersion' satisfies PatchId),
  };
  const parsed = checkSellerConnectionInput(args);
  if (!parsed.success) throw invalidInput(parsed.issues);
  const s: SellerConnection =
    args.carried ?? core.initialConnection(parsed.data.sellerId, parsed.data.overrides);
  /** Resolved by the worker at run start (and by applySettings); handlers wait for it. */
  let settings: WorkflowSettings | null = null;
  /**
   * The decision clock: the task's time, but never before a deadline whose timer has fired. Under load a
   * timer can be handled in an activation that still carries the previous task's time (seen with queries
   * arriving while the task is delivered); deciding on that stale time would issue other commands than
   * a replay, which sees the task's real time. A fired timer proves its deadline has passed.
   */
  let firedDeadline = 0;
  const clock = () => Math.max(Date.now(), firedDeadline);
  const ctx = (): core.Ctx => ({ now: clock(), settings: settings!, patches });
  const ready = () => condition(() => settings !== null);
  const info = () => ({ workflowId: workflowInfo().workflowId, runId: workflowInfo().runId });
  const jitter = () =>
    settings!.refreshJitterMs > 0 ? Math.floor(Math.random() * settings!.refreshJitterMs) : 0;

  const resolver = proxyLocalActivities<SettingsActivities>({
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [FailureTypes.invalidInput] },
  });
  async function resolveSettings(): Promise<WorkflowSettings> {
    try {
      return await resolver.resolveSettings({ sellerId: s.sellerId, overrides: s.overrides });
    } catch (err) {
      // A worker that cannot resolve (bad override): the schema's defaults keep the seller running.
      log.warn('settings could not be resolved; using defaults', { error: failureOf(err).message });
      return settingsWithDefaults(s.overrides);
    }
  }

  const token = () => proxyActivities<TokenActivities>(tokenOptions(settings!));
  const transfers = () => proxyActivities<TransferActivities>(transferOptions(settings!));
  const ticks = () => proxyActivities<TickActivities>(tickOptions(settings!, false));

  // ---- change bookkeeping --------------------------------------------------------------------------

  /** Bumped by every change: the loop's wait ends on it. */
  let version = 0;
  let published: { state?: string; version?: string; partner?: string; details?: string } = {};
  /** The status summary last written to the memo: its change key, its JSON and when. */
  let publishedSummary: { key?: string; json?: string; at: number } = { at: 0 };
  /**
   * What the status row's sink was last handed in this run: at which change `version`, its validUntil,
   * and the update's number.
   */
  let publishedRow = { version: -1, validUntil: 0, seq: 0 };
  /** Where the loop's timers, ticks and webhook deliveries run, so the SDK lets go of them (scope-epoch.ts). */
  const epoch = new ScopeEpoch(SCOPE_EPOCH_OPERATIONS);
  const webhooks = createWebhookDelivery(s, {
    settings: () => settings!,
    changed: () => changed(),
    epoch,
    keepFailed: patches.keepFailedWebhooks === true,
    coalesce: patches.coalesceOrdersChanged === true,
    bounded: patches.boundPendingWebhooks === true,
  });
  /** Running activities by what they do ('authorize', 'mint', a transfer kind), to cancel them. */
  const scopes = new Map<string, CancellationScope>();

  function changed(): void {
    version++;
    if (settings !== null) webhooks.flush();
    publish();
  }

  function publish(): void {
    const state = core.publicState(s);
    const pairs = [];
    if (published.state === undefined) pairs.push({ key: searchAttributes.sellerId, value: s.sellerId });
    if (published.state !== state) pairs.push({ key: searchAttributes.connectionState, value: state });
    if (s.appVersion !== null && published.version !== s.appVersion)
      pairs.push({ key: searchAttributes.appVersion, value: s.appVersion });
    if (s.partnerId !== null && published.partner !== s.partnerId)
      pairs.push({ key: searchAttributes.partnerId, value: s.partnerId });
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    const details = core.describeWaiting(s);
    if (details !== published.details) setCurrentDetails(details);
    published = { state, version: s.appVersion ?? undefined, partner: s.partnerId ?? undefined, details };
    // The compact status for the API (workflows/status-summary.ts): written when what it says changed,
    // and at least hourly when only the times that move with every tick did.
    if (statusMemo && settings !== null) {
      const summary = toStatusSummary(s, settings);
      const key = summaryChangeKey(summary);
      const now = clock();
      // The whole summary is serialized only to write it or, once the hour is up, to compare it.
      let json: string | undefined;
      const stale =
        now - publishedSummary.at >= SUMMARY_VOLATILE_REFRESH_MS &&
        (json = JSON.stringify(summary)) !== publishedSummary.json;
      if (key !== publishedSummary.key || stale) {
        upsertMemo({ [STATUS_MEMO_KEY]: summary });
        publishedSummary = { key, json: json ?? JSON.stringify(summary), at: now };
      }
    }
  }

  /**
   * Hands the summary to the status row's sink when it changed since the last time, or to move the
   * row's validUntil on (status-summary.ts). Called where the workflow is about to wait, with the time it
   * will next wake up by itself (null: only a message or an activity wakes it), and before it ends: so
   * one workflow task usually hands over one row, the summary as the task leaves it, though several
   * changes were published to the memo on the way. No command: sinks are outside the history, so this
   * may change under the (unreleased) statusMemo patch without breaking replay.
   */
  function publishRow(wakeAt: number | null): void {
    if (!statusMemo || settings === null) return;
    const now = clock();
    const validUntil = statusRowValidUntil(now, wakeAt);
    const renew = statusRowNeedsRenewal(now, publishedRow.validUntil, validUntil);
    if (publishedRow.version === version && !renew) return;
    // Something changed (a tick's end moves its times at least): no comparison of the summaries, which
    // would cost a pass over the JSON per workflow task for a write the store does as cheaply.
    const summary = JSON.stringify(toStatusSummary(s, settings));
    publishedRow = { version, validUntil, seq: publishedRow.seq + 1 };
    statusRows.publish({
      sellerId: s.sellerId,
      summary,
      validUntil,
      seq: publishedRow.seq,
      ...(core.isOver(s) ? { ended: true as const } : {}),
    });
  }

  // ---- handlers: registered before the first await; they change state only through seller-state.ts ------

  setHandler(connectionStatusQuery, () => core.toStatus(s, settings ?? settingsWithDefaults(), info()));

  setHandler(
    beginConsentUpdate,
    async (input) => {
      await ready();
      const consentInput = mustPass(checkBeginConsentInput(input));
      fail(core.beginConsentRefusal(s, consentInput));
      const consent = core.beginConsent(s, ctx(), consentInput);
      changed();
      return {
        state: core.publicState(s),
        appVersion: consent.appVersion,
        nonce: consent.nonce,
        consentDeadline: core.iso(consent.deadline)!,
        sealedInvitationUrl: consent.sealedInvitationUrl,
      };
    },
    {
      validator: (input) => {
        const result = checkBeginConsentInput(input);
        if (!result.success) throw invalidInput(result.issues);
        fail(core.beginConsentRefusal(s, result.data));
      },
    },
  );

  setHandler(
    consentCallbackUpdate,
    async (input) => {
      await ready();
      const callback = mustPass(checkAuthorizationCallback(input));
      fail(core.callbackRefusal(s, callback.nonce));
      const outcome = core.answerConsent(s, ctx(), callback);
      changed();
      return { state: core.publicState(s), outcome };
    },
    {
      validator: (input) => {
        const callback = checkAuthorizationCallback(input);
        if (!callback.success) throw invalidInput(callback.issues);
        fail(core.callbackRefusal(s, callback.data.nonce));
      },
    },
  );

  /**
   * A command answered with the new state. Validator and handler ask the same refusal (the state may
   * have moved while the handler waited for the settings); the change goes through seller-state.ts.
   */
  function command<Args extends unknown[]>(
    def: UpdateDefinition<CommandResult, Args>,
    refusal: () => Refusal | null,
    apply: (...args: Args) => void,
    checkInput: (...args: Args) => void = () => undefined,
  ): void {
    setHandler(
      def,
      async (...args: Args) => {
        await ready();
        fail(refusal());
        apply(...args);
        changed();
        return { state: core.publicState(s) };
      },
      {
        validator: (...args: Args) => {
          checkInput(...args);
          fail(refusal());
        },
      },
    );
  }

  command(
    disconnectUpdate,
    () => core.disconnectRefusal(s),
    (input) => core.disconnect(s, ctx(), input.reason),
  );
  command(
    pauseUpdate,
    () => core.pauseRefusal(s),
    (input) => core.pause(s, ctx(), input.reason),
  );
  command(
    resumeUpdate,
    () => core.resumeRefusal(s),
    () => core.resume(s, ctx()),
  );
  command(
    runTransferNowUpdate,
    () => core.runNowRefusal(s),
    ({ kind }) => core.requestTransferNow(s, ctx(), kind),
    (input) => {
      const kind = (input as { kind?: unknown } | undefined)?.kind;
      if (!isTransferKind(kind))
        throw invalidInput([{ message: `kind must be one of ${TRANSFER_KINDS.join(', ')}` }]);
      // Only here, in the validator (never run on replay): a kind switched off would stay "due" forever.
      fail(core.runNowOffRefusal(s, kind));
    },
  );

  setHandler(
    applySettingsUpdate,
    async (input) => {
      await ready();
      if (input.overrides !== undefined) s.overrides = mustPass(checkSettingsOverrides(input.overrides));
      settings = await resolveSettings();
      core.applySettings(s, ctx());
      changed();
      return {
        state: core.publicState(s),
        tokenTaskQueue: settings.tokenTaskQueue,
        transferIntervalsMs: settings.transferIntervalsMs,
      };
    },
    {
      validator: (input) => {
        const overrides = (input as { overrides?: unknown } | undefined)?.overrides;
        if (overrides !== undefined) {
          const result = checkSettingsOverrides(overrides);
          if (!result.success) throw invalidInput(result.issues);
        }
        if (core.isOver(s)) fail(core.disconnectRefusal(s));
      },
    },
  );

  const webhookNotFound = (eventId: string): Refusal => ({
    type: FailureTypes.webhookNotFound,
    message: `seller ${s.sellerId} has no webhook ${eventId} (only the last ${s.webhooks.length} are kept)`,
  });
  setHandler(
    redeliverWebhookUpdate,
    async ({ eventId }) => {
      await ready();
      const w = s.webhooks.find((x) => x.eventId === eventId);
      // Dropped from the kept list while the handler waited (newer events push the oldest out): an
      // answer, not a TypeError, which would fail the workflow task again and again.
      if (w === undefined) throw refused(webhookNotFound(eventId));
      if (w.status !== 'pending') {
        // Same id and payload: the shop's idempotency key tells it this is the event it may have seen.
        w.status = 'pending';
        w.deliveredAt = null;
        w.deadline = Date.now() + settings!.webhookDeliveryWindowMs;
        core.recordEvent(
          s,
          Date.now(),
          'webhook_redelivery_requested',
          `${w.type} ${w.eventId}`,
          settings!.maxEvents,
        );
        void webhooks.deliver(w);
      }
      return { eventId, status: w.status };
    },
    {
      validator: (input) => {
        const eventId = (input as { eventId?: unknown } | undefined)?.eventId;
        if (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > 100) {
          throw invalidInput([{ message: 'eventId must be a webhook event id' }]);
        }
        if (!s.webhooks.some((w) => w.eventId === eventId)) fail(webhookNotFound(eventId));
      },
    },
  );

  // ---- actions -----------------------------------------------------------------------------------

  /** Runs an activity in its own scope, so the end of the connection or the drain bound can cancel it. */
  async function scoped<T>(name: string, work: () => Promise<T>): Promise<T> {
    const scope = epoch.child();
    scopes.set(name, scope);
    try {
      return await scope.run(work);
    } finally {
      scopes.delete(name);
      epoch.done();
    }
  }

  async function authorize(): Promise<void> {
    const pending = s.authorization!;
    pending.running = true;
    changed();
    const input = {
      sellerId: s.sellerId,
      appVersion: pending.appVersion,
      sealedCode: pending.sealedCode,
      ...(pending.sealedPkceVerifier === null ? {} : { sealedPkceVerifier: pending.sealedPkceVerifier }),
      // Nobody re-points a connected seller to another OTTO account unless an admin allowed it.
      ...(s.partnerId === null || pending.allowPartnerChange ? {} : { expectedPartnerId: s.partnerId }),
      ...(patches.jitTicks === true ? { mintToken: false } : {}),
    };
    try {
      const result = await scoped('authorize', () =>
        releasingInput(input, (args) =>
          token().completeAuthorization.executeWithOptions(
            {
              ...tokenOptions(settings!),
              // Just in time (jitTicks): on this workflow's own queue, not behind the ticks waiting in the
              // rate-limited token queue; the worker's hard token limit lets a code exchange (a seller
              // waiting in the browser) go ahead of the ticks' mints.
              ...(patches.jitTicks === true ? { taskQueue: workflowInfo().taskQueue } : {}),
              // One attempt may take the whole window: one cut short at 15 s while waiting for a token
              // request slot could lose its throttled checkpoint heartbeat and exchange the code twice.
              startToCloseTimeout: settings!.authorizationTimeoutMs,
              scheduleToCloseTimeout: settings!.authorizationTimeoutMs,
              summary: `authorize app ${pending.appVersion} for seller ${s.sellerId}`,
            },
            args,
          ),
        ),
      );
      if (s.authorization === pending) core.authorized(s, ctx(), result, jitter());
    } catch (err) {
      if (s.authorization === pending) core.authorizationFailed(s, ctx(), failureOf(err));
    } finally {
      changed();
    }
  }

  async function mint(action: Extract<Action, { type: 'mint' }>): Promise<void> {
    s.token.minting = true;
    changed();
    try {
      const input = {
        sellerId: s.sellerId,
        appVersion: action.appVersion,
        installationId: action.installationId,
      };
      const result = await scoped('mint', () =>
        releasingInput(input, (args) =>
          token().mintInstallationToken.executeWithOptions(
            {
              ...tokenOptions(settings!),
              summary: `mint installation token #${s.token.refreshCount + 1} (app ${action.appVersion})`,
            },
            args,
          ),
        ),
      );
      core.minted(s, ctx(), action.installationId, result, jitter());
    } catch (err) {
      core.mintFailed(s, ctx(), action.installationId, failureOf(err));
    } finally {
      changed();
    }
  }

  async function runTransfer(kind: TransferKind, full: boolean): Promise<void> {
    const t = core.transferStarted(s, kind, clock());
    changed();
    const input = {
      sellerId: s.sellerId,
      // The per-partner rate limit's key; OTTO's token may carry no partner id (docs/otto-api.md §2.4).
      partnerId: s.partnerId ?? `installation:${s.installationId ?? s.sellerId}`,
      sealedToken: s.token.sealed!,
      tokenExpiresAt: s.token.expiresAt!,
      cursor: t.cursor,
      full,
      ...(t.resume === null ? {} : { resume: t.resume }),
    };
    try {
      const result = await scoped(kind, () =>
        releasingInput(input, (args) =>
          transfers()[kind].executeWithOptions(
            {
              ...transferOptions(settings!),
              summary: `${kind}${full ? ' (full resync)' : ''} for seller ${s.sellerId}`,
            },
            args,
          ),
        ),
      );
      if (!core.isOver(s)) core.transferSucceeded(s, ctx(), kind, result);
      else t.running = false;
    } catch (err) {
      const failure = failureOf(err);
      if (!core.isOver(s)) core.transferFailed(s, ctx(), kind, failure, failure.progress);
      else t.running = false;
    } finally {
      changed();
    }
  }

  /**
   * One tick (patch jitTicks): the due transfers in one activity with the carried token; a tick that
   * must mint runs on the token queue (its rate limit caps mints across workers).
   */
  async function runTick(plan: core.TickPlan): Promise<void> {
    const installationId = s.installationId!;
    const input = {
      sellerId: s.sellerId,
      appVersion: s.appVersion!,
      installationId,
      partnerId: s.partnerId ?? `installation:${installationId}`,
      // Carried even when retired (it mints anyway): a mint that fails for a passing reason runs with it.
      token:
        s.token.sealed !== null && s.token.expiresAt !== null
          ? { sealed: s.token.sealed, expiresAt: s.token.expiresAt }
          : null,
      // A tick planned without a mint has a token valid for at least the reserve (an early tick that
      // reuses the token, seller-state.ts reuseTick, no more than that); one that mints wants the margin.
      reserveMs: plan.mints ? settings!.tokenRefreshMarginMs : core.tokenReserveMs(settings!),
      probe: plan.probe,
      ...(plan.retire === true ? { retire: true } : {}),
      retryWindowMs: settings!.transferRetryWindowMs,
      runs: plan.kinds.map(({ kind, full }) => {
        const t = s.transfers[kind]!;
        return { kind, full, cursor: t.cursor, ...(t.resume === null ? {} : { resume: t.resume }) };
      }),
      // When its transfers were due (a tick may start early: token reuse, the mint lead).
      ...(plan.kinds.length > 0
        ? { dueAt: Math.min(...plan.kinds.map(({ kind }) => s.transfers[kind]!.nextDueAt ?? clock())) }
        : {}),
    };
    core.tickStarted(s, ctx(), plan);
    changed();
    let result: TickResult;
    let cancelled = false;
    try {
      result = await scoped('tick', () =>
        releasingInput(input, (args) =>
          ticks().runTick.executeWithOptions(
            { ...tickOptions(settings!, plan.mints), summary: core.describeTick(s, plan) },
            args,
          ),
        ),
      );
    } catch (err) {
      const failure = failureOf(err);
      cancelled = failure.cancelled;
      result = core.tickResultAfterFailure(plan, failure);
    }
    core.tickFinished(s, ctx(), plan, installationId, result, cancelled);
    changed();
  }

  /**
   * The loop's timer (patch jitTicks): kept while the loop waits for the same deadline, so a tick's end
   * or a query-free change costs no cancelled and restarted timer.
   */
  interface LoopTimer {
    at: number;
    scope: CancellationScope;
    fired: boolean;
  }
  let timer: LoopTimer | null = null;
  function armTimer(at: number | null): LoopTimer | null {
    if (timer !== null && (timer.fired || timer.at !== at)) {
      if (!timer.fired) timer.scope.cancel();
      timer = null;
    }
    if (at === null || timer !== null) return timer;
    const t: LoopTimer = { at, scope: epoch.child(), fired: false };
    timer = t;
    t.scope
      .run(() => sleep(Math.max(1, at - clock()), { summary: core.describeWaiting(s) }))
      .then(
        () => {
          epoch.done();
          t.fired = true;
          firedDeadline = Math.max(firedDeadline, at);
        },
        () => epoch.done(),
      );
    return t;
  }

  function historyTooLong(): boolean {
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    return continueAsNewSuggested || historyLength > settings!.maxHistoryEvents;
  }

  // ---- the loop: ask, act, wait ---------------------------------------------------------------------

  settings = await resolveSettings();
  core.applySettings(s, ctx());
  // Deliveries still pending when the previous run continued as new start again (same ids, same window).
  for (const w of s.webhooks) if (w.status === 'pending') void webhooks.deliver(w);
  changed();

  let drainingSince: number | null = null;
  let cancelRequested = false;
  let endCancelled = false;
  // The loop's waits register no handler (scope-epoch.ts); what it starts runs in the epoch's scopes.
  await epoch.loop(async () => {
    for (;;) {
      epoch.renew();
      if (drainingSince === null && historyTooLong()) drainingSince = clock();
      if (core.isOver(s) && !endCancelled) {
        // Nothing may use the installation any more: stop whatever still runs.
        endCancelled = true;
        for (const scope of scopes.values()) scope.cancel();
      }
      const handlersFinished = allHandlersFinished();
      const action = decide(s, ctx(), {
        drainingSince,
        handlersFinished,
        cancelRequested,
        patches,
        webhooksInFlight: !webhooks.idle(),
      });
      switch (action.type) {
        case 'expireConsent':
          core.expireConsent(s, ctx());
          changed();
          continue;
        case 'authorize':
          void authorize();
          continue;
        case 'mint':
          void mint(action);
          continue;
        case 'tokenExpired':
          core.tokenExpired(s, ctx());
          changed();
          continue;
        case 'transfer':
          if (action.skip !== null) {
            core.transferSkipped(s, ctx(), action.kind, action.skip);
            changed();
          } else void runTransfer(action.kind, action.full);
          continue;
        case 'tick':
          void runTick(action.plan);
          continue;
        case 'cancelTransfers':
          cancelRequested = true;
          for (const kind of TRANSFER_KINDS) scopes.get(kind)?.cancel();
          scopes.get('tick')?.cancel();
          continue;
        case 'continueAsNew':
          log.info('continuing as new to bound history', { historyLength: workflowInfo().historyLength });
          // The next run writes its own row (a later run start replaces this one) once it has its settings.
          publishRow(null);
          return await continueAsNew<typeof sellerConnection>({
            sellerId: s.sellerId,
            overrides: s.overrides,
            carried: s,
          });
        case 'finish':
          break;
        case 'wait': {
          publishRow(action.until);
          const seen = version;
          const draining = drainingSince !== null;
          const wake = () =>
            version !== seen ||
            (!draining && historyTooLong()) ||
            (draining && allHandlersFinished() !== handlersFinished);
          if (patches.jitTicks === true) {
            const armed = armTimer(action.until);
            await epoch.wait(() => wake() || armed?.fired === true);
          } else if (action.until === null) await epoch.wait(wake);
          else {
            const woken = await epoch.wait(wake, Math.max(1, action.until - clock()), {
              summary: core.describeWaiting(s),
            });
            if (!woken) firedDeadline = Math.max(firedDeadline, action.until);
          }
          continue;
        }
      }
      break;
    }
  });

  // The last events (revoked, disconnected) reach the shop before the workflow ends; each delivery is
  // bounded by its window. The status row follows any change meanwhile and ends with the final state.
  // With handOffWebhooks the run waits for them only drainTimeoutMs, then hands what is still pending to
  // a webhookOutbox workflow of its own and ends, so the seller can connect again at once.
  const done = () => allHandlersFinished() && webhooks.idle();
  const handOffAt = patches.handOffWebhooks === true ? clock() + settings.drainTimeoutMs : null;
  for (;;) {
    publishRow(null);
    if (done()) break;
    if (handOffAt !== null && clock() >= handOffAt && allHandlersFinished()) {
      await handOffWebhooks();
      break;
    }
    const seen = version;
    const woken = () => done() || version !== seen;
    if (handOffAt === null) await condition(woken);
    else await condition(woken, Math.max(1, handOffAt - clock()));
  }
  return core.toStatus(s, settings, info());

  /** The pending webhooks go on in their own workflow (workflows/webhook-outbox.ts); this run ends. */
  async function handOffWebhooks(): Promise<void> {
    const records = s.webhooks.filter((w) => w.status === 'pending');
    const workflowId = webhookOutboxId(s.sellerId, workflowInfo().runId);
    await startChild(webhookOutbox, {
      workflowId,
      args: [{ sellerId: s.sellerId, settings: settings!, records }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `the last ${records.length} webhook(s) of seller ${s.sellerId}`,
    });
    core.recordEvent(
      s,
      clock(),
      'webhooks_handed_off',
      `${records.length} pending webhook(s) go on in workflow ${workflowId}`,
      settings!.maxEvents,
    );
    s.webhooks = s.webhooks.filter((w) => w.status !== 'pending');
    changed();
    publishRow(null);
  }
}
