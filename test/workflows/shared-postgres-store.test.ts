/**
 * Two worker processes share the PostgreSQL seller store (SELLER_STORE=postgres://…, migrated by
 * whichever starts first): sellers' order imports run on both, while orders are created and changed at
 * OTTO; every order lands exactly once with its latest status, and the shop's feed lists each once.
 * The processes read their environment as in production: RETURN_STATUSES reaches the returns import.
 */
import { TestStack, type LoggedRequest } from '../support/stack';
import { eventually, uniqueName } from '../support/temporal';
import { WorkerProcess } from '../support/worker-process';

let stack: TestStack;
const workers: WorkerProcess[] = [];
/** The stack's worker environment, with the returns read by status (any case; a duplicate dropped). */
const workerEnv = () => ({ ...stack.workerEnv(), RETURN_STATUSES: 'announced, ACCEPTED,Announced' });

beforeAll(async () => {
  stack = await TestStack.start({
    inProcessWorkers: false,
    sellerStore: 'postgres',
    settings: {
      refreshJitterMs: 0,
      transferIntervalsMs: {
        ordersImport: 500,
        stockExport: 60_000,
        pricesExport: 60_000,
        returnsImport: 60_000,
        shippingProfilesSync: 60_000,
      },
      transferRetryMaxIntervalMs: 500,
    },
  });
  expect(stack.storePath).toMatch(/^postgres:\/\//);
  // Both start at once: the migration lock lets one migrate, the other finds the schema done.
  workers.push(...(await Promise.all([WorkerProcess.start(workerEnv()), WorkerProcess.start(workerEnv())])));
}, 120_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGTERM');
  await stack?.close();
});

it('imports every seller’s orders without losing or duplicating one', async () => {
  expect(workers.map((w) => /seller store/.test(w.log))).toEqual([true, true]);
  const sellers = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const { handle, sellerId, partner } = await stack.connectSeller(uniqueName('pgshop'));
      return { handle, sellerId, partnerId: partner.partnerId };
    }),
  );
  // Orders arrive in waves while the imports run; some change status afterwards.
  for (let wave = 0; wave < 5; wave++) {
    for (const s of sellers) {
      const created = await stack.admin<Array<{ salesOrderId: string }>>(
        'POST',
        `/partners/${s.partnerId}/orders`,
        {
          count: 30,
        },
      );
      if (wave % 2 === 0)
        await stack.admin('POST', `/partners/${s.partnerId}/orders/${created[3]!.salesOrderId}/status`, {
          fulfillmentStatus: 'SENT',
        });
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  for (const s of sellers) {
    const atOtto = await stack.orderStatusesAtOtto(s.partnerId);
    expect(atOtto.size).toBe(150);
    const stored = await eventually(
      () => stack.store.listOrders(s.sellerId),
      (orders) =>
        orders.length === atOtto.size &&
        orders.every((o) => o.fulfillmentStatus === atOtto.get(o.salesOrderId)),
      60_000,
    );
    expect(new Set(stored.map((o) => o.salesOrderId)).size).toBe(stored.length);
    const feed = await stack.store.orderFeed(s.sellerId, 0, 1000);
    expect(feed.map((e) => e.item.salesOrderId).sort()).toEqual([...atOtto.keys()].sort());
    expect(new Set(feed.map((e) => e.changeSeq)).size).toBe(feed.length);
  }
  for (const s of sellers) await stack.disconnect(s.handle);
}, 180_000);

it('reads the returns of RETURN_STATUSES, one status per pass, from the worker processes’ environment', async () => {
  const { handle, partner } = await stack.connectSeller(uniqueName('pgshop'));
  // The first tick runs every transfer, the returns import among them: a pass per status, none without.
  const statusesOf = (log: LoggedRequest[]) =>
    log.map((r) => new URLSearchParams(r.query ?? '').get('status'));
  const returns = await eventually(
    async () =>
      (await stack.requests()).filter((r) => r.partnerId === partner.partnerId && r.path === '/v3/returns'),
    (log) => new Set(statusesOf(log)).size >= 2,
    30_000,
  );
  expect(new Set(statusesOf(returns))).toEqual(new Set(['ANNOUNCED', 'ACCEPTED']));
  await stack.disconnect(handle);
}, 60_000);
