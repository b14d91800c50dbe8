/**
 * The benchmark harness: its own Temporal dev server (in memory, free port), both workflow bundles, and
 * a "fleet" — the real connector on that server: the OTTO emulator (child process, port 0), our workers
 * in this process (createWorkers, the production composition), and the real API (createApp with the real
 * Temporal adapter, composed as api/index.ts) in a child process of its own on a random loopback port, as
 * in production. So this process is the worker plus the benchmark's driver: its CPU and RSS are the
 * worker's, not the API's. Sellers are connected exactly as in production: "Allow
 * access" through the API, installation in OPC and login at the emulator, OTTO's redirects to our
 * /oauth/callback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
} from '@temporalio/worker';
import { loadConfig } from '../../common/config';
import { workflowSettingsSchema } from '../../common/workflow-schemas';
import type { OttoApp } from '../../common/otto-apps';
import { createSealer, generateSealKey, parseSealKeys } from '../../common/seal';
import { apiConfigSchema } from '../../api/config';
import type { ActivityMetrics } from '../../activities/activity-metrics';
import { ensureTemporalCli } from '../../scripts/ensure-temporal';
import { startDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import type { SellerStore } from '../../store/seller-store';
import { workerConfigSchema } from '../../worker/config';
import { createWorkers, runWorkers } from '../../worker/create-workers';
import { DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB, limitWorkflowThreadSemiSpace } from '../../worker/allocator';
import { preloadedBundleOptions, sellerWorkflowBundleOptions } from '../../worker/workflow-bundle';
import {
  connectionStatusQuery,
  sellerWorkflowId,
  type ConnectionStatus,
  type WorkflowSettingsInput,
} from '../../workflows/definitions';
import { runningQuery, type LiveState } from '../../workflows/visibility-queries';
import { startApiProcess, type ApiProcess } from './api-process';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process';
import { heapSnapshot, log, mapLimit, memoryBreakdown, settledRss, sleep } from './report';
import {
  describeThreadHeaps,
  threadHeapSnapshots,
  type ThreadHeaps,
  workflowThreadHeaps,
} from './thread-heaps';

export const PUBLIC_BASE_URL = 'http://localhost:3000';
const REDIRECT_URI = `${PUBLIC_BASE_URL}/oauth/callback`;
const ADMIN_KEY = 'bench-admin-key-0001';
const SUPPORT_KEY = 'bench-support-key-0001';
export const SUPPORT_AUTH = { Authorization: `Bearer ${SUPPORT_KEY}` };
const ADMIN_AUTH = { Authorization: `Bearer ${ADMIN_KEY}` };
/** OTTO: 10 token requests/s per IP (docs/otto-api.md §5). */
export const OTTO_TOKEN_CAP_PER_SECOND = 10;
/** A default of the worker's configuration (worker/config.ts), so the fleet runs with production's caps. */
function workerDefault(name: string, fallback: number): number {
  try {
    const shape = (
      workerConfigSchema as unknown as { in?: { shape?: Record<string, { parse(v: unknown): unknown }> } }
    ).in?.shape;
    const value = shape?.[name]?.parse(undefined);
    return typeof value === 'number' ? value : fallback;
  } catch {
    return fallback;
  }
}
/** The worker default TOKEN_ACTIVITIES_PER_SECOND: the token task queue's cap, below OTTO's. */
export const TOKEN_ACTIVITIES_PER_SECOND = workerDefault('TOKEN_ACTIVITIES_PER_SECOND', 8);
/** The worker default TOKEN_REQUESTS_PER_SECOND: the process's hard cap on token-endpoint requests. */
export const TOKEN_REQUESTS_PER_SECOND = workerDefault('TOKEN_REQUESTS_PER_SECOND', 8);
/** The worker default TOKEN_EXCHANGE_HEADROOM: what code exchanges may send above that cap. */
export const TOKEN_EXCHANGE_HEADROOM = workerDefault('TOKEN_EXCHANGE_HEADROOM', 2);

const DAY = 24 * 3_600_000;

/** Kept at production values: they bound waits on other parties (OTTO's code lifetime, the shop, drains). */
const REAL_TIME_SETTINGS = new Set([
  'consentTimeoutMs',
  'authorizationTimeoutMs',
  'drainTimeoutMs',
  'incidentRetryIntervalMs',
  'webhookRetryMaxIntervalMs',
  'webhookDeliveryWindowMs',
]);

/** The schema's lower bound of a numeric setting (zod 4), so a divided default stays valid. */
function settingMinimum(key: string): number | undefined {
  const field = (workflowSettingsSchema.shape as Record<string, unknown>)[key] as
    { removeDefault?: () => { minValue?: number | null } } | undefined;
  try {
    return field?.removeDefault?.().minValue ?? undefined;
  } catch {
    return undefined;
  }
}

export type TransferIntervals = NonNullable<WorkflowSettingsInput['transferIntervalsMs']>;

/**
 * Production timing divided by `k` = 1800 / tokenTtlSeconds, so every interval keeps its proportion.
 * Every other duration setting (`…Ms`) with a numeric default is divided too — a setting added later
 * (e.g. the idle seller's revocation probe interval) is accelerated without touching this file — except
 * the few that bound waits on other parties (REAL_TIME_SETTINGS).
 */
export function acceleratedSettings(
  tokenTtlSeconds: number,
  tokenTaskQueue: string,
  intervals?: Partial<Record<keyof TransferIntervals, number | null>>,
): WorkflowSettingsInput {
  const k = 1800 / tokenTtlSeconds;
  const s = (ms: number, min = 100) => Math.max(min, Math.round(ms / k));
  const perKind = (name: keyof TransferIntervals, ms: number) => {
    const v = intervals?.[name];
    return v === undefined ? s(ms) : v === null ? null : s(v);
  };
  const explicit: Record<string, unknown> = {
    tokenTaskQueue,
    tokenRefreshMarginMs: s(5 * 60_000, 1_000),
    // No jitter, so every refresh's planned time is known exactly (production: up to 30 s earlier).
    refreshJitterMs: 0,
    refreshRetryMaxIntervalMs: s(30_000),
    revocationConfirmWindowMs: s(10_000),
    transferIntervalsMs: {
      ordersImport: perKind('ordersImport', 15 * 60_000),
      stockExport: perKind('stockExport', 15 * 60_000),
      pricesExport: perKind('pricesExport', DAY),
      returnsImport: perKind('returnsImport', 3_600_000),
      shippingProfilesSync: perKind('shippingProfilesSync', 3_600_000),
    },
    dailyTransferHour: null,
    stockFullResyncMs: s(DAY, 1_000),
    transferRetryWindowMs: s(10 * 60_000, 1_000),
    transferRetryMaxIntervalMs: s(30_000),
    minTokenValidityMs: s(60_000, 1_000),
    // BENCH_MAX_HISTORY_EVENTS=N: continue as new after N events (memory diagnosis: per-run state).
    ...(process.env.BENCH_MAX_HISTORY_EVENTS
      ? { maxHistoryEvents: Number(process.env.BENCH_MAX_HISTORY_EVENTS) }
      : {}),
  };
  const defaults = workflowSettingsSchema.parse({}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(defaults)) {
    if (!key.endsWith('Ms') || key in explicit || REAL_TIME_SETTINGS.has(key) || typeof value !== 'number')
      continue;
    explicit[key] = s(value, settingMinimum(key) ?? 100);
  }
  return explicit;
}

// ---- the Temporal side -------------------------------------------------------------------------------

export interface BenchEnv {
  server: DevServer;
  cliVersion: string;
  nativeConnection: NativeConnection;
  client: Client;
  ourBundle: string;
  floorBundle: string;
  close(): Promise<void>;
}

export async function startBenchEnv(): Promise<BenchEnv> {
  // Ours and the floor's workflow threads alike, as the worker sizes them (createWorkers does it too, but
  // the floor's workers are made without it).
  limitWorkflowThreadSemiSpace(DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB);
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      // Late completions of mints whose schedule-to-close ran out during the outage are expected: keep quiet.
      telemetryOptions: { logging: { forward: {}, filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // installed already
  }
  const cli = ensureTemporalCli({ log });
  const server = await startDevServer({ cliPath: cli.path });
  log(
    `Temporal dev server ${cli.version.split('\n')[0]} at ${server.address} (pid ${server.pid}, in memory)`,
  );
  let nativeConnection: NativeConnection | undefined;
  let connection: Connection | undefined;
  try {
    nativeConnection = await NativeConnection.connect({ address: server.address });
    connection = await Connection.connect({ address: server.address });
    const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
    // Both preloaded (worker/workflow-bundle.ts): the floor is the best the SDK does with the same work.
    const floorPath = join(__dirname, '..', 'floor-workflow.ts');
    const [ours, floor] = await Promise.all([
      bundleWorkflowCode({ ...sellerWorkflowBundleOptions(), logger: quiet }),
      bundleWorkflowCode({ ...preloadedBundleOptions(floorPath), logger: quiet }),
    ]);
    const nc = nativeConnection;
    const c = connection;
    return {
      server,
      cliVersion: cli.version,
      nativeConnection: nc,
      client: new Client({ connection: c }),
      ourBundle: ours.code,
      floorBundle: floor.code,
      async close() {
        await c.close().catch(() => undefined);
        await nc.close().catch(() => undefined);
        await server.stop();
      },
    };
  } catch (err) {
    await connection?.close().catch(() => undefined);
    await nativeConnection?.close().catch(() => undefined);
    await server.stop();
    throw err;
  }
}

/** History length per workflow id (current run), to count the events a window appended. */
export interface HistoryMark {
  runId: string;
  length: number;
}

export async function historyMarks(
  client: Client,
  ids: readonly string[],
): Promise<Map<string, HistoryMark>> {
  const marks = new Map<string, HistoryMark>();
  await mapLimit(ids, 16, async (id) => {
    const d = await client.workflow.getHandle(id).describe();
    marks.set(id, { runId: d.runId, length: d.historyLength });
  });
  return marks;
}

/** Events appended between two marks, across continue-as-new (the old run's tail is counted too). */
export async function eventsBetween(
  client: Client,
  before: Map<string, HistoryMark>,
  after: Map<string, HistoryMark>,
): Promise<{ events: number; continuedAsNew: number }> {
  let events = 0;
  let continuedAsNew = 0;
  for (const [id, b] of before) {
    const a = after.get(id);
    if (!a) continue;
    if (a.runId === b.runId) events += a.length - b.length;
    else {
      continuedAsNew++;
      const old = await client.workflow.getHandle(id, b.runId).describe();
      events += old.historyLength - b.length + a.length;
    }
  }
  return { events, continuedAsNew };
}

// ---- the connector fleet --------------------------------------------------------------------------------

export interface FleetOptions {
  tokenTtlSeconds: number;
  /** Transfer intervals in production terms (accelerated like the rest); default: the production ones. */
  intervals?: Partial<Record<keyof TransferIntervals, number | null>>;
  /** Emulator log capacity: must hold every request of the longest measured period. */
  requestLogLimit?: number;
}

export interface ActivityCounts {
  mints: number;
  transfers: number;
}

export interface Seller {
  sellerId: string;
  workflowId: string;
  partnerId: string;
  installationId: string;
}

export interface OnboardSample {
  sellerId: string;
  ok: boolean;
  error?: string;
  /** Epoch ms: "Allow access" sent to our API. */
  consentAt: number;
  /** Epoch ms: OTTO's redirect hits our /oauth/callback. */
  callbackAt: number;
  /** Epoch ms: the workflow's `authorized` event, i.e. the moment it turned `active`. */
  activeAt: number;
}

export class Fleet {
  readonly sellers: Seller[] = [];
  /** This process's memory after each onboarding round, for the marginal cost of a seller. */
  readonly memory: { sellers: number; rss: number; heapUsed: number }[] = [];
  private seq = 0;
  private constructor(
    readonly env: BenchEnv,
    /** Activity completions reported by our activities' metrics hook. */
    readonly counts: ActivityCounts,
    readonly options: FleetOptions,
    readonly emulator: EmulatorProcess,
    readonly apiUrl: string,
    readonly taskQueue: string,
    readonly settings: WorkflowSettingsInput,
    private readonly workers: Worker[],
    private readonly running: Promise<void>,
    /** The API in its own process, as in production (api-process.ts). */
    readonly api: ApiProcess,
    private readonly store: SellerStore,
    private readonly storeDir: string,
    /** RSS of this process (GC'd) just before the fleet's workers were created. */
    readonly rssBeforeWorkers: number,
    /** Main-thread heap used (GC'd) at the same moment. */
    readonly heapBeforeWorkers: number,
    /** RSS of this process (GC'd) with the workers running and no seller yet. */
    readonly rssWorkersIdle: number,
    /** The workflow threads' heaps at the same moment (null: none found). */
    readonly threadHeapsIdle: ThreadHeaps | null,
  ) {}

  static async start(env: BenchEnv, options: FleetOptions): Promise<Fleet> {
    const emulator = await startEmulatorProcess({
      tokenTtlSeconds: options.tokenTtlSeconds,
      tokenRateLimitPerSecond: OTTO_TOKEN_CAP_PER_SECOND,
      redirectUris: [REDIRECT_URI],
      requestLogLimit: options.requestLogLimit ?? 1_000_000,
    });
    const cleanups: Array<() => Promise<void>> = [() => emulator.stop()];
    const undo = async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    };
    try {
      const apps = await emulator.admin<OttoApp[]>('GET', '/apps');
      const taskQueue = `bench-sellers-${Date.now().toString(36)}`;
      const tokenTaskQueue = `${taskQueue}-tokens`;
      const settings = acceleratedSettings(options.tokenTtlSeconds, tokenTaskQueue, options.intervals);
      const sealKeys = generateSealKey('bench1');
      const sealer = createSealer(parseSealKeys(sealKeys));
      const storeDir = mkdtempSync(join(tmpdir(), 'otto-bench-store-'));
      const store = openSqliteSellerStore(join(storeDir, 'seller-store.db'));
      cleanups.push(async () => {
        await store.close();
        rmSync(storeDir, { recursive: true, force: true });
      });

      const counts: ActivityCounts = { mints: 0, transfers: 0 };
      const metrics: ActivityMetrics = {
        tokenMint: () => void counts.mints++,
        transfer: () => void counts.transfers++,
      };
      const { rss: rssBeforeWorkers, heapUsed: heapBeforeWorkers } = settledRss();
      const workers = await createWorkers({
        connection: env.nativeConnection,
        taskQueue,
        tokenTaskQueue,
        tokenActivitiesPerSecond: TOKEN_ACTIVITIES_PER_SECOND,
        workflowBundle: { code: env.ourBundle },
        // BENCH_WORKFLOWS_IN_MAIN_THREAD=1: the workflows' heap in this thread (memory diagnosis only).
        debugMode: process.env.BENCH_WORKFLOWS_IN_MAIN_THREAD === '1',
        deps: {
          sealer,
          apps,
          authBaseUrl: emulator.url,
          apiBaseUrl: emulator.url,
          redirectUri: REDIRECT_URI,
          store,
          metrics,
          tokenSafetyMarginMs: 500,
          tokenRequestsPerSecond: TOKEN_REQUESTS_PER_SECOND,
          tokenExchangeHeadroom: TOKEN_EXCHANGE_HEADROOM,
        },
      });
      const running = runWorkers(workers);
      // The workers' fixed cost (workflow threads with the bundle loaded, the core's buffers), before any
      // seller: what the steady run's per-seller figure subtracts.
      await sleep(2_000);
      const rssWorkersIdle = settledRss().rss;
      memoryBreakdown('workers idle');
      const threadHeapsIdle = await workflowThreadHeaps(workers);
      log(`memory (workers idle): ${describeThreadHeaps(threadHeapsIdle)}`);
      heapSnapshot('idle');
      cleanups.push(async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await running;
      });

      // The API's environment, checked here so a bad one fails before the child is forked.
      const apiEnv: Record<string, string> = {
        NODE_ENV: 'test',
        OTTO_CONNECT_ENV: 'dev',
        LOG_LEVEL: 'ERROR',
        API_KEYS: `admin:${ADMIN_KEY},support:${SUPPORT_KEY}`,
        SEAL_KEYS: sealKeys,
        STATE_SIGNING_KEY: 'bench-state-signing-key-0123456789abcdef',
        TEMPORAL_ADDRESS: env.server.address,
        TASK_QUEUE: taskQueue,
        TOKEN_TASK_QUEUE: tokenTaskQueue,
        PUBLIC_BASE_URL,
        OTTO_AUTH_BASE_URL: emulator.url,
        OTTO_API_BASE_URL: emulator.url,
        OTTO_APPS: JSON.stringify(apps),
        // The workers' store: the API reads the sellers' status rows from it.
        SELLER_STORE: join(storeDir, 'seller-store.db'),
      };
      loadConfig(apiConfigSchema, apiEnv);
      const api = await startApiProcess({ env: apiEnv, overrides: settings });
      cleanups.push(() => api.stop());
      const apiUrl = api.url;
      const fleet = new Fleet(
        env,
        counts,
        options,
        emulator,
        apiUrl,
        taskQueue,
        settings,
        workers,
        running,
        api,
        store,
        storeDir,
        rssBeforeWorkers,
        heapBeforeWorkers,
        rssWorkersIdle,
        threadHeapsIdle,
      );
      log(
        `fleet: emulator ${emulator.url} (pid ${emulator.pid}), API ${apiUrl} (pid ${api.pid}), task queue ${taskQueue}`,
      );
      return fleet;
    } catch (err) {
      await undo();
      throw err;
    }
  }

  get tokenTaskQueue(): string {
    return this.settings.tokenTaskQueue!;
  }

  async status(sellerId: string): Promise<ConnectionStatus> {
    return await this.env.client.workflow.getHandle(sellerWorkflowId(sellerId)).query(connectionStatusQuery);
  }

  /** Sellers whose status row (written by their workflow, read by the status route) is valid now. */
  async validStatusRows(): Promise<number> {
    const now = Date.now();
    const rows = await mapLimit(this.sellers, 16, (s) => this.store.getConnectionStatus(s.sellerId));
    return rows.filter((r) => r !== null && r.validUntil > now).length;
  }

  /**
   * Mint ticks waiting for the token task queue (Temporal's approximate backlog of its activity queue):
   * more than a second's worth means the token caps are taken and the connected sellers' mints wait.
   */
  async tokenBacklog(): Promise<number> {
    const res = await this.env.client.workflowService.describeTaskQueue({
      namespace: this.env.client.options.namespace,
      taskQueue: {
        name: this.tokenTaskQueue,
        kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
      },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      reportStats: true,
    });
    return Number(res.stats?.approximateBacklogCount ?? 0);
  }

  /**
   * Waits until the token task queue's backlog is at most `max` (polled every 250 ms), or `timeoutMs`.
   * Returns how long it waited.
   */
  async waitForTokenBacklog(max: number, timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs && (await this.tokenBacklog()) > max) await sleep(250);
    return Date.now() - started;
  }

  /** Connects `count` new sellers, at most `concurrency` at a time, through the real API and consent flow. */
  async onboard(
    count: number,
    concurrency: number,
    opts: {
      onProgress?: (done: number) => void;
      /** A reason to stop: the sellers not started yet are reported as failed with it. */
      stop?: (progress: { done: number; failed: number }) => string | undefined;
      /** Awaited before each consent starts (pacing). */
      gate?: () => Promise<void>;
    } = {},
  ): Promise<OnboardSample[]> {
    const ids = Array.from({ length: count }, () => `bench-${(++this.seq).toString().padStart(5, '0')}`);
    let done = 0;
    let failed = 0;
    const samples = await mapLimit(ids, concurrency, async (sellerId) => {
      await opts.gate?.();
      const stopped = opts.stop?.({ done, failed });
      const sample: OnboardSample = stopped
        ? { sellerId, ok: false, error: `not started: ${stopped}`, consentAt: 0, callbackAt: 0, activeAt: 0 }
        : await this.connect(sellerId);
      if (!sample.ok) failed++;
      opts.onProgress?.(++done);
      return sample;
    });
    const { rss, heapUsed } = settledRss();
    this.memory.push({ sellers: this.sellers.length, rss, heapUsed });
    return samples;
  }

  private async connect(sellerId: string): Promise<OnboardSample> {
    const sample: OnboardSample = { sellerId, ok: false, consentAt: 0, callbackAt: 0, activeAt: 0 };
    try {
      const user = { username: `opc-${sellerId}`, password: `pw-${sellerId}` };
      const { partnerId } = await this.emulator.admin<{ partnerId: string }>('POST', '/partners', {
        users: [{ ...user, admin: true, dienstleisterFreigaben: true }],
      });
      sample.consentAt = Date.now();
      const started = await fetch(`${this.apiUrl}/api/sellers/${sellerId}/connection`, {
        method: 'POST',
        headers: { ...ADMIN_AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ appVersion: 'v2' }),
      });
      if (started.status !== 201)
        throw new Error(`POST connection → ${started.status}: ${await started.text()}`);
      const { authorizeUrl } = (await started.json()) as { authorizeUrl: string };
      // The browser's hops (docs/otto-api.md §2): our consent link → OPC installation → consent callback →
      // OTTO's login → code callback. Our URLs name PUBLIC_BASE_URL; the API listens on apiUrl.
      const ours = (url: string) => {
        const u = new URL(url);
        return `${this.apiUrl}${u.pathname}${u.search}`;
      };
      const hop = async (url: string, cookie?: string) => {
        const res = await fetch(ours(url), { redirect: 'manual', headers: cookie ? { cookie } : {} });
        await res.arrayBuffer();
        const location = res.headers.get('location');
        if (res.status !== 303 || !location) throw new Error(`${new URL(url).pathname} → ${res.status}`);
        return { location, cookie: res.headers.get('set-cookie')?.split(';')[0] };
      };
      const atOtto = async (url: string) =>
        (
          await this.emulator.admin<{ redirectTo: string }>('POST', '/consent', {
            authorizeUrl: url,
            ...user,
            decision: 'confirm',
          })
        ).redirectTo;
      const start = await hop(authorizeUrl);
      if (!start.cookie) throw new Error('the consent link set no cookie');
      const login = await hop(await atOtto(start.location), start.cookie);
      const codeCallback = await atOtto(login.location);
      sample.callbackAt = Date.now();
      await hop(codeCallback, start.cookie);
      const deadline = Date.now() + 180_000;
      for (;;) {
        const status = await this.status(sellerId);
        if (status.state === 'active') {
          const authorized = status.events.find((e) => e.type === 'authorized');
          sample.activeAt = authorized ? Date.parse(authorized.at) : Date.now();
          sample.ok = true;
          this.sellers.push({
            sellerId,
            workflowId: sellerWorkflowId(sellerId),
            partnerId,
            installationId: status.installationId ?? '',
          });
          return sample;
        }
        if (status.state === 'pending_consent' && status.lastError)
          throw new Error(`authorization failed: ${status.lastError}`);
        if (Date.now() > deadline) throw new Error(`not active after 180 s (state ${status.state})`);
        await sleep(250);
      }
    } catch (err) {
      sample.error = err instanceof Error ? err.message : String(err);
      return sample;
    }
  }

  /** Pauses a seller through the API, as an admin would. */
  async pause(sellerId: string): Promise<void> {
    const res = await fetch(`${this.apiUrl}/api/sellers/${sellerId}/connection/pause`, {
      method: 'POST',
      headers: { ...ADMIN_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'benchmark: paused cohort' }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`pause ${sellerId} → ${res.status}: ${text}`);
  }

  /** Visibility count of running seller workflows in one live state (each seller once). */
  async countInState(state: LiveState): Promise<number> {
    const query = runningQuery(state, { taskQueue: this.taskQueue });
    return (await this.env.client.workflow.count(query)).count;
  }

  /** The workers' workflow threads' V8 heaps (thread-heaps.ts): what of a reading is theirs. */
  async workflowThreadHeaps(): Promise<ThreadHeaps | null> {
    return await workflowThreadHeaps(this.workers);
  }

  /** BENCH_THREAD_HEAP_SNAPSHOT: the workflow threads' heap snapshots (thread-heaps.ts), after the last reading. */
  async workflowThreadSnapshots(label: string, sellers: number): Promise<void> {
    await threadHeapSnapshots(label, this.workers, sellers, log);
  }

  cpuPids(): { emulator: number; temporal: number; api: number } {
    return { emulator: this.emulator.pid, temporal: this.env.server.pid, api: this.api.pid };
  }

  /** Stops the workers, API and emulator, and terminates the sellers' workflows so the server is idle. */
  async close(): Promise<void> {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await this.running.catch(() => undefined);
    await this.api.stop().catch(() => undefined);
    await this.emulator.stop();
    await this.store.close().catch(() => undefined);
    rmSync(this.storeDir, { recursive: true, force: true });
    await mapLimit(this.sellers, 16, async (s) => {
      await this.env.client.workflow
        .getHandle(s.workflowId)
        .terminate('benchmark finished')
        .catch(() => undefined);
    });
  }
}
