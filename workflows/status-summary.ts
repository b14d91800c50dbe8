/**
 * The compact status projection (issue 15): the public status view (docs/design.md §3) without the
 * event log, the webhook deliveries and the Temporal ids. The seller workflow publishes it two ways
 * (workflows/seller-connection.ts, behind the `statusMemo` patch):
 *
 * - to its memo under {@link STATUS_MEMO_KEY} whenever its state, health, errors or results change, and
 *   at least hourly for the times that move with every tick. The memo is the source of truth inside
 *   Temporal: the connection lists and the assistant read it from visibility, and
 *   `GET /api/sellers/:id/connection` from describe when the status row below cannot be used;
 * - to the `statusRows` sink ({@link StatusSinks}) whenever its JSON changes (ticks included), at most
 *   once per loop wait: the worker writes it to the seller store's `connection_status` row before the
 *   workflow task completes, so `GET /api/sellers/:id/connection` reads one row instead of calling
 *   Temporal. A sink costs no history event and is not called while history is replayed; the row carries
 *   a `validUntil` ({@link statusRowValidUntil}) after which the API no longer trusts it (a write that
 *   failed, a run terminated from outside) and asks Temporal again.
 *
 * The full view (events, webhooks) stays the `connectionStatus` query's. The API adds `temporal` from
 * the run it read the summary from.
 *
 * Pure and plain JSON: no SDK, no zod (the API validates memo and row with its own schema, derived from
 * the status view's). It reuses `toStatus` on the state with the two lists emptied, so the projection
 * and the full view cannot drift, and building it costs a shallow copy.
 */
import type { ConnectionStatus, WorkflowSettings } from './definitions';
import { toStatus, type SellerConnection } from './seller-state';

/** The memo key the workflow writes the summary under; the API reads the same key. */
export const STATUS_MEMO_KEY = 'ottoStatus';

/** What the projection leaves out: the long lists (full view only) and what the API knows itself. */
export type StatusSummary = Omit<ConnectionStatus, 'events' | 'webhooks' | 'temporal'>;

const NO_RUN = { workflowId: '', runId: '' };

/** Run and token times and counters may lag in the memo by at most this long (they move every tick). */
export const SUMMARY_VOLATILE_REFRESH_MS = 3_600_000;

/**
 * What makes a summary worth writing at once: everything but the times and counters that move with
 * every tick (token times and count, each transfer's run times, count and detail). Writing the memo at
 * every tick would cost one history event per tick; the times are refreshed at least hourly instead
 * (`?view=full` is always live).
 */
export function summaryChangeKey(summary: StatusSummary): string {
  const { token: _token, transfers, ...rest } = summary;
  const stable = Object.fromEntries(
    Object.entries(transfers).map(([kind, t]) => [
      kind,
      { intervalMs: t.intervalMs, lastResult: t.lastResult, resumable: t.resumable },
    ]),
  );
  return JSON.stringify({ ...rest, transfers: stable });
}

export function toStatusSummary(s: SellerConnection, settings: WorkflowSettings): StatusSummary {
  const {
    events: _events,
    webhooks: _webhooks,
    temporal: _temporal,
    ...summary
  } = toStatus({ ...s, events: [], webhooks: [] }, settings, NO_RUN);
  return summary;
}

// ---- the status row (the `statusRows` sink) -------------------------------------------------------

/** The API trusts a status row at most this long after it was written (it is rewritten before then). */
export const STATUS_ROW_MAX_AGE_MS = 3_600_000;

/**
 * How long after the time the workflow means to wake up by itself its row still holds: a timer fires a
 * little late, a busy worker takes a while to run the task. A run that has not written by then is
 * suspect (stopped, terminated from outside), and the API asks Temporal instead.
 */
export const STATUS_ROW_WAKE_SLACK_MS = 60_000;

/**
 * Until when the row written now may be trusted: the next time the workflow wakes up by itself
 * (`wakeAt`, its loop's deadline; null when only a message or an activity can wake it) plus the slack,
 * never more than {@link STATUS_ROW_MAX_AGE_MS} ahead.
 */
export function statusRowValidUntil(now: number, wakeAt: number | null): number {
  const cap = now + STATUS_ROW_MAX_AGE_MS;
  return wakeAt === null ? cap : Math.min(cap, Math.max(now, wakeAt) + STATUS_ROW_WAKE_SLACK_MS);
}

/**
 * Whether an unchanged summary is written again to move its row's `validUntil` on: only when the new
 * one is later and the row has less than half the maximum age left (a waiting seller writes at most
 * twice an hour; one that wakes on a timer once per wake-up, which mostly changes the summary anyway).
 */
export function statusRowNeedsRenewal(now: number, sentValidUntil: number, validUntil: number): boolean {
  return validUntil > sentValidUntil && sentValidUntil - now < STATUS_ROW_MAX_AGE_MS / 2;
}

/** One summary handed to the sink; the worker adds the run (id, start, history length) it came from. */
export interface StatusRowUpdate {
  sellerId: string;
  /** The {@link StatusSummary} as JSON, as the row stores it. */
  summary: string;
  /** Milliseconds since the epoch: {@link statusRowValidUntil}. */
  validUntil: number;
  /**
   * Counts this run's updates from 1: orders two updates of one workflow task (same history length),
   * e.g. an activity's result and an update handled in one activation.
   */
  seq: number;
  /**
   * The connection ended (disconnected, revoked, consent expired): the worker also forgets the seller's
   * installation tokens (activities/token-vault.ts) instead of keeping them until they expire.
   */
  ended?: true;
}

/**
 * The workflow's sink for the status row (a type, not an interface: `proxySinks` wants an index
 * signature). Registered by worker/create-workers.ts with `callDuringReplay: false`.
 */
export type StatusSinks = {
  statusRows: { publish(update: StatusRowUpdate): void };
};
