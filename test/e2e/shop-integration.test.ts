/**
 * End to end, the way a shop integrates (issue 13): the real API on a socket, called through the typed
 * client generated from its OpenAPI document (shop and admin routes) and a browser's hops (the OAuth
 * callback), the workers and the seller store on the shared Temporal dev server, the OTTO emulator, and
 * a webhook receiver that verifies every delivery with the Standard Webhooks reference verifier.
 * - the shop PUTs stock for 300 SKUs → OTTO holds them after the next stock export;
 * - 500 orders placed at OTTO → the orders feed returns each exactly once; an order whose status changes
 *   at OTTO comes again, once;
 * - the shop's receiver is down (for 5 s here: intervals are compressed, retries capped at 0.5 s instead
 *   of 5 min), the seller revokes at OTTO → afterwards every event arrives, none twice by id, the
 *   `connection.state_changed` to `revoked` among them, each verified.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { apiConfigSchema } from '../../api/config';
import { createApp } from '../../api/create-app';
import { createOttoConnectClient, type OttoConnectClient } from '../../client';
import { loadConfig } from '../../common/config';
import { sellerWorkflowId, type WorkflowSettingsInput } from '../../workflows/definitions';
import type { sellerConnection } from '../../workflows/seller-connection';
import { TestStack } from '../support/stack';
import { stackApiEnv, stackConnections, walkConsent } from '../support/stack-api';
import { eventually, uniqueName } from '../support/temporal';
import { WebhookReceiver } from '../support/webhook-receiver';

const ADMIN = 'e2e-admin-key-0123456789abcdefghij';
const SHOP = 'e2e-shop-key-0123456789abcdefghijk';
const STATE_KEY = 'e2e-state-signing-key-0123456789abcdef';

const SETTINGS: WorkflowSettingsInput = {
  tokenRefreshMarginMs: 10_000,
  refreshJitterMs: 0,
  revocationConfirmWindowMs: 200,
  transferIntervalsMs: {
    ordersImport: 1_000,
    stockExport: 1_000,
    pricesExport: null,
    returnsImport: null,
    shippingProfilesSync: null,
  },
  transferRetryWindowMs: 10_000,
  transferRetryMaxIntervalMs: 500,
  webhookRetryMaxIntervalMs: 500,
  webhookDeliveryWindowMs: 120_000,
};

let receiver: WebhookReceiver;
let stack: TestStack;
let app: ReturnType<typeof createApp>;
let server: Server;
/** The typed client, one per role, as a shop's backend would hold them. */
let shopApi: OttoConnectClient;
let adminApi: OttoConnectClient;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  stack = await TestStack.start({
    tokenTtlSeconds: 30,
    webhook: { url: receiver.url, secret: receiver.secret },
  });
  const config = loadConfig(apiConfigSchema, {
    ...stackApiEnv(stack, { admin: ADMIN, stateKey: STATE_KEY }),
    API_KEYS: `admin:${ADMIN},shop:${SHOP}`,
  });
  app = createApp({
    config,
    connections: stackConnections(stack, config, SETTINGS),
    sealer: stack.sealer,
    store: stack.store,
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  shopApi = createOttoConnectClient({ baseUrl, apiKey: SHOP });
  adminApi = createOttoConnectClient({ baseUrl, apiKey: ADMIN });
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await stack?.close();
  await receiver?.close();
});

/** Reads the orders feed from `cursor` until `want` more items came (the import runs every second). */
async function readFeed(sellerId: string, cursor: string | undefined, want: number) {
  const items: Array<{ changeSeq: number; salesOrderId: string }> = [];
  let next = cursor;
  await eventually(
    async () => {
      for (;;) {
        const { data, error } = await shopApi.GET('/api/sellers/{sellerId}/orders', {
          params: {
            path: { sellerId },
            query: { limit: 200, ...(next === undefined ? {} : { after: next }) },
          },
        });
        if (!data) throw new Error(`orders feed: ${JSON.stringify(error)}`);
        items.push(...data.items.map((o) => ({ changeSeq: o.changeSeq, salesOrderId: o.salesOrderId })));
        next = data.next;
        if (!data.hasMore) return items.length;
      }
    },
    (count) => count >= want,
    60_000,
  );
  return { items, next: next! };
}

it('stock in, orders out through the feed, and signed webhooks that survive the shop being down', async () => {
  const sellerId = uniqueName('e2e-shop');
  const partner = await stack.createPartner();
  const started = await adminApi.POST('/api/sellers/{sellerId}/connection', {
    params: { path: { sellerId } },
    body: { appVersion: 'v1' },
  });
  expect(started.response.status).toBe(201);
  // The seller's browser: our consent link, OTTO's installation and login, the code callback.
  const { params, cookie } = await walkConsent(stack, app, started.data!.authorizeUrl, partner);
  expect((await request(app).get('/oauth/callback').set('Cookie', cookie).query(params)).status).toBe(303);
  await eventually(
    async () =>
      (await adminApi.GET('/api/sellers/{sellerId}/connection', { params: { path: { sellerId } } })).data
        ?.state,
    (state) => state === 'active',
    30_000,
  );

  // ---- stock in: 300 SKUs through the shop API, at OTTO after the next export ------------------------
  const levels = Array.from({ length: 300 }, (_, i) => ({ sku: `E2E-${i}`, quantity: (i * 3) % 97 }));
  await stack.registerProducts(
    partner.partnerId,
    levels.map((l) => l.sku),
  );
  const put = await shopApi.PUT('/api/sellers/{sellerId}/stock', {
    params: { path: { sellerId }, header: { 'Idempotency-Key': `stock-${sellerId}` } },
    body: levels,
  });
  expect(put.response.status).toBe(200);
  expect(put.data?.accepted).toBe(300);
  const expected = new Map(levels.map((l) => [l.sku, l.quantity]));
  await eventually(
    () =>
      stack.admin<Array<{ sku: string; quantity: number }>>(
        'GET',
        `/partners/${partner.partnerId}/quantities`,
      ),
    (atOtto) => atOtto.length === 300 && atOtto.every((q) => expected.get(q.sku) === q.quantity),
    30_000,
  );

  // ---- orders out: 500 placed at OTTO, each exactly once in the feed; a changed one once more ---------
  const placed = await stack.admin<Array<{ salesOrderId: string }>>(
    'POST',
    `/partners/${partner.partnerId}/orders`,
    { count: 500 },
  );
  const first = await readFeed(sellerId, undefined, 500);
  const ids = first.items.map((o) => o.salesOrderId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids)).toEqual(new Set(placed.map((o) => o.salesOrderId)));
  const seqs = first.items.map((o) => o.changeSeq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

  const changed = placed[123]!.salesOrderId;
  await stack.admin('POST', `/partners/${partner.partnerId}/orders/${changed}/status`, {
    fulfillmentStatus: 'SENT',
  });
  const again = await readFeed(sellerId, first.next, 1);
  expect(again.items.map((o) => o.salesOrderId)).toEqual([changed]);

  // ---- the shop's receiver is down while the seller revokes at OTTO -----------------------------------
  receiver.failWith = 503;
  await stack.admin('POST', `/partners/${partner.partnerId}/revoke`, {});
  // Refused deliveries pile up while the shop is down.
  await eventually(
    () => Promise.resolve(receiver.received.filter((r) => r.status === 503).length),
    (n) => n >= 3,
    30_000,
  );
  // The outage itself lasts a fixed time (5 min in production terms, compressed like the retries).
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  receiver.failWith = null;

  const events = await eventually(
    () => Promise.resolve(receiver.events),
    (all) =>
      all.some((e) => e.type === 'connection.state_changed' && (e.data as { to?: string }).to === 'revoked'),
    60_000,
  );
  // Every event that was tried arrived, each id accepted once, each verified.
  const tried = new Set(receiver.received.map((r) => r.id));
  await eventually(
    () => Promise.resolve(new Set(receiver.accepted.map((r) => r.id))),
    (accepted) => [...tried].every((id) => accepted.has(id)),
    60_000,
  );
  const acceptedIds = receiver.accepted.map((r) => r.id);
  expect(new Set(acceptedIds).size).toBe(acceptedIds.length);
  expect(receiver.received.every((r) => r.verified)).toBe(true);
  expect(events.map((e) => e.type)).toEqual(
    expect.arrayContaining(['consent.completed', 'orders.changed', 'connection.state_changed']),
  );
  const final = await stack.env.client.workflow
    .getHandle<typeof sellerConnection>(sellerWorkflowId(sellerId))
    .result();
  expect(final.state).toBe('revoked');
}, 240_000);
