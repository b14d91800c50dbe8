/**
 * Chaos: sellers stay connected and data stays exact while a bounded driver SIGKILLs and restarts the
 * worker, restarts the Temporal server (persistent file), and injects OTTO faults (5xx bursts, latency,
 * 429 storms, a token-endpoint outage). `npm test` runs a short form; `npm run test:chaos` runs 10 minutes
 * (CHAOS_SECONDS). Invariants at the end: every OTTO order in the store exactly once with its latest
 * status; OTTO's stock equals the store's; no request with an expired token; every seller back to
 * `active` (or `revoked` where revoked) within a bound; every run's history under the bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { sellerWorkflowId } from '../../workflows/definitions';
import { allRuns } from '../support/history';
import { TestStack, type SellerHandle } from '../support/stack';
import { eventually, uniqueName } from '../support/temporal';
import { WorkerProcess } from '../support/worker-process';

const CHAOS_SECONDS = Number(process.env.CHAOS_SECONDS ?? 40);
const SELLERS = Number(process.env.CHAOS_SELLERS ?? 4);
const MAX_HISTORY = 300;
const RECOVERY_BOUND_MS = 120_000;

interface Seller {
  sellerId: string;
  partnerId: string;
  handle: SellerHandle;
  revoked: boolean;
}

let dataDir: string;
let server: DevServer;
let serverOptions: Parameters<typeof startDevServer>[0];
let stack: TestStack;
let worker: WorkerProcess | undefined;
const log: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'otto-chaos-'));
  serverOptions = {
    cliPath: process.env.TEMPORAL_TEST_CLI ?? 'temporal',
    port: await freePort(),
    dbFile: join(dataDir, 'temporal.db'),
  };
  server = await startDevServer(serverOptions);
  stack = await TestStack.start({
    temporalAddress: server.address,
    inProcessWorkers: false,
    tokenTtlSeconds: 20,
    settings: {
      tokenRefreshMarginMs: 10_000,
      refreshJitterMs: 1_000,
      refreshRetryMaxIntervalMs: 1_000,
      revocationConfirmWindowMs: 500,
      transferIntervalsMs: {
        ordersImport: 1_000,
        stockExport: 1_000,
        pricesExport: null,
        returnsImport: null,
        shippingProfilesSync: null,
      },
      transferRetryWindowMs: 5_000,
      transferRetryMaxIntervalMs: 1_000,
      maxHistoryEvents: MAX_HISTORY,
    },
  });
  worker = await WorkerProcess.start(stack.workerEnv());
}, 120_000);

afterAll(async () => {
  await worker?.kill();
  await stack?.close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function restartTemporal(): Promise<void> {
  await server.stop();
  server = await startDevServer(serverOptions);
}

async function restartWorker(): Promise<void> {
  await worker?.kill('SIGKILL');
  worker = await WorkerProcess.start(stack.workerEnv());
}

const faults: Array<[string, () => Promise<void>]> = [
  ['kill worker', restartWorker],
  ['restart Temporal', restartTemporal],
  [
    '5xx burst on orders',
    async () =>
      void (await stack.admin('POST', '/faults', {
        method: 'GET',
        pathPattern: '^/v4/orders',
        status: 503,
        times: 15,
      })),
  ],
  [
    'latency on stock',
    async () =>
      void (await stack.admin('POST', '/faults', {
        pathPattern: '^/v1/availability',
        latencyMs: 1_500,
        times: 4,
      })),
  ],
  [
    '429 storm',
    async () =>
      void (await stack.admin('POST', '/faults', {
        pathPattern: '^/v(4|1)/',
        status: 429,
        retryAfterSeconds: 1,
        times: 25,
      })),
  ],
  [
    'token endpoint outage',
    async () => {
      const { id } = await stack.admin<{ id: string }>('POST', '/faults', {
        method: 'POST',
        pathPattern: '/accessToken$',
        status: 503,
      });
      // Long enough to hurt (a refresh fails and retries), short enough that tokens survive it.
      await new Promise((r) => setTimeout(r, 3_000));
      await stack.admin('DELETE', `/faults/${id}`);
    },
  ],
];

it(
  `keeps ${SELLERS} sellers connected and their data exact through ${CHAOS_SECONDS} s of chaos`,
  async () => {
    const sellers: Seller[] = [];
    for (let i = 0; i < SELLERS; i++) {
      const { sellerId, partner, handle } = await stack.connectSeller(uniqueName('chaos'));
      // OTTO refuses stock for SKUs the partner has no product for.
      await stack.registerProducts(
        partner.partnerId,
        Array.from({ length: 250 }, (_, k) => `SKU-${k}`),
      );
      sellers.push({ sellerId, partnerId: partner.partnerId, handle, revoked: false });
    }

    const until = Date.now() + CHAOS_SECONDS * 1_000;
    let step = 0;
    while (Date.now() < until) {
      // Business goes on: new orders, status changes, stock changes.
      for (const s of sellers.filter((x) => !x.revoked)) {
        const created = await stack.admin<Array<{ salesOrderId: string }>>(
          'POST',
          `/partners/${s.partnerId}/orders`,
          { count: 15 },
        );
        await stack.admin('POST', `/partners/${s.partnerId}/orders/${created[0]!.salesOrderId}/status`, {
          fulfillmentStatus: 'SENT',
        });
        await stack.store.setStock(
          s.sellerId,
          Array.from({ length: 30 }, (_, k) => ({
            sku: `SKU-${(step * 7 + k) % 250}`,
            quantity: (step + k) % 40,
          })),
        );
      }
      const [name, inject] = faults[step % faults.length]!;
      log.push(`${new Date().toISOString()} ${name}`);
      await inject();
      if (step === 3 && sellers.length > 1) {
        // One seller removes the app in OPC in the middle of it all.
        const victim = sellers[sellers.length - 1]!;
        victim.revoked = true;
        await stack.admin('POST', `/partners/${victim.partnerId}/revoke`, {});
        log.push(`${new Date().toISOString()} revoke ${victim.sellerId}`);
      }
      step++;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await stack.admin('DELETE', '/faults');
    console.log(`[chaos] ${step} injections:\n${log.join('\n')}`);

    const recoveredBy = Date.now() + RECOVERY_BOUND_MS;
    for (const s of sellers) {
      const want = s.revoked ? 'revoked' : 'active';
      await eventually(
        async () => {
          try {
            return (await stack.status(s.handle)).state;
          } catch {
            return 'unreachable';
          }
        },
        (state) => state === want,
        Math.max(1_000, recoveredBy - Date.now()),
      );
    }

    for (const s of sellers.filter((x) => !x.revoked)) {
      const expected = await stack.orderStatusesAtOtto(s.partnerId);
      const stored = await eventually(
        () => stack.store.listOrders(s.sellerId),
        (orders) =>
          orders.length === expected.size &&
          orders.every((o) => expected.get(o.salesOrderId) === o.fulfillmentStatus),
        60_000,
      );
      expect(new Set(stored.map((o) => o.salesOrderId)).size).toBe(expected.size);

      const storeStock = new Map((await stack.store.allStock(s.sellerId)).map((l) => [l.sku, l.quantity]));
      await eventually(
        () =>
          stack.admin<Array<{ sku: string; quantity: number }>>('GET', `/partners/${s.partnerId}/quantities`),
        (atOttoStock) =>
          atOttoStock.length === storeStock.size &&
          atOttoStock.every((q) => storeStock.get(q.sku) === q.quantity),
        60_000,
      );
    }

    const requests = await stack.admin<Array<{ token?: string; path: string; at: string }>>(
      'GET',
      '/requests',
    );
    expect(requests.filter((r) => r.token === 'expired')).toEqual([]);

    for (const s of sellers) {
      for (const { history } of await allRuns(stack.env.client, sellerWorkflowId(s.sellerId))) {
        // The bound, plus what a drain adds: running transfers, a mint and their workflow tasks settle (or
        // are cancelled after drainTimeoutMs) before the run continues as new.
        expect(history.events?.length ?? 0).toBeLessThanOrEqual(MAX_HISTORY + 60);
      }
    }
  },
  (CHAOS_SECONDS + 400) * 1_000,
);
