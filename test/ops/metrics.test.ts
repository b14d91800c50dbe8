/**
 * The series operators alert on: the worker process (worker/index.ts, as deployed) serves the Temporal
 * SDK's Prometheus metrics and our own (token mints by result, transfers by kind and result); the API's
 * /metrics (on the ops port) has connections by state from visibility, cached between scrapes.
 */
import request from 'supertest';
import { createTemporalSellerConnections } from '../../api/seller-connections';
import { createMetrics, trackConnections } from '../../api/metrics';
import { freePort } from '../../scripts/temporal-dev-server';
import { ottoEndpoint } from '../../activities/otto-http';
import { createWorkerMetrics } from '../../worker/metrics';
import { testApp } from '../api/test-app';
import { TestStack } from '../support/stack';
import { eventually } from '../support/temporal';
import { WorkerProcess } from '../support/worker-process';

const scrape = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return await res.text();
};
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('worker metrics (worker/index.ts in its own process)', () => {
  let stack: TestStack;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    stack = await TestStack.start({
      tokenTtlSeconds: 2,
      inProcessWorkers: false,
      settings: {
        tokenRefreshMarginMs: 1_700,
        refreshJitterMs: 0,
        refreshRetryMaxIntervalMs: 200,
        revocationProbeIntervalMs: 1_000,
      },
    });
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await stack?.close();
  });

  it('serves the SDK metrics and our token-mint and transfer series', async () => {
    worker = await WorkerProcess.start({
      ...stack.workerEnv(),
      WORKER_METRICS_PORT: String(await freePort()),
      WORKER_APP_METRICS_PORT: '0',
    });
    // The ready line names both endpoints (the ports may be chosen by the harness or the OS).
    const ready = /"sdkMetrics":"([^"]+)","appMetrics":"([^"]+)"/.exec(worker.log);
    if (!ready?.[1] || !ready[2])
      throw new Error(`no metrics URLs in the worker's ready line:\n${worker.log}`);
    const [sdkUrl, appUrl] = [ready[1], ready[2]];
    expect((await fetch(appUrl.replace('/metrics', '/readyz'))).status).toBe(200);
    const { handle } = await stack.connectSeller();
    await stack.waitFor(handle, (s) => s.token.refreshCount >= 3);

    const app = await eventually(
      () => scrape(appUrl),
      (text) => (sample(text, 'otto_connect_token_mints_total{result="ok"}') ?? 0) >= 2,
    );
    expect(sample(app, 'otto_connect_token_mints_total{result="failed"}')).toBe(0);
    expect(sample(app, 'otto_connect_token_mints_total{result="revoked"}')).toBe(0);
    expect(app).toContain('# TYPE otto_connect_transfers_total counter');
    expect(app).toContain('# TYPE otto_connect_transfer_items_total counter');

    const sdk = await scrape(sdkUrl);
    for (const series of [
      'temporal_workflow_task_execution_latency',
      'temporal_activity_execution_latency',
      'temporal_worker_task_slots_available',
      'temporal_num_pollers',
    ])
      expect([series, sdk.includes(series)]).toEqual([series, true]);
    await stack.disconnect(handle);
  }, 90_000);

  it('counts transfers by kind and result, and items moved', async () => {
    const metrics = createWorkerMetrics({ defaultMetrics: false });
    metrics.transfer('ordersImport', 'ok', 12);
    metrics.transfer('ordersImport', 'failed', 0);
    metrics.transfer('shippingProfilesSync', 'skipped', 0);
    metrics.tokenMint('revoked');
    const text = await metrics.registry.metrics();
    expect(sample(text, 'otto_connect_transfers_total{kind="ordersImport",result="ok"}')).toBe(1);
    expect(sample(text, 'otto_connect_transfers_total{kind="ordersImport",result="failed"}')).toBe(1);
    expect(sample(text, 'otto_connect_transfers_total{kind="shippingProfilesSync",result="skipped"}')).toBe(
      1,
    );
    expect(sample(text, 'otto_connect_transfer_items_total{kind="ordersImport",result="ok"}')).toBe(12);
    expect(sample(text, 'otto_connect_token_mints_total{result="revoked"}')).toBe(1);
  });
});

describe('worker metrics: OTTO calls, oldest token, webhook deliveries', () => {
  it('labels OTTO calls by route pattern, never by id', () => {
    expect(ottoEndpoint('/v4/orders')).toBe('/v4/orders');
    expect(ottoEndpoint('/prefix/v1/apps/app-1/installations/inst-9/accessToken')).toBe(
      '/v1/apps/:appId/installations/:installationId/accessToken',
    );
    expect(ottoEndpoint('/v1/apps/app-1/installation')).toBe('/v1/apps/:appId/installation');
    expect(ottoEndpoint('/v1/shipping-profiles/sp-123/')).toBe('/v1/shipping-profiles/:id');
    expect(ottoEndpoint('/v9/something/12345')).toBe('other');
  });

  it('counts OTTO calls with latency, reports the oldest live token and counts webhook deliveries', async () => {
    let now = 1_000_000;
    const metrics = createWorkerMetrics({ defaultMetrics: false, now: () => now });
    expect(sample(await metrics.registry.metrics(), 'otto_connect_token_oldest_expiry_seconds')).toBeNaN();
    metrics.ottoCall({ endpoint: '/v4/orders', method: 'GET', status: '200', seconds: 0.2 });
    metrics.ottoCall({ endpoint: '/v4/orders', method: 'GET', status: '429', seconds: 0.01 });
    metrics.tokenIssued('app/i-1', now + 60_000);
    metrics.tokenIssued('app/i-2', now + 30_000);
    metrics.tokenIssued('app/i-2', now + 90_000); // a newer mint replaces the older
    metrics.webhookDelivery('delivered');
    let text = await metrics.registry.metrics();
    expect(
      sample(
        text,
        'otto_connect_otto_request_duration_seconds_count{endpoint="/v4/orders",method="GET",status="429"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'otto_connect_otto_request_duration_seconds_bucket{le="0.25",endpoint="/v4/orders",method="GET",status="200"}',
      ),
    ).toBe(1);
    expect(sample(text, 'otto_connect_token_oldest_expiry_seconds')).toBe(60);
    expect(sample(text, 'otto_connect_webhook_deliveries_total{result="delivered"}')).toBe(1);
    expect(sample(text, 'otto_connect_webhook_deliveries_total{result="failed"}')).toBe(0);
    now += 70_000; // i-1 expired: dropped
    text = await metrics.registry.metrics();
    expect(sample(text, 'otto_connect_token_oldest_expiry_seconds')).toBe(20);
  });
});

describe('API /metrics: connections by state', () => {
  it('shows every state from the port, cached between scrapes, and says when counting failed', async () => {
    // /metrics is on the ops port (createOpsApp), not on the public API.
    const { app, opsApp, connections } = testApp();
    expect((await request(app).get('/metrics')).status).toBe(404);
    connections.setSeller('s-1', { state: 'active' });
    connections.setSeller('s-2', { state: 'active' });
    connections.setSeller('s-3', { state: 'degraded' });
    const first = (await request(opsApp).get('/metrics')).text;
    expect(sample(first, 'otto_connect_connections{state="active"}')).toBe(2);
    expect(sample(first, 'otto_connect_connections{state="degraded"}')).toBe(1);
    expect(sample(first, 'otto_connect_connections{state="revoked"}')).toBe(0);
    expect(sample(first, 'otto_connect_connections_count_ok')).toBe(1);
    for (const series of ['otto_connect_oauth_callbacks_total', 'otto_connect_http_request_duration_seconds'])
      expect(first).toContain(`# TYPE ${series}`);

    connections.setSeller('s-4', { state: 'active' });
    const cached = (await request(opsApp).get('/metrics')).text;
    expect(sample(cached, 'otto_connect_connections{state="active"}')).toBe(2);
    expect(connections.calls.filter((c) => c.method === 'countByState')).toHaveLength(1);
  });

  it('keeps the last counts and reports count_ok 0 while Temporal does not answer', async () => {
    let now = 0;
    let fail = false;
    const metrics = createMetrics();
    trackConnections(
      metrics,
      async () => {
        if (fail) throw new Error('unavailable');
        return await Promise.resolve({ active: 3 } as never);
      },
      { cacheMs: 1_000, now: () => now },
    );
    expect(sample(await metrics.registry.metrics(), 'otto_connect_connections{state="active"}')).toBe(3);
    fail = true;
    now = 5_000;
    const text = await metrics.registry.metrics();
    expect(sample(text, 'otto_connect_connections{state="active"}')).toBe(3);
    expect(sample(text, 'otto_connect_connections_count_ok')).toBe(0);
  });

  it('a count Temporal is slow to answer does not hold up the scrape: the last values, and their age', async () => {
    let now = 0;
    let answer: ((counts: never) => void) | undefined;
    const metrics = createMetrics();
    let first = true;
    trackConnections(
      metrics,
      () => {
        if (first) {
          first = false;
          return Promise.resolve({ active: 3 } as never);
        }
        // Temporal hangs: the count answers only when the test says so.
        return new Promise((resolve) => (answer = resolve));
      },
      { cacheMs: 1_000, waitMs: 50, now: () => now },
    );
    expect(sample(await metrics.registry.metrics(), 'otto_connect_connections{state="active"}')).toBe(3);
    now = 5_000;
    // Before: the scrape waited for the count (up to the 10 s call timeout): every series missing.
    const slow = await metrics.registry.metrics();
    expect(sample(slow, 'otto_connect_connections{state="active"}')).toBe(3);
    expect(sample(slow, 'otto_connect_connections_count_age_seconds')).toBe(5);
    expect(slow).toContain('# TYPE otto_connect_http_request_duration_seconds');
    answer!({ active: 4 } as never);
    await new Promise((resolve) => setImmediate(resolve));
    const later = await metrics.registry.metrics();
    expect(sample(later, 'otto_connect_connections{state="active"}')).toBe(4);
    expect(sample(later, 'otto_connect_connections_count_age_seconds')).toBe(0);
  });

  it('counts by state through visibility on the real Temporal adapter', async () => {
    const stack = await TestStack.start();
    try {
      const { handle } = await stack.connectSeller();
      const port = createTemporalSellerConnections({
        client: stack.env.client,
        taskQueue: stack.taskQueue,
        uiUrl: 'http://localhost:8233',
        overrides: stack.settings,
        callTimeoutMs: 10_000,
        // The shared dev server runs other files' sellers: this stack's only.
        scopeToTaskQueue: true,
      });
      const counts = await eventually(
        () => port.countByState(),
        (c) => c.active === 1,
      );
      expect(counts).toMatchObject({ pending_consent: 0, active: 1, disconnected: 0 });
      await stack.disconnect(handle);
      await handle.result();
      expect(
        await eventually(
          () => port.countByState(),
          (c) => c.disconnected === 1,
        ),
      ).toMatchObject({ active: 0, disconnected: 1 });
    } finally {
      await stack.close();
    }
  }, 60_000);
});
