/**
 * Interval transfers on the real dev server against the emulator, with second-long intervals: orders in,
 * stock and prices out within OTTO's batch limits, returns, shipping profiles by scope, degraded and
 * recovered under 429/5xx, pause/resume and runTransferNow, and what the status view shows.
 */
import { pauseUpdate, resumeUpdate, runTransferNowUpdate } from '../../workflows/definitions';
import { TestStack, type LoggedRequest, type SellerHandle } from '../support/stack';
import { eventually, uniqueName } from '../support/temporal';

let stack: TestStack;
beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: 30,
    settings: {
      tokenRefreshMarginMs: 10_000,
      refreshJitterMs: 0,
      transferIntervalsMs: {
        ordersImport: 1_000,
        stockExport: 1_000,
        pricesExport: 2_000,
        returnsImport: 2_000,
        shippingProfilesSync: 2_000,
      },
      stockFullResyncMs: 6_000,
      // Long enough for a price task to be polled to done (OTTO processes prices asynchronously).
      transferRetryWindowMs: 10_000,
      transferRetryMaxIntervalMs: 500,
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

interface OttoOrder {
  salesOrderId: string;
  lastModifiedDate?: string;
  positionItems: Array<{ positionItemId: string; fulfillmentStatus: string }>;
}

async function requests(partnerId: string): Promise<LoggedRequest[]> {
  return (await stack.requests()).filter((r) => r.partnerId === partnerId);
}

describe('interval transfers', () => {
  let handle: SellerHandle;
  let sellerId: string;
  let partnerId: string;

  beforeAll(async () => {
    const connected = await stack.connectSeller(uniqueName('shop'), 'v1');
    handle = connected.handle;
    sellerId = connected.sellerId;
    partnerId = connected.partner.partnerId;
  });
  afterAll(async () => {
    await stack.disconnect(handle);
  });
  const ordersAtOtto = () => stack.admin<OttoOrder[]>('GET', `/partners/${partnerId}/orders`);

  it('imports orders created and changed at OTTO while it runs, each exactly once with its latest status', async () => {
    const created: Array<{ salesOrderId: string }> = [];
    for (let i = 0; i < 10; i++) {
      created.push(
        ...(await stack.admin<Array<{ salesOrderId: string }>>('POST', `/partners/${partnerId}/orders`, {
          count: 40,
        })),
      );
      if (i % 3 === 0) {
        await stack.admin('POST', `/partners/${partnerId}/orders/${created[i * 7]!.salesOrderId}/status`, {
          fulfillmentStatus: 'SENT',
        });
      }
    }
    // OTTO's orders carry no order-level status: each position item has its own.
    const atOtto = await ordersAtOtto();
    expect(atOtto).toHaveLength(400);
    expect(atOtto.some((o) => o.lastModifiedDate === undefined)).toBe(true);
    const stored = await eventually(
      () => stack.store.listOrders(sellerId),
      (orders) =>
        orders.length === atOtto.length && orders.filter((o) => o.fulfillmentStatus === 'SENT').length === 4,
      30_000,
    );
    const byId = new Map(stored.map((o) => [o.salesOrderId, o]));
    expect(byId.size).toBe(atOtto.length);
    for (const o of atOtto) {
      const mine = byId.get(o.salesOrderId)!;
      const itemStatuses = new Set(o.positionItems.map((p) => p.fulfillmentStatus));
      // Every item of these orders shares one status, so the derived order status is that one.
      expect(itemStatuses.size).toBe(1);
      expect(mine.fulfillmentStatus).toBe([...itemStatuses][0]);
      expect(mine.positionItems.map((p) => [p.positionItemId, p.fulfillmentStatus])).toEqual(
        o.positionItems.map((p) => [p.positionItemId, p.fulfillmentStatus]),
      );
    }
    const status = await stack.status(handle);
    expect(status.transfers.ordersImport).toMatchObject({ lastResult: 'ok', intervalMs: 1_000 });
    expect(Date.parse(status.transfers.ordersImport!.nextDueAt!)).toBeGreaterThan(
      Date.parse(status.transfers.ordersImport!.lastRunAt!),
    );
  });

  it('sends stock changes with exactly the store’s quantities, ≤ 200 per request, and a periodic full resync', async () => {
    const levels = Array.from({ length: 450 }, (_, i) => ({
      sku: `SKU-${String(i).padStart(4, '0')}`,
      quantity: (i * 7) % 50,
    }));
    await stack.registerProducts(
      partnerId,
      levels.map((l) => l.sku),
    );
    await stack.store.setStock(sellerId, levels);
    await stack.store.setStock(sellerId, [{ sku: 'SKU-0001', quantity: 99 }]);
    const expected = new Map(levels.map((l) => [l.sku, l.quantity]));
    expected.set('SKU-0001', 99);
    await eventually(
      () => stack.admin<Array<{ sku: string; quantity: number }>>('GET', `/partners/${partnerId}/quantities`),
      (atOtto) => atOtto.length === expected.size && atOtto.every((q) => expected.get(q.sku) === q.quantity),
      30_000,
    );
    const posts = (await requests(partnerId)).filter(
      (r) => r.method === 'POST' && r.path === '/v1/availability/quantities',
    );
    expect(posts.length).toBeGreaterThanOrEqual(3);
    expect(posts.filter((r) => r.status >= 400)).toEqual([]);
    // A full resync sends everything again after stockFullResyncMs, without any change in the store.
    const full = await stack.waitFor(
      handle,
      (s) =>
        (s.transfers.stockExport?.lastDetail ?? '').includes('full') &&
        (s.transfers.stockExport?.lastCount ?? 0) === expected.size,
      30_000,
    );
    expect(full.transfers.stockExport?.lastResult).toBe('ok');
  });

  it('sends prices in batches of ≤ 500', async () => {
    const prices = Array.from({ length: 1_100 }, (_, i) => ({
      sku: `P-${i}`,
      amount: (100 + i) / 100,
      currency: 'EUR',
    }));
    await stack.registerProducts(
      partnerId,
      prices.map((p) => p.sku),
    );
    await stack.store.setPrices(sellerId, prices);
    await eventually(
      () => stack.admin<Array<{ sku: string }>>('GET', `/partners/${partnerId}/prices`),
      (atOtto) => atOtto.length >= 1_100,
      30_000,
    );
    const posts = (await requests(partnerId)).filter(
      (r) => r.method === 'POST' && r.path === '/v5/products/prices',
    );
    expect(posts.length).toBeGreaterThanOrEqual(3);
    expect(posts.filter((r) => r.status >= 400)).toEqual([]);
  });

  it('imports return announcements', async () => {
    await stack.admin('POST', `/partners/${partnerId}/returns`, { count: 60 });
    const stored = await eventually(
      () => stack.store.listReturns(sellerId),
      (r) => r.length >= 60,
      30_000,
    );
    expect(new Set(stored.map((r) => r.positionItemId)).size).toBe(stored.length);
  });

  it('skips shipping profiles on the v1 app with the upgrade hint, never as a failure', async () => {
    const status = await stack.waitFor(handle, (s) => s.transfers.shippingProfilesSync?.lastResult != null);
    expect(status.transfers.shippingProfilesSync).toMatchObject({ lastResult: 'skipped' });
    expect(status.transfers.shippingProfilesSync?.lastDetail).toMatch(
      /missing scope "shipping-profiles".*v2/,
    );
    expect(status.state).toBe('active');
  });

  it('goes degraded under a 5xx burst, recovers on its own, and honours Retry-After on 429s', async () => {
    await stack.admin('POST', '/faults', { method: 'GET', pathPattern: '^/v4/orders', status: 503 });
    await stack.waitForState(handle, 'degraded', 30_000);
    await stack.admin('DELETE', '/faults');
    const since = new Date().toISOString();
    await stack.admin('POST', '/faults', {
      method: 'GET',
      pathPattern: '^/v4/orders',
      status: 429,
      retryAfterSeconds: 1,
      times: 3,
    });
    const recovered = await stack.waitFor(
      handle,
      (s) => s.state === 'active' && s.events.some((e) => e.type === 'recovered'),
      30_000,
    );
    expect(recovered.lastError).toBeNull();
    await stack.admin('POST', `/partners/${partnerId}/orders`, { count: 5 });
    // Injected faults answer before the token is read, so match by path (this file has one seller).
    const log = (await stack.requests(since)).filter((r) => r.path.startsWith('/v4/orders'));
    const throttled = log.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    for (const t of throttled) {
      const next = log.find((r) => Date.parse(r.at) > Date.parse(t.at));
      if (next) expect(Date.parse(next.at) - Date.parse(t.at)).toBeGreaterThanOrEqual(950);
    }
    const expected = (await ordersAtOtto()).length;
    await eventually(
      () => stack.store.listOrders(sellerId),
      (o) => o.length === expected,
      30_000,
    );
  });

  it('pause stops transfers within one interval, resume catches up, runTransferNow runs at once', async () => {
    await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'test' }] });
    const pausedAt = Date.now();
    const before = await stack.status(handle);
    const importedBefore = (await stack.store.listOrders(sellerId)).length;
    await stack.admin('POST', `/partners/${partnerId}/orders`, { count: 3 });
    // Let more than one orders interval pass while paused: nothing may be imported.
    await stack.waitFor(
      handle,
      (s) => s.token.refreshCount >= before.token.refreshCount + 1 || Date.now() - pausedAt > 3_000,
      15_000,
    );
    const duringPause = await stack.status(handle);
    const lastOrdersRun = Date.parse(duringPause.transfers.ordersImport!.lastRunAt!);
    expect(lastOrdersRun).toBeLessThan(pausedAt + 1_500);
    expect((await stack.store.listOrders(sellerId)).length).toBe(importedBefore);
    await expect(
      handle.executeUpdate(runTransferNowUpdate, { args: [{ kind: 'ordersImport' }] }),
    ).rejects.toThrow();

    await handle.executeUpdate(resumeUpdate);
    await eventually(
      () => stack.store.listOrders(sellerId),
      (o) => o.length === importedBefore + 3,
      15_000,
    );

    const returnsBefore = (await stack.status(handle)).transfers.returnsImport!.lastRunAt!;
    await handle.executeUpdate(runTransferNowUpdate, { args: [{ kind: 'returnsImport' }] });
    const after = await stack.waitFor(
      handle,
      (s) => s.transfers.returnsImport!.lastRunAt! > returnsBefore,
      10_000,
    );
    expect(after.transfers.returnsImport?.lastResult).toBe('ok');
  });

  it('after the v2 upgrade, shipping profiles sync', async () => {
    const { nonce, authorizeUrl } = await stack.beginConsent(sellerId, 'v2');
    await stack.installApp('v2', stack.lastPartnerUser(partnerId));
    const params = await stack.consentAtOtto(authorizeUrl, stack.lastPartnerUser(partnerId));
    await stack.deliverCallback(handle, nonce, params);
    const v2 = await stack.waitFor(
      handle,
      (s) => s.appVersion === 'v2' && s.transfers.shippingProfilesSync?.lastResult === 'ok',
      30_000,
    );
    expect(v2.transfers.shippingProfilesSync?.lastDetail).toMatch(/profile/);
    const log = await stack.requests();
    expect(log.filter((r) => r.token === 'expired')).toEqual([]);
  });
});
