/**
 * Webhooks to the shop (Standard Webhooks, at least once): the state's announcements (its outbox) become
 * records with deterministic ids, each delivered by an activity beside the main loop; the payload stays
 * in the state for retries after continue-as-new and for an admin's redelivery.
 */
import { type CancellationScope, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhook-activities';
import { failureOf, releasingInput, webhookOptions } from './activity-options';
import type { WorkflowSettings } from './definitions';
import type { ScopeEpoch } from './scope-epoch';
import * as core from './seller-state';
import type { SellerConnection, WebhookRecord } from './seller-state';

export function createWebhookDelivery(
  s: SellerConnection,
  run: {
    settings: () => WorkflowSettings;
    changed: () => void;
    epoch: ScopeEpoch;
    /** Patch keepFailedWebhooks (core.pruneWebhooks). */
    keepFailed?: boolean;
    /** Patch coalesceOrdersChanged: a new orders.changed replaces the pending ones (their ids merged). */
    coalesce?: boolean;
    /** Patch boundPendingWebhooks: at most settings.maxPendingWebhooks wait (supersedeOldest). */
    bounded?: boolean;
  },
) {
  const activities = () => proxyActivities<WebhookActivities>(webhookOptions(run.settings()));
  /** Event ids whose delivery runs in this run (not carried: a new run restarts every pending one). */
  const delivering = new Set<string>();
  /** The scope of each running delivery, to stop one whose event was replaced or put down … */
  const scopes = new Map<string, CancellationScope>();
  /** … and the deliveries so stopped: their cancellation is not a failure (their record says what happened). */
  const stopped = new Set<string>();
  /** How many supersedeOldest put down in this run (its one event in the seller's list counts them). */
  let supersededInRun = 0;

  /** Stops the running delivery of `eventId`, if one runs (coalescing, supersedeOldest). */
  function stopDelivery(eventId: string): void {
    const scope = scopes.get(eventId);
    if (scope === undefined) return;
    stopped.add(eventId);
    scope.cancel();
  }

  /**
   * A shop endpoint down for days would otherwise collect an orders.changed per import with changes
   * (≈ 100 a day, each carried through continue-as-new and restarted by every run): the pending ones
   * are replaced by the new one, which names their orders too and carries the newest feed cursor.
   */
  function coalesced(data: Record<string, unknown>): Record<string, unknown> {
    const waiting = s.webhooks.filter((w) => w.status === 'pending' && w.type === 'orders.changed');
    if (waiting.length === 0) return data;
    for (const w of waiting) stopDelivery(w.eventId);
    s.webhooks = s.webhooks.filter((w) => !waiting.includes(w));
    core.recordEvent(
      s,
      Date.now(),
      'webhooks_replaced',
      `${waiting.length} waiting orders.changed replaced by a newer one that names their orders`,
      run.settings().maxEvents,
    );
    return core.mergeOrdersChanged([...waiting.map((w) => w.payload.data), data]);
  }

  /**
   * The shop down for days: without a bound, every state change (a seller flapping between active and
   * degraded) and every transfer failure that says something new would wait, each carried through
   * continue-as-new and restarted by every run. So beyond `maxPendingWebhooks` the oldest waiting ones are
   * put down as failed (an admin may redeliver them, with their ids) and their deliveries cancelled.
   * Oldest by deadline, which a redelivery renews (its record keeps its place in the list). With
   * coalescing, the one waiting orders.changed is never put down: the next would not name its orders.
   */
  function supersedeOldest(max: number): void {
    const waiting = s.webhooks.filter((w) => w.status === 'pending');
    const over = waiting.length - max;
    if (over <= 0) return;
    // Array.prototype.sort is stable: equal deadlines keep the list's order.
    const excess = waiting
      .filter((w) => !(run.coalesce === true && w.type === 'orders.changed'))
      .sort((a, b) => a.deadline - b.deadline)
      .slice(0, over);
    if (excess.length === 0) return;
    for (const w of excess) {
      w.status = 'failed';
      w.lastError = `superseded: more than ${max} webhooks were waiting for delivery`;
      stopDelivery(w.eventId);
    }
    // One entry in the seller's events, the latest, counting the run's: with an entry per new event, a
    // seller flapping between states while the shop is down filled half the list with them.
    const earlier = supersededInRun;
    supersededInRun += excess.length;
    s.events = s.events.filter((e) => e.type !== 'webhooks_superseded');
    core.recordEvent(
      s,
      Date.now(),
      'webhooks_superseded',
      `${excess.length} waiting webhook(s) put down as failed (oldest first, redeliverable): ${excess
        .map((w) => `${w.type} ${w.eventId}`)
        .join(', ')}${earlier > 0 ? `; ${earlier} earlier in this run` : ''}`,
      run.settings().maxEvents,
    );
  }

  /** The state's announcements for the shop become webhook deliveries (none when webhooks are off). */
  function flush(): void {
    const set = run.settings();
    for (const item of s.outbox.splice(0)) {
      if (!set.webhooksEnabled) continue;
      const data = run.coalesce === true && item.type === 'orders.changed' ? coalesced(item.data) : item.data;
      const now = Date.now();
      const record: WebhookRecord = {
        // Deterministic (the workflow's seeded random), so a replay yields the same id.
        eventId: `evt_${uuid4()}`,
        type: item.type,
        at: now,
        status: 'pending',
        attempts: 0,
        lastError: null,
        deliveredAt: null,
        deadline: now + set.webhookDeliveryWindowMs,
        payload: { type: item.type, timestamp: core.iso(now)!, data: { sellerId: s.sellerId, ...data } },
      };
      s.webhooks.push(record);
      if (run.bounded === true) supersedeOldest(set.maxPendingWebhooks);
      core.pruneWebhooks(s, core.MAX_SETTLED_WEBHOOKS, run.keepFailed === true);
      void deliver(record);
    }
  }

  async function deliver(w: WebhookRecord): Promise<void> {
    if (delivering.has(w.eventId)) return;
    const remaining = w.deadline - Date.now();
    if (remaining < 1_000) {
      w.status = 'failed';
      w.lastError = w.lastError ?? 'the delivery window passed';
      core.recordEvent(
        s,
        Date.now(),
        'webhook_failed',
        `${w.type} ${w.eventId}: ${w.lastError}`,
        run.settings().maxEvents,
      );
      core.pruneWebhooks(s, core.MAX_SETTLED_WEBHOOKS, run.keepFailed === true);
      return;
    }
    delivering.add(w.eventId);
    const scope = run.epoch.child();
    scopes.set(w.eventId, scope);
    try {
      const result = await scope
        .run(() =>
          releasingInput({ eventId: w.eventId, payload: w.payload }, (args) =>
            activities().deliverWebhook.executeWithOptions(
              {
                ...webhookOptions(run.settings()),
                scheduleToCloseTimeout: remaining,
                summary: `webhook ${w.type} ${w.eventId}`,
              },
              args,
            ),
          ),
        )
        .finally(() => {
          run.epoch.done();
          scopes.delete(w.eventId);
        });
      stopped.delete(w.eventId);
      if (result.outcome === 'disabled') {
        // This worker has no WEBHOOK_URL: there is no delivery to show.
        s.webhooks = s.webhooks.filter((x) => x !== w);
        return;
      }
      // Delivered (also when a stop came too late: the shop has it).
      w.status = 'delivered';
      w.attempts += result.attempt;
      w.lastError = result.previousError;
      w.deliveredAt = Date.now();
    } catch (err) {
      // Stopped on purpose: replaced by a newer orders.changed (its record is gone) or put down by
      // supersedeOldest (marked failed there already). Not a failure of the delivery.
      if (stopped.delete(w.eventId)) return;
      const failure = failureOf(err);
      const attempts = /^attempt (\d+):/.exec(failure.message)?.[1];
      w.status = 'failed';
      w.attempts += attempts === undefined ? 1 : Number(attempts);
      w.lastError = failure.message;
      core.recordEvent(
        s,
        Date.now(),
        'webhook_failed',
        `${w.type} ${w.eventId}: ${failure.message}`,
        run.settings().maxEvents,
      );
    } finally {
      delivering.delete(w.eventId);
      core.pruneWebhooks(s, core.MAX_SETTLED_WEBHOOKS, run.keepFailed === true);
      run.changed();
    }
  }

  return { flush, deliver, idle: () => delivering.size === 0 };
}
