/**
 * The real Temporal adapter behind createApp(), on the shared dev server with the OTTO emulator and the
 * workers (TestStack): consent through the API, OTTO's consent pages, the callback, `active`; support
 * and admin routes on the real workflow; and 503s while Temporal is unreachable, recovering after.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import request from 'supertest';
import { loadConfig } from '../../common/config';
import { apiConfigSchema, type ApiConfig } from '../../api/config';
import { createApp } from '../../api/create-app';
import { createOpsApp } from '../../api/create-ops-app';
import { createMetrics } from '../../api/metrics';
import { statusSummaryViewSchema } from '../../api/http-schemas';
import { createTemporalClient, createTemporalSellerConnections } from '../../api/seller-connections';
import { freePort } from '../../scripts/temporal-dev-server';
import { TestStack, PUBLIC_BASE_URL } from '../support/stack';
import { assistantSession, walkConsent } from '../support/stack-api';
import { eventually, testAddress, uniqueName } from '../support/temporal';
import { ADMIN_KEY, SUPPORT_KEY, bodyOf, errorOf } from './test-app';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const support = { Authorization: `Bearer ${SUPPORT_KEY}` };

function stackConfig(stack: TestStack): ApiConfig {
  return loadConfig(apiConfigSchema, {
    NODE_ENV: 'test',
    OTTO_CONNECT_ENV: 'dev',
    API_KEYS: `admin:${ADMIN_KEY},support:${SUPPORT_KEY}`,
    SEAL_KEYS: 'unused:' + Buffer.alloc(32).toString('base64'),
    STATE_SIGNING_KEY: 'integration-state-key-0123456789abcdef',
    TASK_QUEUE: stack.taskQueue,
    PUBLIC_BASE_URL,
    OTTO_AUTH_BASE_URL: stack.emulatorUrl,
    OTTO_API_BASE_URL: stack.emulatorUrl,
    OTTO_APPS: JSON.stringify(stack.apps),
  });
}

describe('the API on the real Temporal adapter', () => {
  let stack: TestStack;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    stack = await TestStack.start();
    const config = stackConfig(stack);
    const connections = createTemporalSellerConnections({
      client: stack.env.client,
      taskQueue: stack.taskQueue,
      uiUrl: config.TEMPORAL_UI_URL,
      callTimeoutMs: 10_000,
    });
    // The workers unseal with the stack's sealer, so the API seals with it too.
    app = createApp({ config, connections, sealer: stack.sealer });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const status = async (sellerId: string) => {
    const res = await request(app).get(`/api/sellers/${sellerId}/connection`).set(support);
    if (res.status !== 200) throw new Error(`status ${res.status}: ${res.text}`);
    return statusSummaryViewSchema.parse(res.body);
  };

  /** "Allow access" for app v1, as the shop's admin. */
  const allowAccess = (sellerId: string) =>
    request(app).post(`/api/sellers/${sellerId}/connection`).set(admin).send({ appVersion: 'v1' });

  /** The seller's browser from our consent link through OTTO's pages, back with the callback's query. */
  const walk = (
    started: Awaited<ReturnType<typeof allowAccess>>,
    partner: Parameters<typeof walkConsent>[3],
    options?: Parameters<typeof walkConsent>[4],
  ) => walkConsent(stack, app, bodyOf<{ authorizeUrl: string }>(started).authorizeUrl, partner, options);

  it('consent → OTTO → callback → active, then support and admin routes on the running workflow', async () => {
    const sellerId = uniqueName('api-seller');
    const partner = await stack.createPartner();

    const started = await allowAccess(sellerId);
    expect(started.status).toBe(201);
    expect(bodyOf<{ state: string }>(started).state).toBe('pending_consent');

    const { params, cookie, consentUrl } = await walk(started, partner);
    expect(consentUrl).toBe(stack.apps.find((a) => a.version === 'v1')!.installationUrl);
    expect(params.iss).toBe(`${stack.emulatorUrl}/sec-api/auth/realms/otto-partner`);
    const callback = await request(app).get('/oauth/callback').set('Cookie', cookie).query(params);
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/assistant/otto');

    const active = await eventually(
      () => status(sellerId),
      (s) => s.state === 'active',
      30_000,
    );
    expect(active).toMatchObject({
      sellerId,
      appVersion: 'v1',
      partnerId: partner.partnerId,
      lastError: null,
    });
    expect(active.temporal.uiUrl).toBe(
      `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(`otto-seller:${sellerId}`)}/${active.temporal.runId}/history`,
    );
    expect(JSON.stringify(active)).not.toContain(params.code);

    // The same callback again is refused, and the assistant shows the completed step.
    const replay = await request(app).get('/oauth/callback').query(params);
    expect(replay.status).toBe(400);
    const { cookie: session } = await assistantSession(app, sellerId, ADMIN_KEY);
    expect((await request(app).get('/assistant/otto').set('Cookie', session)).text).toContain(
      'authorization completed',
    );

    const listed = await eventually(
      async () =>
        (await request(app).get('/api/connections?state=active&limit=1000').set(support)).body as {
          items: { sellerId: string }[];
        },
      (body) => body.items.some((c) => c.sellerId === sellerId),
    );
    expect(listed.items.find((c) => c.sellerId === sellerId)).toMatchObject({
      state: 'active',
      appVersion: 'v1',
      running: true,
      status: { state: 'active', partnerId: partner.partnerId },
    });

    const again = await allowAccess(sellerId);
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('already_connected');

    expect(
      (
        await request(app)
          .post(`/api/sellers/${sellerId}/connection/pause`)
          .set(admin)
          .send({ reason: 'test' })
      ).body,
    ).toEqual({ sellerId, state: 'paused' });
    expect((await request(app).post(`/api/sellers/${sellerId}/connection/pause`).set(admin)).status).toBe(
      409,
    );
    expect((await request(app).post(`/api/sellers/${sellerId}/connection/resume`).set(admin)).body).toEqual({
      sellerId,
      state: 'active',
    });

    const run = await request(app).post(`/api/sellers/${sellerId}/transfers/ordersImport/run`).set(admin);
    expect(run.status).toBe(202);

    expect((await request(app).delete(`/api/sellers/${sellerId}/connection`).set(admin)).body).toEqual({
      sellerId,
      state: 'disconnected',
    });
    const ended = await request(app).post(`/api/sellers/${sellerId}/connection/pause`).set(admin);
    expect(ended.status).toBe(409);
    expect(errorOf(ended).code).toBe('connection_ended');
    expect((await status(sellerId)).state).toBe('disconnected');
  });

  it('“Allow access” while the disconnected run is still finishing waits for it to close, then starts anew', async () => {
    const sellerId = uniqueName('api-seller');
    const partner = await stack.createPartner();
    const started = await allowAccess(sellerId);
    const { params, cookie } = await walk(started, partner);
    await request(app).get('/oauth/callback').set('Cookie', cookie).query(params);
    const firstRun = (
      await eventually(
        () => status(sellerId),
        (s) => s.state === 'active',
        30_000,
      )
    ).temporal.runId;

    // The first tick's orders page has been answered, so the fault below meets the run-now transfer.
    await eventually(
      () => stack.requests(),
      (log) =>
        log.some((r) => r.partnerId === partner.partnerId && r.method === 'GET' && r.path === '/v4/orders'),
    );
    // An orders page that takes 4 s keeps a transfer in flight: the disconnected run waits for its
    // cancellation (the activity hears of it only at its next heartbeat), so it stays open meanwhile.
    // Scoped to this seller's partner: the first test's seller may still be finishing its own first tick
    // (its disconnect cancels it only at its next heartbeat), and its orders page must not take the fault.
    await stack.withFault(
      {
        method: 'GET',
        pathPattern: '^/v4/orders',
        latencyMs: 4_000,
        times: 1,
        partnerId: partner.partnerId,
      },
      async () => {
        expect(
          (await request(app).post(`/api/sellers/${sellerId}/transfers/ordersImport/run`).set(admin)).status,
        ).toBe(202);
        await eventually(
          () => stack.admin<unknown[]>('GET', '/faults'),
          (faults) => faults.length === 0, // fired: the page is being answered
        );
        expect((await request(app).delete(`/api/sellers/${sellerId}/connection`).set(admin)).body).toEqual({
          sellerId,
          state: 'disconnected',
        });
        const old = stack.env.client.workflow.getHandle(`otto-seller:${sellerId}`, firstRun);
        expect((await old.describe()).status.name).toBe('RUNNING');
        // Commands on the ended connection say so, open run or not.
        const paused = await request(app).post(`/api/sellers/${sellerId}/connection/pause`).set(admin);
        expect(errorOf(paused).code).toBe('connection_ended');

        const again = await allowAccess(sellerId);
        expect(again.status).toBe(201);
        expect(bodyOf<{ state: string }>(again).state).toBe('pending_consent');
        expect((await old.describe()).status.name).toBe('COMPLETED');
        const now = await status(sellerId);
        expect(now.state).toBe('pending_consent');
        expect(now.temporal.runId).not.toBe(firstRun);
      },
    );
  });

  it('a user without “Dienstleister Freigaben” is refused by OPC itself: nothing reaches us, consent stays pending', async () => {
    const sellerId = uniqueName('api-seller');
    const partner = await stack.createPartner({ dienstleisterFreigaben: false });
    const started = await allowAccess(sellerId);
    await expect(walk(started, partner)).rejects.toThrow(/Dienstleister Freigaben/);
    const s = await status(sellerId);
    expect(s.state).toBe('pending_consent');
    expect(s.lastError).toBeNull();
  });

  it('the seller cancels at OTTO’s login: error=access_denied reaches the workflow and the assistant explains it', async () => {
    const sellerId = uniqueName('api-seller');
    const partner = await stack.createPartner();
    const started = await allowAccess(sellerId);
    const { params, cookie } = await walk(started, partner, { decision: 'deny' });
    expect(params.error).toBe('access_denied');
    expect((await request(app).get('/oauth/callback').set('Cookie', cookie).query(params)).status).toBe(303);

    const refused = await eventually(
      () => status(sellerId),
      (s) => s.lastError !== null,
    );
    expect(refused.state).toBe('pending_consent');
    const { cookie: session } = await assistantSession(app, sellerId, ADMIN_KEY);
    const page = (await request(app).get('/assistant/otto').set('Cookie', session)).text.replace(/\s+/g, ' ');
    expect(page).toContain('Allow access');
    expect(refused.lastError).toMatch(/^Access was not granted at OTTO/);
    expect(page).toContain('Access was not granted at OTTO');
  });

  it('a seller who never connected is 404', async () => {
    const res = await request(app)
      .get(`/api/sellers/${uniqueName('nobody')}/connection`)
      .set(support);
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('seller_not_connected');
  });
});

/** A TCP forwarder to the dev server that the test can switch off and on: "Temporal stopped / back". */
class Switch {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}
  async on(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }
  async off(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

describe('with Temporal unreachable', () => {
  it('answers 503 with a clear JSON error, keeps serving, and recovers when Temporal is back', async () => {
    const [host, port] = testAddress().split(':') as [string, string];
    const gate = new Switch(await freePort(), { host, port: Number(port) });
    const temporal = createTemporalClient({ address: `127.0.0.1:${gate.port}`, namespace: 'default' });
    const config = loadConfig(apiConfigSchema, {
      NODE_ENV: 'test',
      OTTO_CONNECT_ENV: 'dev',
      API_KEYS: `admin:${ADMIN_KEY},support:${SUPPORT_KEY}`,
      SEAL_KEYS: 'k1:' + Buffer.alloc(32, 1).toString('base64'),
      STATE_SIGNING_KEY: 'outage-state-key-0123456789abcdef0123',
      OTTO_APPS: JSON.stringify([{ version: 'v1', appId: 'a', clientId: 'c', clientSecret: 's' }]),
      TASK_QUEUE: uniqueName('outage'),
    });
    const connections = createTemporalSellerConnections({
      client: temporal.client,
      taskQueue: config.TASK_QUEUE,
      uiUrl: config.TEMPORAL_UI_URL,
      callTimeoutMs: 3_000,
    });
    const metrics = createMetrics();
    const app = createApp({ config, connections, metrics });
    const opsApp = createOpsApp({ connections, metrics });
    const sellerId = uniqueName('outage-seller');
    try {
      const started = Date.now();
      for (const call of [
        request(app).get(`/api/sellers/${sellerId}/connection`).set(support),
        request(app).post(`/api/sellers/${sellerId}/connection`).set(admin),
        request(app).get('/api/connections').set(support),
        request(app).post(`/api/sellers/${sellerId}/connection/pause`).set(admin),
        request(app).post('/api/settings/apply').set(admin),
        request(opsApp).get('/readyz'),
      ]) {
        const res = await call;
        expect(res.status).toBe(503);
        expect(errorOf(res)).toEqual({
          code: 'temporal_unavailable',
          message: expect.stringContaining('The workflow service (Temporal) is unreachable') as string,
        });
        expect(res.text).not.toMatch(/\.js:\d+|\.ts:\d+/);
      }
      expect(Date.now() - started).toBeLessThan(6 * 4_000);
      expect((await request(app).get('/healthz')).status).toBe(200);

      await gate.on();
      await eventually(
        async () => (await request(opsApp).get('/readyz')).status,
        (s) => s === 200,
        30_000,
      );
      const back = await request(app).get(`/api/sellers/${sellerId}/connection`).set(support);
      expect(back.status).toBe(404);
    } finally {
      await gate.off();
      await temporal.close();
    }
  });
});
