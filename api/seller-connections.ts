/**
 * The port through which the API talks to sellers' connections, and its Temporal implementation: the only
 * file that touches the Temporal client. Handlers and tests depend on the interface; every Temporal
 * failure is translated here into a SellerConnectionError so HTTP mapping stays in one place.
 */
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  QueryNotRegisteredError,
  WithStartWorkflowOperation,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
// Decodes a raw visibility row (memo, search attributes) as client.workflow.list() does; the raw call is
// needed for Temporal's page token, which list() keeps to itself.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { ApplicationFailure, defaultPayloadConverter, WorkflowNotFoundError } from '@temporalio/common';
import {
  applySettingsUpdate,
  beginConsentUpdate,
  consentCallbackUpdate,
  connectionStatusQuery,
  disconnectUpdate,
  FailureTypes,
  pauseUpdate,
  redeliverWebhookUpdate,
  resumeUpdate,
  runTransferNowUpdate,
  searchAttributes,
  sellerWorkflowId,
  WORKFLOW_ID_PREFIX,
  WORKFLOW_TYPE,
  type AppVersion,
  type AuthorizationCallback,
  type BeginConsentInput,
  type BeginConsentResult,
  type CommandResult,
  type ConsentCallbackResult,
  type ConnectionState,
  type ConnectionStatus,
  type RedeliverWebhookResult,
  type SellerConnectionInput,
  type SettingsOverrides,
  type TransferKind,
} from '../workflows/definitions';
import { appVersionSchema, connectionStateSchema } from '../common/workflow-schemas';
import { STATUS_MEMO_KEY, type StatusSummary } from '../workflows/status-summary';
import type { ConnectionStatusReader } from '../store/seller-store';
import {
  ENDED_STATES,
  endedRunsQuery,
  isEndedState,
  latestRun,
  listPhases,
  LIVE_STATES,
  newestCandidates,
  runningQuery,
  runsOfWorkflowsQuery,
  WORKFLOW_ID_BATCH,
  type EndedState,
  type ListPhase,
  type VisibilityScope,
} from '../workflows/visibility-queries';
import { SellerConnectionError } from './connection-errors';
import { statusSummarySchema } from './http-schemas';
import { createListCursors, type ListPosition } from './list-cursor';

export interface TemporalLink {
  workflowId: string;
  runId: string;
  /** Opens this run's history in the Temporal UI. */
  uiUrl: string;
}

/** The public status view of docs/design.md §3 plus a link into the Temporal UI (`?view=full`). */
export interface StatusView extends Omit<ConnectionStatus, 'temporal'> {
  temporal: TemporalLink;
}

/**
 * The status summary (workflows/status-summary.ts: the status view without events and webhooks) of
 * the seller's latest run, with a link to that run: what GET …/connection and the assistant show.
 */
export interface StatusSummaryView extends StatusSummary {
  temporal: TemporalLink;
}

/** One seller's connection as visibility (search attributes) sees it; cheap, no worker needed. */
export interface ConnectionSummary {
  sellerId: string;
  state: ConnectionState | null;
  appVersion: AppVersion | null;
  partnerId: string | null;
  /** Whether the workflow still runs; ended connections (revoked, disconnected, expired) do not. */
  running: boolean;
  executionStatus: string;
  startedAt: string;
  closedAt: string | null;
  temporal: TemporalLink;
  /** The status summary this run last wrote to its memo; null for runs started before release 0.2.0. */
  status: StatusSummary | null;
}

/** The answer of `applySettings`: how many running sellers were found, how many took the update. */
export interface ApplySettingsOutcome {
  /** Running seller workflows found. */
  matched: number;
  /** Of those, how many re-resolved their settings. */
  applied: number;
  /** The others, each with the reason (ended meanwhile, handler missing in an old run, Temporal errors). */
  failed: Array<{ sellerId: string; message: string }>;
}

/** How many applySettings updates are in flight at once. */
export const APPLY_SETTINGS_CONCURRENCY = 8;
/** applySettings sends no more updates after this many sellers in a row did not answer in time. */
export const APPLY_SETTINGS_GIVE_UP_AFTER_TIMEOUTS = 2 * APPLY_SETTINGS_CONCURRENCY;

export interface ListFilter {
  state?: ConnectionState;
  /** At most this many items (a page may hold fewer: only `nextCursor: null` ends the list). */
  pageSize: number;
  /** The previous page's `nextCursor`; absent for the first page. */
  cursor?: string;
}

export interface ConnectionPage {
  items: ConnectionSummary[];
  /** Where the next page starts (opaque, api/list-cursor.ts); null after the last page. */
  nextCursor: string | null;
}

/**
 * How many visibility calls one page may take before it is answered with fewer items than asked (and a
 * cursor): ended sellers' candidates can be filtered out page after page (sellers that reconnected),
 * and one request must stay bounded.
 */
export const MAX_LIST_CALLS_PER_PAGE = 10;

export interface SellerConnections {
  /** Update-with-start: creates the seller's workflow when none runs, then begins consent in it. */
  beginConsent(input: BeginConsentInput): Promise<BeginConsentResult>;
  /**
   * Hands OTTO's (verified) callback to the seller's workflow as an update: its validator gives the
   * verdict (SellerConnectionError 'callback_replayed' / 'callback_stale'), the same on every replica.
   */
  deliverCallback(sellerId: string, callback: AuthorizationCallback): Promise<ConsentCallbackResult>;
  /**
   * The status summary of the seller's latest run, running or ended: from its status row in the seller
   * store while that is valid (no Temporal call), otherwise from its memo (Temporal's describe, no worker
   * involved); a run without one (started before release 0.2.0) is asked with the query.
   * SellerConnectionError('not_connected') when the seller never connected.
   */
  status(sellerId: string): Promise<StatusSummaryView>;
  /** The full status view (events, webhooks): the workflow's query, answered by a worker. */
  fullStatus(sellerId: string): Promise<StatusView>;
  /** The latest run's summary, or null when the seller never connected. */
  summary(sellerId: string): Promise<ConnectionSummary | null>;
  /**
   * Each seller once: its running run (live states), or its latest closed run when that ended the
   * connection (revoked, disconnected, consent_expired) and the seller has not reconnected since.
   * Running sellers first, then ended ones, a page at a time (visibility rows: search attributes and
   * memo, no worker involved). SellerConnectionError('invalid_cursor') for a cursor it did not issue.
   */
  list(filter: ListFilter): Promise<ConnectionPage>;
  disconnect(sellerId: string, reason?: string): Promise<CommandResult>;
  pause(sellerId: string, reason?: string): Promise<CommandResult>;
  resume(sellerId: string): Promise<CommandResult>;
  runTransferNow(sellerId: string, kind: TransferKind): Promise<CommandResult>;
  /** Sends a recorded webhook again with the same id; SellerConnectionError('webhook_not_found') if unknown. */
  redeliverWebhook(sellerId: string, eventId: string): Promise<RedeliverWebhookResult>;
  /**
   * Every running seller workflow re-resolves its settings from the worker's current configuration now
   * (the `applySettings` update with `{}`, a few at a time); SellerConnectionError('unavailable' or
   * 'timed_out') when Temporal cannot list them.
   */
  applySettings(): Promise<ApplySettingsOutcome>;
  /** Resolves when Temporal answers; SellerConnectionError('unavailable' or 'timed_out') otherwise. */
  ping(): Promise<void>;
  /**
   * Sellers per OttoConnectionState, each seller once (for /metrics): running workflows for live
   * states, sellers whose latest run ended in that state for ended ones (see visibility-queries.ts).
   */
  countByState(): Promise<Record<ConnectionState, number>>;
}

// ---- Temporal ------------------------------------------------------------------------------------

/** The workflow's signature as the starter sees it; the implementation stays out of the API's imports. */
type SellerConnectionWorkflow = (input: SellerConnectionInput) => Promise<ConnectionStatus>;

export interface TemporalClientOptions {
  address: string;
  namespace: string;
}

/**
 * A lazy connection, so the API starts (and answers 503) while Temporal is down and recovers by itself
 * once it is back. Few gRPC retries and a short reconnect backoff: the caller gets a quick, clear 503
 * instead of the SDK's default ~20 s of retrying, and a restarted server is noticed within seconds.
 */
export function createTemporalClient(options: TemporalClientOptions): {
  client: Client;
  close(): Promise<void>;
} {
  const connection = Connection.lazy({
    address: options.address,
    connectTimeout: '5s',
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3 }))],
    channelArgs: {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
    },
  });
  return {
    client: new Client({ connection, namespace: options.namespace }),
    close: () => connection.close(),
  };
}

export interface TemporalSellerConnectionsOptions {
  client: Client;
  taskQueue: string;
  /** TEMPORAL_UI_URL without a trailing slash. */
  uiUrl: string;
  /**
   * Each new seller workflow's settings overrides (its input; the worker resolves everything else).
   * Production: none. Tests shorten lifetimes with them.
   */
  overrides?: SettingsOverrides;
  callTimeoutMs: number;
  /**
   * Narrows lists and counts to seller workflows on `taskQueue` (tests on the shared dev server);
   * default: every seller workflow in the namespace.
   */
  scopeToTaskQueue?: boolean;
  /**
   * Signs the list cursors (list-cursor.ts `listCursorKey(STATE_SIGNING_KEY)`): every API replica must
   * have the same. Default: a random key, so cursors work on this process only.
   */
  cursorKey?: string | Buffer;
  /**
   * The seller store's status rows (issue 15: the summary each seller workflow publishes through its
   * worker, workflows/status-summary.ts): `status()` answers from a valid row without calling Temporal.
   * Without it, every status is Temporal's describe.
   */
  statusRows?: ConnectionStatusReader;
  /** The clock rows' validUntil is compared with (tests). */
  now?: () => number;
}

/**
 * The server refuses an update whose workflow task failed or timed out (a worker restarting, or a busy
 * one missing the task deadline); nothing was applied and the task is retried, so asking again is safe.
 */
export function isTransientUpdateFailure(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.message.includes('unexpected workflow task failure')) return true;
  }
  return false;
}

/**
 * What a call was: a read (describe, query, list) changes nothing whatever happens; a command (an update)
 * that got no answer in time may still be applied by the workflow.
 */
type CallKind = 'read' | 'command';

const UNREACHABLE_MESSAGE =
  'The workflow service (Temporal) is unreachable. Nothing was changed; please try again shortly.';
const BUSY_MESSAGE =
  'The workflow service (Temporal) is busy (too many requests for this seller at once, or a rate limit). Nothing was changed; please try again shortly.';
const READ_TIMEOUT_MESSAGE =
  'The workflow service (Temporal) or the seller’s worker did not answer in time; please try again shortly.';
const commandTimeoutMessage = (sellerId: string | undefined) =>
  'The workflow service (Temporal) or the seller’s worker did not answer in time. The command may still take effect: ' +
  `check the connection status (GET /api/sellers/${sellerId ?? '{sellerId}'}/connection) before sending it again.`;

export function createTemporalSellerConnections(
  options: TemporalSellerConnectionsOptions,
): SellerConnections {
  const { client, taskQueue, callTimeoutMs } = options;
  const overrides: SettingsOverrides = options.overrides ?? {};
  const namespace = client.options.namespace;
  const scope: VisibilityScope = options.scopeToTaskQueue ? { taskQueue } : {};
  const cursors = createListCursors(options.cursorKey);
  const now = options.now ?? Date.now;

  const link = (workflowId: string, runId: string): TemporalLink => ({
    workflowId,
    runId,
    uiUrl: `${options.uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`,
  });

  async function call<T>(kind: CallKind, sellerId: string | undefined, work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + callTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.connection.withDeadline(deadline, work);
      } catch (err) {
        // The server refuses an update whose workflow task failed or timed out (a worker restarting or
        // overloaded); nothing was applied, so asking again shortly is safe.
        if (attempt < 4 && isTransientUpdateFailure(err) && Date.now() + 250 * attempt < deadline) {
          await new Promise((r) => setTimeout(r, 250 * attempt));
          continue;
        }
        throw translate(err, sellerId, kind);
      }
    }
  }

  async function summary(sellerId: string): Promise<ConnectionSummary | null> {
    try {
      const description = await call('read', sellerId, () =>
        client.workflow.getHandle(sellerWorkflowId(sellerId)).describe(),
      );
      return toSummary(description, link);
    } catch (err) {
      if (err instanceof SellerConnectionError && err.kind === 'not_connected') return null;
      throw err;
    }
  }

  /** Commands on an ended run fail with "not found": tell "never connected" and "ended" apart. */
  async function command<T>(sellerId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await call('command', sellerId, work);
    } catch (err) {
      if (!(err instanceof SellerConnectionError) || err.kind !== 'not_connected') throw err;
      const found = await summary(sellerId);
      if (found === null) throw err;
      throw new SellerConnectionError(
        'connection_ended',
        `the connection of seller ${sellerId} has ended (${found.state ?? found.executionStatus.toLowerCase()}); start a new one with "Allow access"`,
      );
    }
  }

  /** beginConsent on the seller's workflow id: a running run takes it, an ended one is replaced. */
  async function startConsent(input: BeginConsentInput): Promise<BeginConsentResult> {
    return await call('command', input.sellerId, async () => {
      const startWorkflowOperation = new WithStartWorkflowOperation<SellerConnectionWorkflow>(WORKFLOW_TYPE, {
        workflowId: sellerWorkflowId(input.sellerId),
        taskQueue,
        args: [{ sellerId: input.sellerId, overrides }],
        // A running workflow takes the update; an ended one is replaced by a fresh run with the same id.
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [{ key: searchAttributes.sellerId, value: input.sellerId }],
      });
      return await client.workflow.executeUpdateWithStart(beginConsentUpdate, {
        args: [input],
        startWorkflowOperation,
      });
    });
  }

  /** Waits (a long poll, not a sleep) until the seller's latest run closes: true, or false at the deadline. */
  async function untilRunCloses(sellerId: string, deadline: number): Promise<boolean> {
    try {
      await client.connection.withDeadline(deadline, () => handle(sellerId).result());
      return true;
    } catch (err) {
      if (err instanceof WorkflowFailedError) return true; // closed all the same (failed, terminated …)
      if (temporalOutage(err) !== undefined) return false;
      throw translate(err, sellerId, 'read');
    }
  }

  const handle = (sellerId: string) =>
    client.workflow.getHandle<SellerConnectionWorkflow>(sellerWorkflowId(sellerId));

  /**
   * The seller's status row when it can stand in for describe: present, still valid, and a summary of
   * this seller that passes the memo's schema. Otherwise null, and the caller asks Temporal: a row that
   * is missing (a run before this release, a seller that never connected), past its validUntil (its run
   * stopped writing: a failed write, a run terminated from outside), unreadable, or a store that fails.
   */
  async function statusFromRow(sellerId: string): Promise<StatusSummaryView | null> {
    if (options.statusRows === undefined) return null;
    let row;
    try {
      row = await options.statusRows.getConnectionStatus(sellerId);
    } catch {
      // The store is only a shortcut: Temporal still answers.
      return null;
    }
    if (row === null || row.validUntil <= now()) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.summary);
    } catch {
      return null;
    }
    const summary = summaryOf(parsed);
    if (summary === null || summary.sellerId !== sellerId) return null;
    return { ...summary, temporal: link(sellerWorkflowId(sellerId), row.runId) };
  }

  async function fullStatus(sellerId: string): Promise<StatusView> {
    const status = await call('read', sellerId, () => handle(sellerId).query(connectionStatusQuery));
    return { ...status, temporal: link(status.temporal.workflowId, status.temporal.runId) };
  }

  /**
   * The pending deliveries as Temporal sees them now: attempts so far and the last error. The workflow
   * learns them only when a delivery settles (Temporal retries it meanwhile), so without this a delivery
   * the shop has refused for hours showed `attempts: 0, lastError: null`. Best effort: the query's view
   * stays as it is when the description cannot be read.
   */
  async function withDeliveryAttempts(sellerId: string, view: StatusView): Promise<StatusView> {
    if (!view.webhooks.some((w) => w.status === 'pending')) return view;
    let pending;
    try {
      pending = (await call('read', sellerId, () => handle(sellerId).describe())).raw.pendingActivities ?? [];
    } catch {
      return view;
    }
    const live = new Map<string, { attempts: number; lastError: string | null }>();
    for (const activity of pending) {
      if (activity.activityType?.name !== 'deliverWebhook') continue;
      const payload = activity.heartbeatDetails?.payloads?.[0];
      let eventId: unknown;
      try {
        eventId = payload
          ? defaultPayloadConverter.fromPayload<{ eventId?: unknown } | null>(payload)?.eventId
          : undefined;
      } catch {
        continue;
      }
      if (typeof eventId !== 'string') continue;
      // `attempt` is the one running or waiting for its turn: those before it failed.
      live.set(eventId, {
        attempts: Math.max(0, (activity.attempt ?? 1) - 1),
        lastError: activity.lastFailure?.message ?? null,
      });
    }
    return {
      ...view,
      webhooks: view.webhooks.map((w) => {
        const now = w.status === 'pending' ? live.get(w.eventId) : undefined;
        return now === undefined
          ? w
          : { ...w, attempts: w.attempts + now.attempts, lastError: now.lastError ?? w.lastError };
      }),
    };
  }

  /** The visibility query of one part of a list; `state` belongs to that part (listPhases). */
  function phaseQuery(phase: ListPhase, state: ConnectionState | undefined): string {
    if (phase === 'running') {
      if (state !== undefined && isEndedState(state)) throw new Error(`${state} is not a running state`);
      return runningQuery(state, scope);
    }
    if (state !== undefined && !isEndedState(state)) throw new Error(`${state} is not an ended state`);
    return endedRunsQuery(state, scope);
  }

  /** One page of Temporal's list, with its page token (client.workflow.list() keeps it to itself). */
  async function listPage(
    query: string,
    pageSize: number,
    nextPageToken: Uint8Array | undefined,
  ): Promise<{ infos: WorkflowExecutionInfo[]; nextPageToken: Uint8Array | undefined }> {
    return await call('read', undefined, async () => {
      let response;
      try {
        response = await client.workflowService.listWorkflowExecutions({
          namespace,
          query,
          pageSize,
          nextPageToken: nextPageToken ?? null,
        });
      } catch (err) {
        // Our cursors are signed, so the token is Temporal's own: refused only if Temporal changed since.
        if (nextPageToken !== undefined && (err as { code?: unknown }).code === 3 /* INVALID_ARGUMENT */) {
          throw new SellerConnectionError(
            'invalid_cursor',
            'Temporal no longer accepts this page; start the list again without a cursor',
            { cause: err },
          );
        }
        throw err;
      }
      const infos = await Promise.all(
        response.executions.map((raw) =>
          executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, namespace),
        ),
      );
      const token = response.nextPageToken;
      return { infos, nextPageToken: token && token.length > 0 ? token : undefined };
    });
  }

  /** Step 2 of ended states for one page of candidates (visibility-queries.ts): each seller's newest only. */
  async function newestOfTheirSellers(candidates: WorkflowExecutionInfo[]): Promise<WorkflowExecutionInfo[]> {
    const workflowIds = [...new Set(candidates.map((c) => c.workflowId))];
    const since = oldestClose(candidates);
    const batches: string[][] = [];
    for (let i = 0; i < workflowIds.length; i += WORKFLOW_ID_BATCH)
      batches.push(workflowIds.slice(i, i + WORKFLOW_ID_BATCH));
    const runs = await call('read', undefined, async () =>
      (
        await Promise.all(
          batches.map(async (ids) => {
            const out: WorkflowExecutionInfo[] = [];
            for await (const info of client.workflow.list({ query: runsOfWorkflowsQuery(ids, scope, since) }))
              out.push(info);
            return out;
          }),
        )
      ).flat(),
    );
    return newestCandidates(candidates, runs);
  }

  return {
    async beginConsent(input) {
      const deadline = Date.now() + callTimeoutMs;
      try {
        return await startConsent(input);
      } catch (err) {
        if (!(err instanceof SellerConnectionError) || err.kind !== 'connection_ended') throw err;
        // The previous connection is over but its run is still finishing (a disconnect a moment ago):
        // once it closes, the same request starts a fresh run.
        if (!(await untilRunCloses(input.sellerId, deadline))) {
          throw new SellerConnectionError(
            'connection_ended',
            `the previous connection of seller ${input.sellerId} is still closing; try again in a moment`,
            { cause: err },
          );
        }
        return await startConsent(input);
      }
    },

    async deliverCallback(sellerId, callback) {
      return await command(sellerId, () =>
        handle(sellerId).executeUpdate(consentCallbackUpdate, { args: [callback] }),
      );
    },

    async status(sellerId) {
      // The common case: the row the seller's workflow keeps current in the store (at most one row read).
      const fromRow = await statusFromRow(sellerId);
      if (fromRow !== null) return fromRow;
      // The latest run, running or ended, as getHandle without a run id names it (like the query did).
      const description = await call('read', sellerId, () => handle(sellerId).describe());
      const memo = statusOf(description.memo);
      if (memo !== null) return { ...memo, temporal: link(description.workflowId, description.runId) };
      // No summary in the memo: a run started before the statusMemo patch (release 0.2.0), or one that
      // has not finished its first workflow task yet. Its worker answers the query instead.
      const { events: _events, webhooks: _webhooks, ...rest } = await fullStatus(sellerId);
      return rest;
    },

    fullStatus: async (sellerId) => await withDeliveryAttempts(sellerId, await fullStatus(sellerId)),

    summary,

    async list({ state, pageSize, cursor }) {
      // `state` is a validated enum value; the builders refuse anything else inside a query.
      const filter = state ?? '';
      const phases = listPhases(state);
      let position: ListPosition =
        cursor === undefined
          ? { phase: phases[0]!, token: undefined }
          : cursors.decode(cursor, filter, phases);
      const items: ConnectionSummary[] = [];
      for (let calls = 1; ; calls++) {
        const want = pageSize - items.length;
        const page = await listPage(phaseQuery(position.phase, state), want, position.token);
        if (position.phase === 'running') {
          keepNewestRunning(
            items,
            page.infos.map((info) => toSummary(info, link)),
          );
        } else {
          const summaries = (await newestOfTheirSellers(page.infos)).map((info) => toSummary(info, link));
          // A run that closed while this page was being read was listed as running a moment ago: its
          // closed state is the newer news (across pages such a seller may still show twice).
          const ended = new Set(summaries.map((s) => s.sellerId));
          for (let i = items.length - 1; i >= 0; i--) if (ended.has(items[i]!.sellerId)) items.splice(i, 1);
          items.push(...summaries);
        }
        if (page.nextPageToken !== undefined) position = { ...position, token: page.nextPageToken };
        else {
          const next = phases[phases.indexOf(position.phase) + 1];
          if (next === undefined) return { items, nextCursor: null };
          position = { phase: next, token: undefined };
        }
        if (items.length >= pageSize || calls >= MAX_LIST_CALLS_PER_PAGE)
          return { items, nextCursor: cursors.encode(filter, position) };
      }
    },

    async disconnect(sellerId, reason) {
      return await command(sellerId, () =>
        handle(sellerId).executeUpdate(disconnectUpdate, { args: [withReason(reason)] }),
      );
    },
    async pause(sellerId, reason) {
      return await command(sellerId, () =>
        handle(sellerId).executeUpdate(pauseUpdate, { args: [withReason(reason)] }),
      );
    },
    async resume(sellerId) {
      return await command(sellerId, () => handle(sellerId).executeUpdate(resumeUpdate, { args: [] }));
    },
    async runTransferNow(sellerId, kind) {
      return await command(sellerId, () =>
        handle(sellerId).executeUpdate(runTransferNowUpdate, { args: [{ kind }] }),
      );
    },
    async redeliverWebhook(sellerId, eventId) {
      return await command(sellerId, () =>
        handle(sellerId).executeUpdate(redeliverWebhookUpdate, { args: [{ eventId }] }),
      );
    },

    async applySettings() {
      // Page by page, each page within the call timeout: a large fleet is listed in several calls. A set:
      // a seller that just continued as new may be listed with both runs for a moment.
      const running = new Set<string>();
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await call('read', undefined, () =>
          client.workflowService.listWorkflowExecutions({
            namespace,
            query: runningQuery(undefined, scope),
            pageSize: 1000,
            nextPageToken,
          }),
        );
        for (const execution of page.executions) {
          const workflowId = execution.execution?.workflowId;
          if (workflowId?.startsWith(WORKFLOW_ID_PREFIX))
            running.add(workflowId.slice(WORKFLOW_ID_PREFIX.length));
        }
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
      const sellerIds = [...running];
      const failed: ApplySettingsOutcome['failed'] = [];
      let applied = 0;
      let next = 0;
      // Workers that answer nobody (stopped, or another TASK_QUEUE): each update waits the whole call
      // timeout, and a fleet of hundreds kept the request open for many minutes. After this many timeouts
      // in a row nothing more is sent; the rest are reported as not tried (they take the settings at their
      // next run anyway).
      let timeoutsInRow = 0;
      let stopped: string | undefined;
      const worker = async () => {
        while (next < sellerIds.length && stopped === undefined) {
          const sellerId = sellerIds[next++]!;
          try {
            await call('command', sellerId, () =>
              handle(sellerId).executeUpdate(applySettingsUpdate, { args: [{}] }),
            );
            applied++;
            timeoutsInRow = 0;
          } catch (err) {
            const ended = err instanceof SellerConnectionError && err.kind === 'not_connected';
            const message = ended
              ? 'the workflow ended before the update reached it'
              : err instanceof Error
                ? err.message
                : String(err);
            failed.push({ sellerId, message });
            const timedOut = err instanceof SellerConnectionError && err.kind === 'timed_out';
            timeoutsInRow = timedOut ? timeoutsInRow + 1 : 0;
            if (timeoutsInRow >= APPLY_SETTINGS_GIVE_UP_AFTER_TIMEOUTS)
              stopped = `not tried: ${timeoutsInRow} sellers in a row did not answer in time (are the workers running, on this TASK_QUEUE?); it takes the settings at its next run, or apply again`;
          }
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(APPLY_SETTINGS_CONCURRENCY, sellerIds.length) }, worker),
      );
      if (stopped !== undefined)
        for (const sellerId of sellerIds.slice(next)) failed.push({ sellerId, message: stopped });
      failed.sort((a, b) => a.sellerId.localeCompare(b.sellerId));
      return { matched: sellerIds.length, applied, failed };
    },

    async ping() {
      await call('read', undefined, () => client.workflowService.describeNamespace({ namespace }));
    },

    async countByState() {
      return await call('read', undefined, async () => {
        // Live states: one count() each (GROUP BY only supports ExecutionStatus). One running run per
        // seller, except for the moment after a continue-as-new when visibility may still show the old
        // run as running too: a gauge may count such a seller twice for that moment (a count cannot
        // tell the runs apart; the lists do).
        const live = await Promise.all(
          LIVE_STATES.map(
            async (state) =>
              [state, (await client.workflow.count(runningQuery(state, scope))).count] as const,
          ),
        );
        // Ended states: sellers whose latest run ended in that state (a scan, see visibility-queries.ts).
        const ended = Object.fromEntries(ENDED_STATES.map((state) => [state, 0])) as Record<
          EndedState,
          number
        >;
        for await (const info of latestEndedRuns(undefined, Infinity)) {
          const state = connectionStateSchema.safeParse(
            info.typedSearchAttributes.get(searchAttributes.connectionState),
          );
          if (state.success && isEndedState(state.data)) ended[state.data]++;
        }
        return { ...Object.fromEntries(live), ...ended } as Record<ConnectionState, number>;
      });
    },
  };

  /**
   * Each seller's latest closed run in `state` (any ended state when undefined), skipping sellers that
   * run again or whose newer run ended otherwise: candidates from a scan of closed ended-state runs,
   * checked in batches against all their workflows' runs. For the counts (the lists page instead).
   */
  async function* latestEndedRuns(state: EndedState | undefined, limit: number) {
    if (limit <= 0) return;
    const seen = new Set<string>();
    let batch: string[] = [];
    let batchSince: Date | undefined;
    let yielded = 0;
    async function* check(workflowIds: string[]) {
      const runs: WorkflowExecutionInfo[] = [];
      const query = runsOfWorkflowsQuery(workflowIds, scope, batchSince);
      for await (const info of client.workflow.list({ query })) runs.push(info);
      for (const run of latestRun(runs).values()) {
        // Live: running, or continued as new with its successor not visible yet.
        if (run.status.name === 'RUNNING' || run.status.name === 'CONTINUED_AS_NEW') continue;
        const runState = connectionStateSchema.safeParse(
          run.typedSearchAttributes.get(searchAttributes.connectionState),
        );
        if (!runState.success || !isEndedState(runState.data)) continue;
        if (state !== undefined && runState.data !== state) continue;
        yield run;
      }
    }
    for await (const candidate of client.workflow.list({
      query: endedRunsQuery(state, scope),
      pageSize: 1000,
    })) {
      if (seen.has(candidate.workflowId)) continue;
      seen.add(candidate.workflowId);
      batch.push(candidate.workflowId);
      batchSince = oldestClose([candidate], batchSince);
      if (batch.length < WORKFLOW_ID_BATCH) continue;
      for await (const run of check(batch)) {
        yield run;
        if (++yielded >= limit) return;
      }
      batch = [];
      batchSince = undefined;
    }
    if (batch.length > 0) {
      for await (const run of check(batch)) {
        yield run;
        if (++yielded >= limit) return;
      }
    }
  }
}

/** The earliest close time among `runs` (and `than`), or undefined when none has one. */
function oldestClose(runs: readonly WorkflowExecutionInfo[], than?: Date): Date | undefined {
  let oldest = than;
  for (const run of runs)
    if (run.closeTime !== undefined && (oldest === undefined || run.closeTime < oldest))
      oldest = run.closeTime;
  return oldest;
}

function withReason(reason: string | undefined): { reason?: string } {
  return reason === undefined ? {} : { reason };
}

/** The status summary a run wrote to its memo (workflows/status-summary.ts), or null: none, or unreadable. */
function statusOf(memo: Record<string, unknown> | undefined): StatusSummary | null {
  const found = memo?.[STATUS_MEMO_KEY];
  return found === undefined ? null : summaryOf(found);
}

/** A status summary (from a memo or a status row) as the API's schema reads it, or null if it does not. */
function summaryOf(value: unknown): StatusSummary | null {
  const parsed = statusSummarySchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * Adds running rows to a list page, each seller once: for a moment after a continue-as-new, visibility
 * may show the old run as running next to the new one, and the run started last is the seller's. Only
 * rows of this page are compared: asking visibility again would drop a seller whose run continued as new
 * between the two reads (its new run sorts before the walk's position), which is worse than showing it
 * twice across pages for that moment.
 */
function keepNewestRunning(items: ConnectionSummary[], running: readonly ConnectionSummary[]): void {
  const at = new Map<string, number>();
  items.forEach((item, i) => {
    if (item.running) at.set(item.sellerId, i);
  });
  for (const row of running) {
    const i = at.get(row.sellerId);
    if (i === undefined) {
      at.set(row.sellerId, items.push(row) - 1);
    } else if (Date.parse(row.startedAt) > Date.parse(items[i]!.startedAt)) {
      items[i] = row;
    }
  }
}

function toSummary(
  info: WorkflowExecutionInfo | WorkflowExecutionDescription,
  link: (workflowId: string, runId: string) => TemporalLink,
): ConnectionSummary {
  const attrs = info.typedSearchAttributes;
  const state = connectionStateSchema.safeParse(attrs.get(searchAttributes.connectionState));
  const version = appVersionSchema.safeParse(attrs.get(searchAttributes.appVersion));
  return {
    sellerId: attrs.get(searchAttributes.sellerId) ?? info.workflowId.replace(/^otto-seller:/, ''),
    state: state.success ? state.data : null,
    appVersion: version.success ? version.data : null,
    partnerId: attrs.get(searchAttributes.partnerId) ?? null,
    running: info.status.name === 'RUNNING',
    executionStatus: info.status.name,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString() ?? null,
    temporal: link(info.workflowId, info.runId),
    status: statusOf(info.memo),
  };
}

/** gRPC status codes: the call never reached Temporal, or got no answer before its deadline. */
const UNREACHABLE_CODES = new Set([14 /* UNAVAILABLE */]);
/** Temporal refused the call for load: too many updates in flight for the workflow, a rate limit. */
const BUSY_CODES = new Set([8 /* RESOURCE_EXHAUSTED */]);
const NO_ANSWER_CODES = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */]);

/** The error and the errors it wraps (`cause`), outermost first. */
function causeChain(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  return chain;
}

/**
 * Why Temporal gave no answer, if that is what `err` says: `unreachable` (no connection: refused, no
 * route, UNAVAILABLE), so the request never took effect; `no_answer` (its deadline passed or it was
 * cancelled while Temporal or a worker was working on it), so a command may still be applied; `busy`
 * (RESOURCE_EXHAUSTED: Temporal refused it for load, e.g. more than its limit of updates in flight for
 * one workflow), so it did not take effect. Undefined for every other error. A connection failure anywhere
 * in the chain wins, then a refusal for load.
 */
export function temporalOutage(err: unknown): 'unreachable' | 'busy' | 'no_answer' | undefined {
  const chain = causeChain(err);
  const codeOf = (e: Error) => (e as { code?: unknown }).code;
  if (
    chain.some((e) => {
      const code = codeOf(e);
      return (
        (typeof code === 'number' && UNREACHABLE_CODES.has(code)) ||
        e.name === 'TransportError' ||
        /ECONNREFUSED|No connection established/.test(e.message)
      );
    })
  )
    return 'unreachable';
  if (
    chain.some((e) => {
      const code = codeOf(e);
      return typeof code === 'number' && BUSY_CODES.has(code);
    })
  )
    // Refused while polling for an update's outcome: the update itself was accepted and may be applied.
    return chain.some((e) => e.message.startsWith('Workflow Update Poll failed')) ? 'no_answer' : 'busy';
  if (
    chain.some((e) => {
      const code = codeOf(e);
      return (
        e instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
        (typeof code === 'number' && NO_ANSWER_CODES.has(code))
      );
    })
  )
    return 'no_answer';
  return undefined;
}

function translate(err: unknown, sellerId: string | undefined, kind: CallKind): unknown {
  if (err instanceof SellerConnectionError) return err;
  if (err instanceof WorkflowNotFoundError) {
    return new SellerConnectionError('not_connected', `seller ${sellerId ?? '?'} never connected`, {
      cause: err,
    });
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const failure = err.cause;
    switch (failure.type) {
      case FailureTypes.alreadyConnected:
        return new SellerConnectionError('already_connected', failure.message, { cause: err });
      case FailureTypes.invalidTransition:
        return new SellerConnectionError('invalid_transition', failure.message, { cause: err });
      case FailureTypes.connectionEnded:
        return new SellerConnectionError('connection_ended', failure.message, { cause: err });
      case FailureTypes.invalidInput:
        return new SellerConnectionError('invalid_input', failure.message, { cause: err });
      case FailureTypes.callbackReplayed:
        return new SellerConnectionError('callback_replayed', failure.message, { cause: err });
      case FailureTypes.callbackStale:
        return new SellerConnectionError('callback_stale', failure.message, { cause: err });
      case FailureTypes.webhookNotFound:
        return new SellerConnectionError('webhook_not_found', failure.message, { cause: err });
    }
    if (failure.message.startsWith('No registered handler for update')) {
      return new SellerConnectionError(
        'not_supported',
        'the running seller workflow does not handle this command yet (no handler registered for it)',
        { cause: err },
      );
    }
  }
  if (err instanceof QueryNotRegisteredError) {
    return new SellerConnectionError(
      'not_supported',
      'the running seller workflow does not answer this query',
      { cause: err },
    );
  }
  switch (temporalOutage(err)) {
    case 'unreachable':
      return new SellerConnectionError('unavailable', UNREACHABLE_MESSAGE, { cause: err });
    case 'busy':
      return new SellerConnectionError('busy', BUSY_MESSAGE, { cause: err });
    case 'no_answer':
      return new SellerConnectionError(
        'timed_out',
        kind === 'read' ? READ_TIMEOUT_MESSAGE : commandTimeoutMessage(sellerId),
        { cause: err },
      );
  }
  return err;
}
