/**
 * Webhooks to the shop, signed per the Standard Webhooks specification with its maintained library
 * (`standardwebhooks`): `webhook-id` (the event id, the same on every attempt and redelivery),
 * `webhook-timestamp` (this attempt's send time, seconds) and `webhook-signature` (`v1,<base64 HMAC>`).
 *
 * Every failure is retryable: non-2xx (4xx included: a shop misconfigured for a while must not lose
 * events; the workflow's delivery window bounds the retrying) and network errors or timeouts. The
 * workflow's retry policy has no attempt limit; each attempt heartbeats its error so the next attempt
 * (and the Temporal UI's pending activity) knows it.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Webhook } from 'standardwebhooks';
import { webhookSecrets } from '../common/webhook-secrets';
import { FailureTypes, type DeliverWebhookInput, type DeliverWebhookResult } from '../workflows/definitions';
import { noMetrics, type ActivityMetrics } from './activity-metrics';
import type { FetchFn } from './otto-http';

export interface WebhookTarget {
  url: string;
  /**
   * `whsec_<base64>` (Standard Webhooks format), or several separated by spaces or commas while one is
   * rotated (common/webhook-secrets.ts): each signs every delivery.
   */
  secret: string;
}

export interface WebhookActivityDeps {
  /**
   * Unset: this worker cannot send webhooks; a delivery that lands here fails retryably so a worker with
   * WEBHOOK_URL delivers it (its run's settings, resolved on such a worker, turned them on).
   */
  webhook?: WebhookTarget;
  fetch?: FetchFn;
  /** One attempt's HTTP timeout (default 10 s). */
  webhookTimeoutMs?: number;
  /** `webhookDelivery(result)` per attempt: delivered, failed (retried) or disabled (no URL here, retried). */
  metrics?: Pick<ActivityMetrics, 'webhookDelivery'>;
}

/** Only the status and a short, single-line excerpt of the shop's answer reach history and status view. */
function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * The error text without the webhook URL's credentials or query (fetch names the whole URL when it has
 * credentials in it); only the origin and path reach history, heartbeats and the status view.
 */
function withoutUrlSecrets(message: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return message.split(url).join('(the webhook URL)');
  }
  const shown = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  return message.split(url).join(shown).split(parsed.href).join(shown);
}

function lastErrorOf(details: unknown): string | null {
  if (typeof details === 'object' && details !== null && 'lastError' in details) {
    const value = details.lastError;
    return typeof value === 'string' ? value : null;
  }
  return null;
}

export function createWebhookActivities(deps: WebhookActivityDeps) {
  const doFetch: FetchFn = deps.fetch ?? fetch;
  const timeoutMs = deps.webhookTimeoutMs ?? 10_000;
  const signers = deps.webhook ? webhookSecrets(deps.webhook.secret).map((s) => new Webhook(s)) : [];
  const metrics = deps.metrics ?? noMetrics;
  /** Counted, never thrown from: a metrics hiccup must not turn a delivery into a failure. */
  const count = (result: 'delivered' | 'failed' | 'disabled') => {
    try {
      metrics.webhookDelivery?.(result);
    } catch {
      // ignored
    }
  };

  return {
    async deliverWebhook(input: DeliverWebhookInput): Promise<DeliverWebhookResult> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      if (deps.webhook === undefined || signers.length === 0) {
        // The seller's run was set up where webhooks are on (its settings decide whether an event is
        // kept for delivery at all), so this is a worker of a rolling change of WEBHOOK_URL: a retry lets
        // a worker that has it deliver the event, where answering `disabled` dropped it.
        count('disabled');
        const text = `attempt ${attempt}: this worker has no WEBHOOK_URL; a worker with one delivers the event (or it fails when its delivery window ends)`;
        ctx.heartbeat({ lastError: text, eventId: input.eventId });
        throw ApplicationFailure.retryable(text, FailureTypes.webhookDeliveryFailed);
      }
      const previousError = lastErrorOf(ctx.info.heartbeatDetails);
      // The same bytes on every attempt; only the timestamp (and so the signature) changes.
      const body = JSON.stringify(input.payload);
      const sentAt = new Date();
      // One `v1,<signature>` per secret, space-separated (Standard Webhooks): any one verifies.
      const signature = signers.map((signer) => signer.sign(input.eventId, sentAt, body)).join(' ');
      const fail = (message: string): never => {
        const text = `attempt ${attempt}: ${message}`;
        count('failed');
        ctx.heartbeat({ lastError: text, eventId: input.eventId });
        throw ApplicationFailure.retryable(text, FailureTypes.webhookDeliveryFailed);
      };
      let res: Response;
      try {
        res = await doFetch(deps.webhook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'otto-connect-webhooks',
            'webhook-id': input.eventId,
            'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
            'webhook-signature': signature,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ctx.cancellationSignal]),
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return fail(`network error: ${withoutUrlSecrets(message, deps.webhook.url)}`);
      }
      if (res.status < 200 || res.status > 299) {
        const answer = await answerStart(res);
        return fail(`HTTP ${res.status}${answer ? ` ${excerpt(answer)}` : ''}`);
      }
      // A 2xx is all we need: its body is not read (a shop answering with megabytes costs us nothing).
      await res.body?.cancel().catch(() => undefined);
      count('delivered');
      return { outcome: 'delivered', attempt, httpStatus: res.status, previousError };
    },
  };
}

/** The first ANSWER_READ_BYTES of an answer's body (for the error), the rest never read. */
const ANSWER_READ_BYTES = 4_096;

async function answerStart(res: Response): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ANSWER_READ_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that breaks off still leaves its status to report.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, ANSWER_READ_BYTES).toString('utf8');
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
