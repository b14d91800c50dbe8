/**
 * A whole connector stack for tests: the OTTO emulator on a random port, the seller workflow's workers on
 * unique task queues of the shared dev server, and helpers that drive a seller through consent the way
 * the API and a browser would (issue 6 replaces the hand-built parts with the real API).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities';
import { fetchTransport, undiciTransport, type HttpTransport } from '../../activities/otto-http';
import { buildAuthorizeUrl, createPkcePair, newNonce } from '../../common/oauth';
import type { FleetBreakerOptions } from '../../common/fleet-breaker-config';
import type { OttoApp } from '../../common/otto-apps';
import { createSealer, generateSealKey, parseSealKeys, type Sealer } from '../../common/seal';
import type { FaultInput } from '../../emulator/faults';
import { startEmulator } from '../../emulator/start-emulator';
import type { SellerStore } from '../../store/seller-store';
import { openPostgresSellerStore } from '../../store/postgres-seller-store';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import {
  beginConsentUpdate,
  consentCallbackUpdate,
  connectionStatusQuery,
  disconnectUpdate,
  sellerWorkflowId,
  WORKFLOW_ID_PREFIX,
  type AppVersion,
  type ConnectionState,
  type ConnectionStatus,
  type SettingsOverrides,
  type WorkflowSettingsInput,
} from '../../workflows/definitions';
import type { sellerConnection } from '../../workflows/seller-connection';
import { createWorkers, runWorkers, type CreateWorkersOptions } from '../../worker/create-workers';
import { isTransientUpdateFailure } from '../../api/seller-connections';
import { createTestDatabase, type TestDatabase } from './postgres';
import { connectTestEnv, eventually, uniqueName, workflowBundleCode } from './temporal';

export const PUBLIC_BASE_URL = 'http://localhost:3000';
export const REDIRECT_URI = `${PUBLIC_BASE_URL}/oauth/callback`;

export interface StackOptions {
  tokenTtlSeconds?: number;
  tokenRateLimitPerSecond?: number;
  tokenActivitiesPerSecond?: number;
  /**
   * The per-seller settings overrides every workflow this stack starts carries in its input
   * (`{ sellerId, overrides }`): short lifetimes and intervals for tests.
   */
  settings?: SettingsOverrides;
  /**
   * The in-process workers' own settings defaults (what TRANSFER_INTERVALS and friends are for a real
   * worker); overrides win over them. `restartWorkers()` can change them.
   */
  workerSettings?: WorkflowSettingsInput;
  /** Another Temporal server than the shared one (the chaos suite restarts its own). */
  temporalAddress?: string;
  /** false: start no in-process workers (the test runs worker processes itself, see workerEnv()). */
  inProcessWorkers?: boolean;
  /** Wraps the workers' fetch, e.g. to record every secret OTTO hands out. */
  fetch?: typeof fetch;
  /** How long OTTO takes to process a price update task (default 200 ms here; OTTO: asynchronous). */
  priceProcessingDelayMs?: number;
  /** WEBHOOK_URL and WEBHOOK_SECRET for the workers (default: webhooks off). */
  webhook?: { url: string; secret: string };
  /** The seller store: SQLite in a temp dir (default), or a fresh database on the harness's PostgreSQL. */
  sellerStore?: 'sqlite' | 'postgres';
  /** The in-process workers' fleet breaker (FLEET_BREAKER_* for a real worker); its defaults when absent. */
  fleetBreaker?: FleetBreakerOptions;
  /**
   * The in-process workers' OTTO_APPS list no scopes (an operator who does not know them): with OTTO's
   * token answer naming none either, the workers know no installation's scopes.
   */
  appsWithoutScopes?: boolean;
}

export interface Captured {
  /** Every plaintext secret that crossed the connector's HTTP client: codes, verifiers, tokens, client secrets. */
  secrets: Set<string>;
}

/** One entry of the emulator's request log (`GET /__admin/requests`). */
export interface LoggedRequest {
  at: string;
  method: string;
  path: string;
  /** The query string, secret-looking values redacted. */
  query?: string;
  status: number;
  partnerId?: string;
  token?: string;
  /** The id of the injected fault that answered or delayed it. */
  fault?: string;
}

export type SellerHandle = WorkflowHandle<typeof sellerConnection>;

export class TestStack {
  readonly captured: Captured = { secrets: new Set() };
  private workers: Worker[] = [];
  sealKeys = '';
  temporalAddress = '';
  store!: SellerStore;
  /** What SELLER_STORE is for worker processes: the SQLite file, or the PostgreSQL database's URL. */
  storePath = '';
  private storeDatabase: TestDatabase | undefined;
  /** The SQLite store's temp directory, removed by close() (absent with the PostgreSQL store). */
  private storeDir: string | undefined;
  tokenTaskQueue = '';
  webhook: { url: string; secret: string } | undefined;
  private running: Promise<void> | undefined;
  /** How the in-process workers are built (absent with `inProcessWorkers: false`). */
  private workerOptions: Omit<CreateWorkersOptions, 'settings'> | undefined;
  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly emulatorUrl: string,
    private readonly closeEmulator: () => Promise<void>,
    readonly apps: OttoApp[],
    readonly sealer: Sealer,
    readonly taskQueue: string,
    /** The overrides each workflow this stack starts carries (StackOptions.settings). */
    readonly settings: SettingsOverrides,
  ) {}

  static async start(opts: StackOptions = {}): Promise<TestStack> {
    const address = opts.temporalAddress ?? process.env.TEMPORAL_TEST_ADDRESS!;
    const env = await connectTestEnv(address);
    const emulator = await startEmulator({
      port: 0,
      tokenTtlSeconds: opts.tokenTtlSeconds ?? 1800,
      tokenRateLimitPerSecond: opts.tokenRateLimitPerSecond ?? 10,
      redirectUris: [REDIRECT_URI],
      priceProcessingDelayMs: opts.priceProcessingDelayMs ?? 200,
    });
    const apps = (await (await fetch(`${emulator.url}/__admin/apps`)).json()) as OttoApp[];
    const taskQueue = uniqueName('sellers');
    let storePath: string;
    let store: SellerStore;
    let storeDatabase: TestDatabase | undefined;
    let storeDir: string | undefined;
    if (opts.sellerStore === 'postgres') {
      storeDatabase = await createTestDatabase('stack');
      storePath = storeDatabase.url;
      store = await openPostgresSellerStore(storePath);
    } else {
      storeDir = mkdtempSync(join(tmpdir(), 'otto-store-'));
      storePath = join(storeDir, 'seller-store.db');
      store = openSqliteSellerStore(storePath);
    }
    const tokenTaskQueue = `${taskQueue}-tokens`;
    const sealKeys = generateSealKey('t1');
    const sealer = createSealer(parseSealKeys(sealKeys));
    const stack = new TestStack(
      env,
      emulator.url,
      () => emulator.close(),
      apps,
      sealer,
      taskQueue,
      opts.settings ?? {},
    );
    for (const app of apps) stack.captured.secrets.add(app.clientSecret);
    // OTTO is called as in production (undici), unless the test wraps a fetch; every secret seen is kept.
    const base = opts.fetch ? fetchTransport(opts.fetch) : undiciTransport();
    const recording: HttpTransport = async (url, exchange) => {
      for (const [key, value] of new URLSearchParams(exchange.body ?? '')) {
        if (['code', 'code_verifier', 'client_secret'].includes(key)) stack.captured.secrets.add(value);
      }
      const answer = await base(url, exchange);
      const text = await answer.text();
      for (const match of text.matchAll(/"access_token"\s*:\s*"([^"]+)"/g))
        if (match[1]) stack.captured.secrets.add(match[1]);
      return { ...answer, text: () => Promise.resolve(text) };
    };
    stack.sealKeys = sealKeys;
    stack.temporalAddress = address;
    stack.store = store;
    stack.storePath = storePath;
    stack.storeDatabase = storeDatabase;
    stack.storeDir = storeDir;
    stack.tokenTaskQueue = tokenTaskQueue;
    stack.webhook = opts.webhook;
    if (opts.inProcessWorkers === false) return stack;
    const deps: ActivityDeps = {
      sealer,
      apps: opts.appsWithoutScopes ? apps.map((app) => ({ ...app, scopes: [] })) : apps,
      authBaseUrl: emulator.url,
      apiBaseUrl: emulator.url,
      redirectUri: REDIRECT_URI,
      ottoTransport: recording,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      store,
      tokenSafetyMarginMs: 500,
      ...(opts.webhook ? { webhook: opts.webhook } : {}),
      ...(opts.fleetBreaker ? { fleetBreaker: opts.fleetBreaker } : {}),
    };
    stack.workerOptions = {
      connection: env.nativeConnection,
      taskQueue,
      tokenTaskQueue,
      tokenActivitiesPerSecond: opts.tokenActivitiesPerSecond ?? 50,
      workflowBundle: { code: workflowBundleCode() },
      deps,
    };
    await stack.startWorkers(opts.workerSettings ?? {});
    return stack;
  }

  /**
   * The in-process workers, with these settings defaults (a real worker's TRANSFER_INTERVALS & co.);
   * webhooksEnabled and latestAppVersion follow the stack unless given, the token queue is the stack's.
   */
  private async startWorkers(workerSettings: WorkflowSettingsInput): Promise<void> {
    if (!this.workerOptions) throw new Error('this stack runs no in-process workers');
    this.workers = await createWorkers({
      ...this.workerOptions,
      settings: { defaults: workerSettings, tokenTaskQueues: [this.tokenTaskQueue] },
    });
    this.running = runWorkers(this.workers);
  }

  /**
   * Shuts the in-process workers down (in-flight tasks drain; a task in transit to a stopping worker can
   * be lost until its timeout, see TICK_HEARTBEAT_TIMEOUT_MS); `restartWorkers()` starts them again.
   */
  async stopWorkers(): Promise<void> {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await this.running;
    this.workers = [];
    this.running = undefined;
  }

  /**
   * A deploy: the in-process workers shut down (in-flight tasks drain) and start again with new settings
   * defaults. Running sellers see them at their next run start, or at once after `applySettings`.
   */
  async restartWorkers(options: { workerSettings?: WorkflowSettingsInput } = {}): Promise<void> {
    await this.stopWorkers();
    await this.startWorkers(options.workerSettings ?? {});
  }

  /** The environment `worker/index.ts` needs to serve this stack from a separate process. */
  workerEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      // http:// emulator URLs and test keys are dev relaxations.
      OTTO_CONNECT_ENV: 'dev',
      TEMPORAL_ADDRESS: this.temporalAddress,
      TASK_QUEUE: this.taskQueue,
      TOKEN_TASK_QUEUE: this.tokenTaskQueue,
      TOKEN_ACTIVITIES_PER_SECOND: '50',
      OTTO_AUTH_BASE_URL: this.emulatorUrl,
      OTTO_API_BASE_URL: this.emulatorUrl,
      OTTO_APPS: JSON.stringify(this.apps),
      PUBLIC_BASE_URL,
      SEAL_KEYS: this.sealKeys,
      LOG_LEVEL: 'INFO',
      SELLER_STORE: this.storePath,
      TOKEN_SAFETY_MARGIN_MS: '500',
      ...(this.webhook ? { WEBHOOK_URL: this.webhook.url, WEBHOOK_SECRET: this.webhook.secret } : {}),
    };
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    await this.closeEmulator();
    await this.store.close();
    // The SQLite file (and its -wal/-shm) would otherwise pile up in /tmp run after run.
    if (this.storeDir) rmSync(this.storeDir, { recursive: true, force: true });
    // Worker processes must be stopped first; anything still connected is cut off.
    await this.storeDatabase?.drop();
    await this.env.teardown();
  }

  async admin<T = unknown>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T> {
    const res = await fetch(`${this.emulatorUrl}/__admin${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator admin ${method} ${path} → ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Runs `work` with this fault injected at the emulator, then clears the emulator's faults. */
  async withFault<T>(fault: FaultInput, work: () => Promise<T>): Promise<T> {
    await this.admin('POST', '/faults', fault);
    try {
      return await work();
    } finally {
      await this.admin('DELETE', '/faults');
    }
  }

  private readonly partnerUsers = new Map<string, { username: string; password: string }>();

  /** The OPC user created with this partner by createPartner(). */
  lastPartnerUser(partnerId: string): { username: string; password: string } {
    const user = this.partnerUsers.get(partnerId);
    if (!user) throw new Error(`no user known for partner ${partnerId}`);
    return user;
  }

  /** Registers SKUs in the partner's product catalogue at OTTO (stock and prices for others are refused). */
  async registerProducts(partnerId: string, skus: string[]): Promise<void> {
    for (let i = 0; i < skus.length; i += 1_000) {
      await this.admin('POST', `/partners/${partnerId}/products`, { skus: skus.slice(i, i + 1_000) });
    }
  }

  /**
   * Each order's status at OTTO. OTTO has no order-level status (each position item has one); the orders
   * tests create have one status across all their items, which is then the order's status too.
   */
  async orderStatusesAtOtto(partnerId: string): Promise<Map<string, string>> {
    const orders = await this.admin<
      Array<{ salesOrderId: string; positionItems: Array<{ fulfillmentStatus: string }> }>
    >('GET', `/partners/${partnerId}/orders`);
    return new Map(
      orders.map((o) => {
        const statuses = new Set(o.positionItems.map((p) => p.fulfillmentStatus));
        if (statuses.size !== 1) throw new Error(`order ${o.salesOrderId} has mixed item statuses`);
        return [o.salesOrderId, [...statuses][0]!];
      }),
    );
  }

  /** What the emulator received, optionally only since an ISO time. */
  async requests(since?: string): Promise<LoggedRequest[]> {
    return await this.admin<LoggedRequest[]>(
      'GET',
      since ? `/requests?since=${encodeURIComponent(since)}` : '/requests',
    );
  }

  /** A partner with one OPC user (admin with "Dienstleister Freigaben" unless told otherwise). */
  async createPartner(user: { admin?: boolean; dienstleisterFreigaben?: boolean } = {}) {
    const username = uniqueName('opc-user');
    const password = 'pw-' + uniqueName('x');
    const { partnerId } = await this.admin<{ partnerId: string }>('POST', '/partners', {
      users: [
        {
          username,
          password,
          admin: user.admin ?? true,
          dienstleisterFreigaben: user.dienstleisterFreigaben ?? true,
        },
      ],
    });
    this.partnerUsers.set(partnerId, { username, password });
    return { partnerId, username, password };
  }

  /**
   * What the API does on "Allow access" and on the consent callback: nonce + PKCE from Node's crypto,
   * update-with-start, and the `/oauth2/auth` URL the consent callback sends the browser to.
   */
  async beginConsent(
    sellerId: string,
    appVersion: AppVersion = 'v1',
    options: { pkce?: boolean; overrides?: SettingsOverrides } = {},
  ) {
    const nonce = newNonce();
    const pkce = options.pkce === false ? undefined : createPkcePair();
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof sellerConnection>(
      'sellerConnection',
      {
        workflowId: sellerWorkflowId(sellerId),
        taskQueue: this.taskQueue,
        args: [{ sellerId, overrides: options.overrides ?? this.settings }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      },
    );
    const result = await this.env.client.workflow.executeUpdateWithStart(beginConsentUpdate, {
      args: [
        {
          sellerId,
          appVersion,
          nonce,
          ...(pkce
            ? { sealedPkceVerifier: this.sealer.seal(pkce.verifier, { purpose: 'pkce-verifier', sellerId }) }
            : {}),
        },
      ],
      startWorkflowOperation,
    });
    const handle: SellerHandle = await startWorkflowOperation.workflowHandle();
    const app = this.apps.find((a) => a.version === appVersion)!;
    const authorizeUrl = buildAuthorizeUrl({
      authBaseUrl: this.emulatorUrl,
      clientId: app.clientId,
      redirectUri: REDIRECT_URI,
      state: `test-state-${nonce}`,
      ...(pkce ? { codeChallenge: pkce.challenge } : {}),
    });
    if (pkce) this.captured.secrets.add(pkce.verifier);
    return { handle, nonce, authorizeUrl, result };
  }

  /**
   * The seller installs the app in OPC (installation link, or a private app's invitation link) and
   * confirms; OTTO then redirects the browser to our callback with no parameters at all.
   */
  async installApp(
    appVersion: AppVersion,
    user: { username: string; password: string },
    options: { invitationUrl?: string } = {},
  ): Promise<void> {
    const app = this.apps.find((a) => a.version === appVersion)!;
    const link = options.invitationUrl ?? app.installationUrl;
    if (!link) throw new Error(`app ${appVersion} has no installation link; pass an invitation link`);
    const { redirectTo } = await this.admin<{ redirectTo: string }>('POST', '/consent', {
      authorizeUrl: link,
      username: user.username,
      password: user.password,
      decision: 'confirm',
    });
    expectEqual(redirectTo, REDIRECT_URI);
  }

  /** The seller at OTTO's login (`/oauth2/auth`): log in (or cancel); returns the callback's query parameters. */
  async consentAtOtto(
    authorizeUrl: string,
    user: { username: string; password: string },
    decision: 'confirm' | 'deny' = 'confirm',
  ) {
    const { redirectTo } = await this.admin<{ redirectTo: string }>('POST', '/consent', {
      authorizeUrl,
      username: user.username,
      password: user.password,
      decision,
    });
    const url = new URL(redirectTo);
    expectEqual(`${url.origin}${url.pathname}`, REDIRECT_URI);
    return Object.fromEntries(url.searchParams) as Record<string, string>;
  }

  /** What the callback route does: seal the code and hand it over as an update (the validator decides). */
  async deliverCallback(handle: SellerHandle, nonce: string, params: Record<string, string>) {
    if (params.code) this.captured.secrets.add(params.code);
    // The seller whose workflow this is: the code is sealed for exactly that seller.
    const sellerId = handle.workflowId.slice(WORKFLOW_ID_PREFIX.length);
    return await retryTransientUpdate(() =>
      handle.executeUpdate(consentCallbackUpdate, {
        args: [
          {
            nonce,
            ...(params.code
              ? { sealedCode: this.sealer.seal(params.code, { purpose: 'authorization-code', sellerId }) }
              : {}),
            ...(params.error ? { error: params.error } : {}),
            ...(params.error_description ? { errorDescription: params.error_description } : {}),
          },
        ],
      }),
    );
  }

  async disconnect(handle: SellerHandle): Promise<void> {
    await retryTransientUpdate(() => handle.executeUpdate(disconnectUpdate, { args: [{ reason: 'test' }] }));
  }

  async status(handle: SellerHandle): Promise<ConnectionStatus> {
    return await handle.query(connectionStatusQuery);
  }

  async waitFor(
    handle: SellerHandle,
    holds: (s: ConnectionStatus) => boolean,
    timeoutMs = 30_000,
  ): Promise<ConnectionStatus> {
    return await eventually(() => this.status(handle), holds, timeoutMs);
  }

  async waitForState(
    handle: SellerHandle,
    state: ConnectionState,
    timeoutMs = 30_000,
  ): Promise<ConnectionStatus> {
    return await this.waitFor(handle, (s) => s.state === state, timeoutMs);
  }

  /**
   * Consent → OPC installation → OTTO login → code callback → `active`, for a fresh partner. A new
   * workflow carries `options.overrides` instead of the stack's (StackOptions.settings) when given.
   */
  async connectSeller(
    sellerId = uniqueName('seller'),
    appVersion: AppVersion = 'v1',
    options: { overrides?: SettingsOverrides } = {},
  ) {
    const partner = await this.createPartner();
    const { handle, nonce, authorizeUrl } = await this.beginConsent(sellerId, appVersion, options);
    await this.installApp(appVersion, partner);
    const params = await this.consentAtOtto(authorizeUrl, partner);
    await this.deliverCallback(handle, nonce, params);
    const status = await this.waitForState(handle, 'active');
    return { sellerId, handle, partner, status };
  }
}

function expectEqual(actual: string, expected: string): void {
  if (actual !== expected) throw new Error(`expected ${expected}, got ${actual}`);
}

/**
 * Asks again, as the API does (api/seller-connections.ts), when the server refused an update because the
 * workflow task carrying it failed (e.g. a completion racing new events while many sellers end at once):
 * nothing was applied, so a second ask is safe.
 */
async function retryTransientUpdate<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= 5 || !isTransientUpdateFailure(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}
