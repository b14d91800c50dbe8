/**
 * A shop's webhook endpoint for tests: verifies every request with the Standard Webhooks reference
 * verifier (`Webhook.verify` of the `standardwebhooks` package), records it, and can be "down"
 * (answering 503, or not listening at all) on demand. Accepted ids are deduplicated the way a shop would.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { WebhookPayload } from '../../workflows/definitions';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** What Webhook.verify said: the payload, or why it refused. */
  verified: boolean;
  verifyError: string | null;
  payload: WebhookPayload | null;
  /** What the receiver answered. */
  status: number;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Answer this status instead of 204 (e.g. 503 while "down"). */
  failWith: number | null = null;
  private server: Server | null = null;
  private port = 0;

  private constructor(readonly secret: string) {}

  static async start(secret = newWebhookSecret()): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret);
    await receiver.listen();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/webhooks/otto-connect`;
  }

  /** Verified, 2xx-answered deliveries: what the shop processed (before its own dedupe by id). */
  get accepted(): ReceivedWebhook[] {
    return this.received.filter((r) => r.verified && r.status >= 200 && r.status < 300);
  }

  /** Accepted deliveries, one per id (the shop's idempotency by webhook-id). */
  get events(): Array<WebhookPayload & { id: string }> {
    const seen = new Set<string>();
    const out: Array<WebhookPayload & { id: string }> = [];
    for (const r of this.accepted) {
      if (seen.has(r.id) || r.payload === null) continue;
      seen.add(r.id);
      out.push({ id: r.id, ...r.payload });
    }
    return out;
  }

  async listen(): Promise<void> {
    const verifier = new Webhook(this.secret);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        };
        let payload: WebhookPayload | null = null;
        let verifyError: string | null = null;
        try {
          payload = verifier.verify(body, headers) as WebhookPayload;
        } catch (err) {
          verifyError = err instanceof Error ? err.message : String(err);
        }
        const status = verifyError !== null ? 400 : (this.failWith ?? 204);
        this.received.push({
          id: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          signature: headers['webhook-signature'],
          body,
          verified: verifyError === null,
          verifyError,
          payload,
          status,
        });
        res.statusCode = status;
        res.end(status >= 400 ? 'receiver down' : undefined);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening (connections refused) until listen() again, on the same port. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
