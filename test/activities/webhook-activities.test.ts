/**
 * `deliverWebhook` against a local HTTP receiver that verifies with the Standard Webhooks reference
 * verifier (`Webhook.verify`): signed headers, the same id on every attempt, every failure retryable,
 * a worker without a URL included (another worker delivers).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Webhook } from 'standardwebhooks';
import { createWebhookActivities } from '../../activities/webhook-activities';
import type { DeliverWebhookInput } from '../../workflows/definitions';
import { newWebhookSecret, WebhookReceiver } from '../support/webhook-receiver';
import { quiet } from '../support/activity-helpers';

let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
});
afterAll(async () => {
  await receiver.close();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.failWith = null;
});

const input: DeliverWebhookInput = {
  eventId: 'evt_0f8e2c1a-1111-4222-8333-444455556666',
  payload: {
    type: 'connection.state_changed',
    timestamp: '2030-01-01T00:00:00.000Z',
    data: { sellerId: 's-1', from: 'active', to: 'revoked', event: 'revoked', reason: 'refused' },
  },
};

describe('deliverWebhook', () => {
  it('sends a Standard Webhooks request the reference verifier accepts', async () => {
    const acts = createWebhookActivities({ webhook: { url: receiver.url, secret: receiver.secret } });
    const result = await new MockActivityEnvironment(undefined, quiet()).run(
      (i: DeliverWebhookInput) => acts.deliverWebhook(i),
      input,
    );
    expect(result).toEqual({ outcome: 'delivered', attempt: 1, httpStatus: 204, previousError: null });
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got).toMatchObject({ id: input.eventId, verified: true, status: 204 });
    expect(got!.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(got!.timestamp) - Date.now() / 1000)).toBeLessThan(10);
    expect(got!.payload).toEqual(input.payload);
    // Verified independently of the receiver too, and a tampered body is refused.
    const headers = {
      'webhook-id': got!.id,
      'webhook-timestamp': got!.timestamp,
      'webhook-signature': got!.signature,
    };
    expect(new Webhook(receiver.secret).verify(got!.body, headers)).toEqual(input.payload);
    expect(() =>
      new Webhook(receiver.secret).verify(got!.body.replace('revoked', 'active'), headers),
    ).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(got!.body, headers)).toThrow();
  });

  it('fails retryably on 503, 4xx and network errors, naming the attempt; the id stays the same', async () => {
    const acts = createWebhookActivities({ webhook: { url: receiver.url, secret: receiver.secret } });
    for (const status of [503, 400, 410]) {
      receiver.failWith = status;
      const env = new MockActivityEnvironment({ attempt: 3 }, quiet());
      const beats: unknown[] = [];
      env.on('heartbeat', (d: unknown) => beats.push(d));
      const err: unknown = await env
        .run((i: DeliverWebhookInput) => acts.deliverWebhook(i), input)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'WebhookDeliveryFailed', nonRetryable: false });
      expect((err as ApplicationFailure).message).toMatch(new RegExp(`^attempt 3: HTTP ${status}`));
      expect(beats).toHaveLength(1);
      expect((beats[0] as { lastError: string }).lastError).toContain(`HTTP ${status}`);
    }
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set([input.eventId]));

    const refused = createWebhookActivities({
      webhook: { url: 'http://127.0.0.1:1/nothing-listens', secret: receiver.secret },
    });
    await expect(
      new MockActivityEnvironment(undefined, quiet()).run(
        (i: DeliverWebhookInput) => refused.deliverWebhook(i),
        input,
      ),
    ).rejects.toThrow(/^attempt 1: network error/);
  });

  it('while a secret is rotated, signs with each: a verifier holding either secret accepts, no other', async () => {
    const next = newWebhookSecret();
    const acts = createWebhookActivities({
      webhook: { url: receiver.url, secret: `${next} ${receiver.secret}` },
    });
    await new MockActivityEnvironment(undefined, quiet()).run(
      (i: DeliverWebhookInput) => acts.deliverWebhook(i),
      input,
    );
    const [got] = receiver.received;
    // The receiver still verifies with the old secret.
    expect(got).toMatchObject({ verified: true, status: 204 });
    expect(got!.signature).toMatch(/^v1,[A-Za-z0-9+/]+=* v1,[A-Za-z0-9+/]+=*$/);
    const headers = {
      'webhook-id': got!.id,
      'webhook-timestamp': got!.timestamp,
      'webhook-signature': got!.signature,
    };
    expect(new Webhook(next).verify(got!.body, headers)).toEqual(input.payload);
    expect(new Webhook(receiver.secret).verify(got!.body, headers)).toEqual(input.payload);
    expect(() => new Webhook(newWebhookSecret()).verify(got!.body, headers)).toThrow();
  });

  it('keeps credentials and query of the webhook URL out of the error and the heartbeat', async () => {
    const acts = createWebhookActivities({
      webhook: { url: 'http://shop:pa55w0rd@127.0.0.1:1/hooks?key=q-s3cret', secret: receiver.secret },
    });
    const env = new MockActivityEnvironment(undefined, quiet());
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const err: unknown = await env
      .run((i: DeliverWebhookInput) => acts.deliverWebhook(i), input)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const message = (err as ApplicationFailure).message;
    expect(message).toMatch(/^attempt 1: network error/);
    for (const text of [message, JSON.stringify(beats)]) {
      expect(text).not.toContain('pa55w0rd');
      expect(text).not.toContain('q-s3cret');
    }
  });

  it('reads no more of an endless answer than the start of an error’s body, and none of a 2xx one', async () => {
    // Answers with a body that never ends: the old code read it until the 10 s timeout cut it off.
    const endless = (status: number) =>
      createServer((req, res) => {
        req.resume();
        res.writeHead(status, { 'content-type': 'text/plain' });
        const more = () => {
          while (res.write(`${status === 500 ? 'boom ' : 'ok '}`.repeat(1_000))) {
            /* until the socket pushes back */
          }
        };
        res.on('drain', more);
        more();
      });
    for (const status of [500, 200]) {
      const server = endless(status);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
      const acts = createWebhookActivities({
        webhook: { url, secret: receiver.secret },
        webhookTimeoutMs: 60_000,
      });
      const outcome: unknown = await new MockActivityEnvironment(undefined, quiet())
        .run((i: DeliverWebhookInput) => acts.deliverWebhook(i), input)
        .catch((e: unknown) => e);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (status === 500) {
        expect(outcome).toBeInstanceOf(ApplicationFailure);
        expect((outcome as ApplicationFailure).message).toMatch(/^attempt 1: HTTP 500 boom boom .{0,200}…$/);
      } else {
        expect(outcome).toMatchObject({ outcome: 'delivered', httpStatus: 200 });
      }
    }
  });

  it('reports the previous attempt’s error once it succeeds (from the heartbeat details)', async () => {
    const acts = createWebhookActivities({ webhook: { url: receiver.url, secret: receiver.secret } });
    const env = new MockActivityEnvironment(
      { attempt: 2, heartbeatDetails: { lastError: 'attempt 1: HTTP 503 receiver down' } },
      quiet(),
    );
    expect(await env.run((i: DeliverWebhookInput) => acts.deliverWebhook(i), input)).toEqual({
      outcome: 'delivered',
      attempt: 2,
      httpStatus: 204,
      previousError: 'attempt 1: HTTP 503 receiver down',
    });
  });

  it('on a worker without WEBHOOK_URL (a rolling config change) it fails retryably: a worker with one delivers the event', async () => {
    const acts = createWebhookActivities({});
    const err: unknown = await new MockActivityEnvironment(undefined, quiet())
      .run((i: DeliverWebhookInput) => acts.deliverWebhook(i), input)
      .catch((e: unknown) => e);
    // Before: `disabled`, and the workflow dropped the event.
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'WebhookDeliveryFailed', nonRetryable: false });
    expect((err as Error).message).toContain('this worker has no WEBHOOK_URL');
    expect(receiver.received).toHaveLength(0);
  });
});
