/**
 * Every `patched()` id the seller workflow uses, with the release that introduced it (docs/versioning.md).
 * A change to workflow code that alters the commands it issues goes behind a new id here; the run-start
 * flags are read once per run and handed to the pure decision core. Remove an id (deprecatePatch first)
 * only when no run recorded before it can still be replayed: see the policy.
 */
export const PATCHES = {
  jitTicks: {
    since: '0.2.0',
    why: 'tokens just in time and one activity per tick (runTick) instead of a refresh timer, mint activities and one activity per transfer; one timer per tick, never cancelled and restarted when a tick ends',
  },
  statusMemo: {
    since: '0.2.0',
    why: 'the workflow writes its compact status (workflows/status-summary.ts) to its memo whenever it changes (an upsertMemo command), so the API reads status and lists without querying a worker',
  },
  webhookDrain: {
    since: '0.2.0',
    why: 'a run draining for continue-as-new waits for its running webhook deliveries (up to drainTimeoutMs) before it continues: an attempt the shop accepted while the run closed was sent again by the next run',
  },
  keepFailedWebhooks: {
    since: '0.2.0',
    why: 'the kept settled webhooks drop delivered ones before failed ones: after an outage the failed events (which an admin may redeliver) were pushed out by the next delivered ones and lost',
  },
  handOffWebhooks: {
    since: '0.2.0',
    why: 'a run whose connection ended waits drainTimeoutMs for its pending webhooks, then starts a webhookOutbox child workflow (parent close policy ABANDON) that delivers them, and ends: it stayed running until every delivery settled (up to 3 days with the shop down), and the seller could not connect again meanwhile',
  },
  coalesceOrdersChanged: {
    since: '0.2.0',
    why: 'a new orders.changed replaces the ones still waiting for delivery (their deliveries cancelled, their order ids carried over): with the shop endpoint down for days they piled up, about 100 a day, each carried through continue-as-new and restarted by every run',
  },
  boundPendingWebhooks: {
    since: '0.2.0',
    why: 'at most maxPendingWebhooks (50) webhooks wait for delivery: a new one puts the oldest waiting one down as failed (redeliverable), its delivery cancelled. With the shop endpoint down for days, connection.state_changed and transfer.failed (a seller flapping between active and degraded, a failure whose message changes) piled up without bound, each carried through continue-as-new and restarted by every run',
  },
  shippingByAppVersion: {
    since: '0.2.0',
    why: "shipping profiles are synced on the v2 app when nothing names the installation token's scopes (OTTO documents its answer as access_token and expires_in only; OTTO_APPS may list none): such a deployment skipped them on every app, so no seller ever had them synced",
  },
  offClearsFailure: {
    since: '0.2.0',
    why: 'a transfer whose interval is switched off (applySettings) while it is failing clears its failure: it never runs again to clear it, so the seller stayed degraded for good',
  },
} as const satisfies Record<string, { since: string; why: string }>;

/** A patch id: only the ids declared above can be asked for. */
export type PatchId = keyof typeof PATCHES;
