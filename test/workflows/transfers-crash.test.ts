/**
 * Exactly once under crashes: OTTO gets new orders and status changes continuously while the worker
 * process is SIGKILLed at random moments and restarted. At the end every OTTO order is in the store
 * exactly once with its latest status, the shop's feed (read all along) handed it no order twice unchanged,
 * and no request went out with an expired token.
 */
import { TestStack } from '../support/stack';
import { WorkerProcess } from '../support/worker-process';
import { eventually, uniqueName } from '../support/temporal';

const ORDERS = Number(process.env.CRASH_ORDERS ?? 2_000);
const KILLS = Number(process.env.CRASH_KILLS ?? 3);

let stack: TestStack;
let worker: WorkerProcess | undefined;
/** The shop's feed reader runs while this holds (afterAll stops it too, should the test fail early). */
let importing = false;

beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: 60,
    inProcessWorkers: false,
    settings: {
      tokenRefreshMarginMs: 20_000,
      transferIntervalsMs: {
        ordersImport: 500,
        stockExport: null,
        pricesExport: null,
        returnsImport: null,
        shippingProfilesSync: null,
      },
      transferRetryMaxIntervalMs: 500,
    },
  });
  worker = await WorkerProcess.start(stack.workerEnv());
}, 90_000);

afterAll(async () => {
  importing = false;
  await worker?.kill();
  await stack?.close();
});

it(`imports ${ORDERS} orders exactly once across ${KILLS} worker SIGKILLs`, async () => {
  const { handle, sellerId, partner } = await stack.connectSeller(uniqueName('crash'));
  const batches = 20;
  const perBatch = Math.ceil(ORDERS / batches);
  const killAfterBatch = new Set(
    Array.from(
      { length: KILLS },
      (_, i) => Math.floor(((i + 1) * batches) / (KILLS + 1)) + Math.floor(Math.random() * 2),
    ),
  );
  // The shop reads the order feed the whole time, as it would: a re-import after a crash must not hand
  // it an order again unchanged (the store's primary key keeps each order once; the feed is what the
  // shop sees twice).
  const delivered: Array<{ salesOrderId: string; status: string; data: string }> = [];
  let feedCursor = 0;
  const readFeed = async () => {
    for (;;) {
      const page = await stack.store.orderFeed(sellerId, feedCursor, 1_000);
      for (const entry of page) {
        delivered.push({
          salesOrderId: entry.item.salesOrderId,
          status: entry.item.fulfillmentStatus,
          data: JSON.stringify(entry.item.data),
        });
        feedCursor = entry.changeSeq;
      }
      if (page.length === 0) return;
    }
  };
  importing = true;
  const shop = (async () => {
    while (importing) {
      await readFeed();
      await new Promise((resolve) => setTimeout(resolve, 100)); // the shop's poll interval
    }
  })();
  shop.catch(() => {}); // awaited below; this only keeps a failure before then from going unhandled

  const ids: string[] = [];
  for (let b = 0; b < batches; b++) {
    const created = await stack.admin<Array<{ salesOrderId: string }>>(
      'POST',
      `/partners/${partner.partnerId}/orders`,
      { count: perBatch },
    );
    ids.push(...created.map((o) => o.salesOrderId));
    // Change a few older orders too: the import must end with their latest status.
    for (let k = 0; k < 3; k++) {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      await stack.admin('POST', `/partners/${partner.partnerId}/orders/${id}/status`, {
        fulfillmentStatus: k % 2 ? 'SENT' : 'CANCELLED_BY_PARTNER',
      });
    }
    if (killAfterBatch.has(b)) {
      // Pull the plug while the workflow imports the batches just created (0.5 s interval).
      await worker!.kill('SIGKILL');
      worker = await WorkerProcess.start(stack.workerEnv());
    }
  }

  const expected = await stack.orderStatusesAtOtto(partner.partnerId);
  expect(expected.size).toBe(batches * perBatch);
  const stored = await eventually(
    () => stack.store.listOrders(sellerId),
    (orders) =>
      orders.length === expected.size &&
      orders.every((o) => expected.get(o.salesOrderId) === o.fulfillmentStatus),
    120_000,
  );
  expect(new Set(stored.map((o) => o.salesOrderId)).size).toBe(expected.size);
  // Two more imports after the last change: each reads the overlap again (ORDERS_OVERLAP_MS), which
  // must be no-op upserts, nothing new for the feed.
  for (let i = 0; i < 2; i++) {
    const before = (await stack.status(handle)).transfers.ordersImport?.lastRunAt;
    await stack.waitFor(
      handle,
      (s) => s.transfers.ordersImport?.lastRunAt !== before && s.transfers.ordersImport?.lastResult === 'ok',
      30_000,
    );
  }
  importing = false;
  await shop;
  await readFeed();
  // Each order reached the shop, ending at its latest status, and never twice with the same content.
  const latest = new Map(delivered.map((d) => [d.salesOrderId, d.status]));
  expect(latest).toEqual(expected);
  const seen = new Set<string>();
  const again = delivered.filter((d) => {
    const key = `${d.salesOrderId} ${d.data}`;
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  });
  expect(again.map((d) => d.salesOrderId)).toEqual([]);
  const log = await stack.admin<Array<{ token?: string }>>('GET', '/requests');
  expect(log.filter((r) => r.token === 'expired')).toEqual([]);
}, 300_000);
