/**
 * The last webhooks of an ended connection (patch `handOffWebhooks`): a seller's workflow whose
 * connection ended (revoked, disconnected, consent expired) waits `drainTimeoutMs` for its pending
 * deliveries, then hands what is still pending to this workflow and completes. Before, it stayed running
 * until every delivery settled (up to `webhookDeliveryWindowMs`, 3 days): with the shop's endpoint down,
 * the seller could not connect again for that long (its workflow id was taken by a run that had ended).
 * Same deliveries, same ids and payloads, same deadlines (workflows/webhook-delivery.ts); one workflow per
 * handed-off run (`otto-webhooks:<sellerId>:<runId>`), started with parent close policy ABANDON.
 */
import type { WorkflowSettings } from './definitions';
import { SCOPE_EPOCH_OPERATIONS, ScopeEpoch } from './scope-epoch';
import * as core from './seller-state';
import type { WebhookRecord } from './seller-state';
import { createWebhookDelivery } from './webhook-delivery';

export interface WebhookOutboxInput {
  sellerId: string;
  /** The ended run's settings: the delivery options and windows. */
  settings: WorkflowSettings;
  /** Its pending webhooks (each keeps its id, payload and deadline). */
  records: WebhookRecord[];
}

export interface WebhookOutboxResult {
  delivered: string[];
  failed: Array<{ eventId: string; lastError: string | null }>;
}

/** The workflow id of the outbox a seller's run hands its webhooks to. */
export function webhookOutboxId(sellerId: string, runId: string): string {
  return `otto-webhooks:${sellerId}:${runId}`;
}

export async function webhookOutbox(input: WebhookOutboxInput): Promise<WebhookOutboxResult> {
  const s = core.initialConnection(input.sellerId);
  s.webhooks = input.records.map((w) => ({ ...w, status: 'pending' as const }));
  const webhooks = createWebhookDelivery(s, {
    settings: () => input.settings,
    changed: () => undefined,
    epoch: new ScopeEpoch(SCOPE_EPOCH_OPERATIONS),
    keepFailed: true,
  });
  const settled = await Promise.all(
    [...s.webhooks].map(async (w) => {
      await webhooks.deliver(w);
      return w;
    }),
  );
  return {
    delivered: settled.filter((w) => w.status === 'delivered').map((w) => w.eventId),
    failed: settled
      .filter((w) => w.status !== 'delivered')
      .map((w) => ({ eventId: w.eventId, lastError: w.lastError })),
  };
}
