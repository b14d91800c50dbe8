/**
 * The compact status projection (issue 15): the public status view (docs/design.md §3) without the
 * event log, the webhook deliveries and the Temporal ids. The seller workflow writes it to its memo
 * under {@link STATUS_MEMO_KEY} whenever its state, health, errors or results change, and at least
 * hourly for the times that move with every tick (workflows/seller-connection.ts `publish()`, behind
 * the `statusMemo` patch), so `GET /api/sellers/:id/connection`, the connection lists and the assistant
 * read it from Temporal (describe, visibility) without a round trip to a worker; the full view (events,
 * webhooks) stays the `connectionStatus` query's. The API adds `temporal` from the run it read it from.
 *
 * Pure and plain JSON: no SDK, no zod (the API validates the memo with its own schema, derived from
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
