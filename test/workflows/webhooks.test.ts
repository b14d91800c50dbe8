/**
 * Signed webhooks to the shop on the real dev server against the OTTO emulator: a revocation at OTTO
 * reaches a receiver that verifies with the Standard Webhooks reference verifier; with the receiver down
 * (503, then not listening) across a continue-as-new, every event arrives afterwards and none is
 * accepted twice by id; the workflow waits for its last delivery before it ends; an admin redelivers
 * with the same id.
 */
import {
  pauseUpdate,
  redeliverWebhookUpdate,
  resumeUpdate,
  runTransferNowUpdate,
  sellerWorkflowId,
  type ConnectionStatus,
} from '../../workflows/definitions';
import { createTemporalSellerConnections } from '../../api/seller-connections';
import { webhookOutboxId } from '../../workflows/webhook-outbox';
import { TestStack, type SellerHandle } from '../support/stack';
import { eventually, uniqueName } from '../support/temporal';
import { WebhookReceiver } from '../support/webhook-receiver';

const TTL_S = 6;
const SETTINGS = {
  tokenRefreshMarginMs: 3_000,
  refreshJitterMs: 300,
  refreshRetryMaxIntervalMs: 500,
  revocationConfirmWindowMs: 200,
  // Tokens just in time: with no transfer due, the probe mints (and notices a revocation) every 2 s.
  revocationProbeIntervalMs: 2_000,
  webhookRetryMaxIntervalMs: 500,
  webhookDeliveryWindowMs: 120_000,
} as const;

let receiver: WebhookReceiver;
let stack: TestStack;
/** The same, with a small history bound: its workflows continue as new every few refreshes. */
let shortHistoryStack: TestStack;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  const webhook = { url: receiver.url, secret: receiver.secret };
  stack = await TestStack.start({ tokenTtlSeconds: TTL_S, settings: SETTINGS, webhook });
  shortHistoryStack = await TestStack.start({
    tokenTtlSeconds: TTL_S,
    // A run holds its continue-as-new for running deliveries up to the drain bound: with the shop down it
    // continues after 5 s rather than the default minute.
    settings: { ...SETTINGS, maxHistoryEvents: 50, drainTimeoutMs: 5_000 },
    webhook,
  });
});
afterAll(async () => {
  await stack?.close();
  await shortHistoryStack?.close();
  await receiver?.close();
});
beforeEach(async () => {
  receiver.failWith = null;
  await receiver.listen().catch(() => undefined);
});

const forSeller = (sellerId: string) => receiver.events.filter((e) => e.data.sellerId === sellerId);
const stateChanges = (sellerId: string) =>
  forSeller(sellerId)
    .filter((e) => e.type === 'connection.state_changed')
    .map((e) => `${String(e.data.from)}→${String(e.data.to)}`);

/** Every accepted (2xx) delivery of this seller, per id: the shop saw each event this many times. */
function acceptedPerId(sellerId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of receiver.accepted)
    if (r.payload?.data.sellerId === sellerId) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  return counts;
}

describe('webhooks to the shop', () => {
  it('revoking at OTTO sends a signed connection.state_changed (to revoked) before the workflow ends', async () => {
    const { handle, partner, sellerId } = await stack.connectSeller();
    await eventually(
      () => Promise.resolve(forSeller(sellerId).map((e) => e.type)),
      (types) => types.includes('consent.completed'),
    );
    const completed = forSeller(sellerId).find((e) => e.type === 'consent.completed')!;
    expect(completed.data).toMatchObject({ sellerId, appVersion: 'v1', partnerId: partner.partnerId });

    await stack.admin('POST', `/partners/${partner.partnerId}/revoke`, {});
    const final = await handle.result();
    expect(final.state).toBe('revoked');

    const revoked = forSeller(sellerId).find(
      (e) => e.type === 'connection.state_changed' && e.data.to === 'revoked',
    );
    expect(revoked).toBeDefined();
    // Revocation needs evidence: the first refusal makes the seller degraded, the confirmation revoked.
    expect(revoked!.data).toMatchObject({ sellerId, from: 'degraded', to: 'revoked', event: 'revoked' });
    expect(revoked!.data.reason).toEqual(expect.any(String));
    expect(revoked!.timestamp).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(stateChanges(sellerId)).toEqual([
      'new→pending_consent',
      'pending_consent→authorizing',
      'authorizing→active',
      'active→degraded',
      'degraded→revoked',
    ]);
    // Every request the receiver got for this seller verified with the reference verifier.
    const mine = receiver.received.filter((r) => r.body.includes(`"sellerId":"${sellerId}"`));
    expect(mine.length).toBeGreaterThanOrEqual(5);
    expect(mine.every((r) => r.verified)).toBe(true);
    // The status view lists every delivery, delivered, without payloads.
    expect(final.webhooks).toHaveLength(forSeller(sellerId).length);
    for (const w of final.webhooks) {
      expect(w).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
      expect(w).not.toHaveProperty('payload');
    }
  });

  it('with the shop down across a continue-as-new, every event arrives afterwards, none twice; redelivery resends the id', async () => {
    receiver.failWith = 503;
    const partner = await shortHistoryStack.createPartner();
    await shortHistoryStack.registerProducts(partner.partnerId, ['SKU-1']);
    const sellerId = uniqueName('seller');
    const { handle: started, nonce, authorizeUrl } = await shortHistoryStack.beginConsent(sellerId);
    await shortHistoryStack.installApp('v1', partner);
    await shortHistoryStack.deliverCallback(
      started,
      nonce,
      await shortHistoryStack.consentAtOtto(authorizeUrl, partner),
    );
    // Not bound to the first run: the workflow continues as new below.
    const handle: SellerHandle = shortHistoryStack.env.client.workflow.getHandle(sellerWorkflowId(sellerId));
    await shortHistoryStack.waitForState(handle, 'active');
    await shortHistoryStack.admin('POST', `/partners/${partner.partnerId}/orders`, { count: 3 });
    await handle.executeUpdate(runTransferNowUpdate, { args: [{ kind: 'ordersImport' }] });
    const down = await shortHistoryStack.waitFor(handle, (s) =>
      (s.webhooks ?? []).some((w) => w.type === 'orders.changed'),
    );
    expect(down.webhooks.every((w) => w.status === 'pending')).toBe(true);
    expect(acceptedPerId(sellerId).size).toBe(0);

    // Down a while longer (a delivery refused again), the last part not even listening; meanwhile the run
    // continues as new.
    const refused = () =>
      receiver.received.filter((r) => r.status === 503 && r.body.includes(`"sellerId":"${sellerId}"`)).length;
    const firstRun = (await handle.describe()).runId;
    await eventually(
      () => Promise.resolve(refused()),
      (n) => n >= 2,
    );
    await receiver.close();
    await eventually(
      async () => (await handle.describe()).runId,
      (runId) => runId !== firstRun,
      40_000,
    );
    const carried = await shortHistoryStack.waitFor(handle, (st) =>
      down.webhooks.every((w) => st.webhooks.some((x) => x.eventId === w.eventId)),
    );
    expect(carried.temporal.runId).not.toBe(firstRun);
    expect(carried.webhooks.map((w) => w.eventId)).toEqual(
      expect.arrayContaining(down.webhooks.map((w) => w.eventId)),
    );
    expect(carried.webhooks.every((w) => w.status === 'pending')).toBe(true);

    // Listening again, still refusing until the new run has tried once (a closed run schedules no more
    // attempts, so this one is the new run's): its deliveries then succeed on a later attempt.
    const refusedBefore = refused();
    await receiver.listen();
    await eventually(
      () => Promise.resolve(refused()),
      (n) => n > refusedBefore,
    );
    receiver.failWith = null;
    const up = await shortHistoryStack.waitFor(
      handle,
      (s) => (s.webhooks ?? []).length > 0 && s.webhooks.every((w) => w.status === 'delivered'),
      30_000,
    );
    const ids = up.webhooks.map((w) => w.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(up.webhooks.map((w) => w.type)).toEqual(
      expect.arrayContaining(['connection.state_changed', 'consent.completed', 'orders.changed']),
    );
    const perId = acceptedPerId(sellerId);
    expect([...perId.keys()].sort()).toEqual([...ids].sort());
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    expect(up.webhooks.some((w) => w.attempts > 1)).toBe(true);
    const orders = forSeller(sellerId).find((e) => e.type === 'orders.changed')!;
    expect(typeof orders.data.count).toBe('number');
    expect(orders.data).toHaveProperty('feedCursor');
    expect(Array.isArray(orders.data.salesOrderIds)).toBe(true);

    // An admin sends the consent.completed event again: the same id arrives a second time.
    const again = up.webhooks.find((w) => w.type === 'consent.completed')!;
    expect(
      await handle.executeUpdate(redeliverWebhookUpdate, { args: [{ eventId: again.eventId }] }),
    ).toEqual({ eventId: again.eventId, status: 'pending' });
    await eventually(
      () => Promise.resolve(acceptedPerId(sellerId).get(again.eventId) ?? 0),
      (n) => n === 2,
    );
    await expect(
      handle.executeUpdate(redeliverWebhookUpdate, { args: [{ eventId: 'evt_unknown' }] }),
    ).rejects.toMatchObject({ cause: { type: 'WebhookNotFound' } });
    await shortHistoryStack.disconnect(handle);
    await handle.result();
  });

  it('the full status view shows a pending delivery’s attempts and last error while Temporal retries it', async () => {
    receiver.failWith = 503;
    const { handle, sellerId } = await stack.connectSeller();
    const connections = createTemporalSellerConnections({
      client: stack.env.client,
      taskQueue: stack.taskQueue,
      uiUrl: 'http://localhost:8233',
      callTimeoutMs: 10_000,
    });
    // Before: `attempts: 0, lastError: null` until the delivery settled (up to the 3-day window).
    const view = await eventually(
      () => connections.fullStatus(sellerId),
      (v) => v.webhooks.some((w) => w.status === 'pending' && w.attempts >= 2),
    );
    const retried = view.webhooks.find((w) => w.status === 'pending' && w.attempts >= 2)!;
    expect(retried.lastError).toMatch(/^attempt \d+: HTTP 503/);
    receiver.failWith = null;
    await stack.disconnect(handle);
  });

  it('with the shop down, a new orders.changed replaces the one still waiting and names its orders too', async () => {
    receiver.failWith = 503;
    const { handle, partner, sellerId } = await stack.connectSeller();
    const importOrders = async (count: number) => {
      await stack.admin('POST', `/partners/${partner.partnerId}/orders`, { count });
      await handle.executeUpdate(runTransferNowUpdate, { args: [{ kind: 'ordersImport' }] });
    };
    await importOrders(2);
    const first = await stack.waitFor(handle, (s) => s.webhooks.some((w) => w.type === 'orders.changed'));
    const firstId = first.webhooks.find((w) => w.type === 'orders.changed')!.eventId;
    await importOrders(1);
    const second = await stack.waitFor(handle, (s) =>
      s.webhooks.some((w) => w.type === 'orders.changed' && w.eventId !== firstId),
    );
    // Before: both waited (and every further import added one), each carried and restarted by every run.
    const waiting = second.webhooks.filter((w) => w.type === 'orders.changed');
    expect(waiting.map((w) => w.status)).toEqual(['pending']);
    expect(second.events.map((e) => e.type)).toContain('webhooks_replaced');

    receiver.failWith = null;
    await eventually(
      () => Promise.resolve(acceptedPerId(sellerId)),
      (accepted) => accepted.has(waiting[0]!.eventId),
    );
    const delivered = forSeller(sellerId).filter((e) => e.type === 'orders.changed');
    expect(delivered.map((e) => e.id)).toEqual([waiting[0]!.eventId]);
    expect(delivered[0]!.data).toMatchObject({ count: 3, salesOrderIdsTruncated: false });
    expect(delivered[0]!.data.salesOrderIds).toHaveLength(3);
    expect(acceptedPerId(sellerId).has(firstId)).toBe(false);
    await stack.disconnect(handle);
  });

  it('with the shop down, at most maxPendingWebhooks wait: the oldest are put down as failed, redeliverable', async () => {
    receiver.failWith = 503;
    const { handle, partner, sellerId } = await stack.connectSeller(uniqueName('seller'), 'v1', {
      overrides: { ...SETTINGS, maxPendingWebhooks: 3 },
    });
    const pauseAndResume = async () => {
      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'bound test' }] });
      await stack.waitForState(handle, 'paused');
      await handle.executeUpdate(resumeUpdate);
      await stack.waitForState(handle, 'active');
    };
    // An import with orders: its orders.changed waits too, and is never put down (the next one would not
    // name its orders).
    await stack.admin('POST', `/partners/${partner.partnerId}/orders`, { count: 2 });
    await handle.executeUpdate(runTransferNowUpdate, { args: [{ kind: 'ordersImport' }] });
    const orders = (
      await stack.waitFor(handle, (st) => st.webhooks.some((w) => w.type === 'orders.changed'))
    ).webhooks.find((w) => w.type === 'orders.changed')!;
    // Onboarding alone announced more than three events (state changes, consent.completed); each pause and
    // resume adds two more. Before: every one of them waited, without bound.
    await pauseAndResume();
    await pauseAndResume();
    // Each announcement becomes a delivery in the workflow task of its state change: read after it.
    const view = await stack.status(handle);
    const pending = view.webhooks.filter((w) => w.status === 'pending');
    const putDown = view.webhooks.filter((w) => w.lastError?.startsWith('superseded') === true);
    expect(pending).toHaveLength(3);
    expect(pending.map((w) => w.eventId)).toContain(orders.eventId);
    expect(putDown.length).toBeGreaterThanOrEqual(5);
    expect(putDown.every((w) => w.status === 'failed')).toBe(true);
    // Oldest first: every other waiting one is younger than every one put down.
    const others = pending.filter((w) => w.type !== 'orders.changed');
    const oldestOther = others.map((w) => Date.parse(w.at)).sort((a, b) => a - b)[0]!;
    expect(putDown.every((w) => Date.parse(w.at) <= oldestOther)).toBe(true);
    // One entry in the seller's events, the latest, counting the earlier ones.
    const notes = view.events.filter((e) => e.type === 'webhooks_superseded');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.detail).toMatch(/^1 waiting webhook\(s\) put down .*; \d+ earlier in this run$/);

    // An admin redelivers one put down while the shop is still down: its deadline is renewed, so the next
    // event puts down the two older waiting ones, not it (before: it kept its place at the front of the
    // list and was put down again at once).
    const again = putDown[putDown.length - 1]!;
    expect(
      await handle.executeUpdate(redeliverWebhookUpdate, { args: [{ eventId: again.eventId }] }),
    ).toEqual({ eventId: again.eventId, status: 'pending' });
    await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'one more event' }] });
    const after = await stack.waitFor(handle, (st) =>
      others.every((w) => st.webhooks.find((x) => x.eventId === w.eventId)?.status === 'failed'),
    );
    const stillPending = after.webhooks.filter((w) => w.status === 'pending').map((w) => w.eventId);
    expect(stillPending).toHaveLength(3);
    expect(stillPending).toEqual(expect.arrayContaining([again.eventId, orders.eventId]));

    // The shop is back: the three waiting arrive, the put-down ones do not.
    receiver.failWith = null;
    await eventually(
      () => Promise.resolve(acceptedPerId(sellerId)),
      (accepted) => stillPending.every((id) => accepted.has(id)),
    );
    const accepted = acceptedPerId(sellerId);
    expect(accepted.get(again.eventId)).toBe(1);
    expect([...putDown, ...others].filter((w) => w !== again && accepted.has(w.eventId))).toEqual([]);
    const delivered = forSeller(sellerId).find((e) => e.id === orders.eventId)!;
    expect(delivered.data.salesOrderIds).toHaveLength(2);
    await stack.disconnect(handle);
  });

  it('waits for the last delivery before it ends: disconnected while the shop is down', async () => {
    const { handle, sellerId } = await stack.connectSeller();
    await eventually(
      () => Promise.resolve(forSeller(sellerId).length),
      (n) => n >= 4,
    );
    receiver.failWith = 503;
    await stack.disconnect(handle);
    const pending: ConnectionStatus = await stack.waitFor(handle, (s) =>
      (s.webhooks ?? []).some((w) => w.status === 'pending'),
    );
    expect(pending.state).toBe('disconnected');
    // The shop refused the disconnected event twice: the workflow tried again instead of ending (a closed
    // run schedules no more attempts), and it is still running.
    const refusedDisconnected = () =>
      receiver.received.filter(
        (r) =>
          r.status === 503 && r.payload?.data.sellerId === sellerId && r.payload.data.to === 'disconnected',
      ).length;
    await eventually(
      () => Promise.resolve(refusedDisconnected()),
      (n) => n >= 2,
    );
    expect((await handle.describe()).status.name).toBe('RUNNING');
    receiver.failWith = null;
    const final = await handle.result();
    expect(final.webhooks.every((w) => w.status === 'delivered')).toBe(true);
    expect(stateChanges(sellerId)).toContain('active→disconnected');
  });

  it('an ended connection hands its last webhooks to an outbox workflow after the drain bound: the seller can connect again at once', async () => {
    const sellerId = uniqueName('seller');
    const { handle } = await stack.connectSeller(sellerId, 'v1', {
      overrides: { ...SETTINGS, drainTimeoutMs: 2_000 },
    });
    await eventually(
      () => Promise.resolve(forSeller(sellerId).length),
      (n) => n >= 4,
    );
    const { runId } = await handle.describe();
    receiver.failWith = 503;
    await stack.disconnect(handle);
    // Before: the run stayed open until the shop took the event (up to the 3-day window), and "Allow
    // access" for this seller was refused meanwhile ("the connection has ended").
    const final = await handle.result();
    expect(final.state).toBe('disconnected');
    expect(final.events.map((e) => e.type)).toContain('webhooks_handed_off');
    const outbox = stack.env.client.workflow.getHandle(webhookOutboxId(sellerId, runId));
    expect((await outbox.describe()).status.name).toBe('RUNNING');
    expect(stateChanges(sellerId)).not.toContain('active→disconnected');
    // What the shop refused of the ended run (the new run below has events of its own).
    const refusedIds = new Set(
      receiver.received
        .filter((r) => r.status === 503 && r.payload?.data.sellerId === sellerId)
        .map((r) => r.id),
    );
    expect(refusedIds.size).toBeGreaterThan(0);

    const again = await stack.beginConsent(sellerId, 'v1', { overrides: SETTINGS });
    expect((await stack.status(again.handle)).state).toBe('pending_consent');

    // The shop is back: the outbox delivers the disconnected event (same id as refused) and ends.
    receiver.failWith = null;
    const delivered = await outbox.result();
    expect(delivered.failed).toEqual([]);
    expect(stateChanges(sellerId)).toContain('active→disconnected');
    expect(delivered.delivered).toEqual(expect.arrayContaining([...refusedIds]));
    await stack.disconnect(again.handle);
  });
});
