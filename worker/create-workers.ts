/**
 * Builds the two workers of one worker process: the main one (seller workflows, their data activities
 * and the settings activity the workflow runs locally at each run start) and the token one (token
 * activities and the ticks that must mint, on their own task queue with a per-second cap, so a wave of
 * mints never exceeds OTTO's token-endpoint limit).
 */
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { DEFAULT_DATA_DIR } from '../common/dev-secrets';
import type { SellerStore } from '../store/seller-store';
import { openSellerStore } from '../store/open-seller-store';
import { latestVersion } from '../common/otto-apps';
import { createDataActivities, createTokenService, type ActivityDeps } from '../activities';
import type { ActivityMetrics } from '../activities/activity-metrics';
import { createSettingsActivities } from '../activities/settings-activities';
import type { CompleteAuthorizationInput, WorkflowSettingsInput } from '../workflows/definitions';
import { partnerHoldersFromVisibility } from './partner-holders';
import { statusRowSinks, type StatusRowWriteResult } from './status-row-sink';
import { sellerWorkflowBundleOptions } from './workflow-bundle';
import {
  DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB,
  limitBufferPool,
  limitWorkflowThreadSemiSpace,
} from './allocator';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** The token task queue this process's token worker polls. */
  tokenTaskQueue: string;
  tokenActivitiesPerSecond: number;
  /**
   * What sellers' runs resolve their settings from (worker/config.ts `workflowSettingsDefaultsFrom`,
   * TOKEN_TASK_QUEUES). Default: the schema's defaults, with `latestAppVersion` and `webhooksEnabled`
   * taken from `deps`, and `[tokenTaskQueue]` as the only token queue.
   */
  settings?: { defaults?: WorkflowSettingsInput; tokenTaskQueues?: readonly string[] };
  /**
   * The seller store (also where the seller workflows' status rows go, worker/status-row-sink.ts);
   * without one, the store `sellerStorePath` names (a `postgres://…` URL or a SQLite file, default
   * .data/seller-store.db), opened and migrated here. `metrics` may also count the status row writes
   * (worker/metrics.ts does).
   */
  deps: Omit<ActivityDeps, 'store' | 'metrics'> & {
    store?: SellerStore;
    metrics?: ActivityMetrics & { statusRowWrite?(result: StatusRowWriteResult): void };
  };
  sellerStorePath?: string;
  /**
   * Bounds the worker's memory: an active cached seller workflow costs ~0.2–0.4 MB of RSS (Node 24,
   * jemalloc), 65 KB of it V8 heap, growing ~1 KB per history event of its run (docs/scaling.md §4).
   */
  maxCachedWorkflows?: number;
  /**
   * The young generation of each workflow thread's V8 heap: its semi-space, in MB
   * (WORKFLOW_THREAD_SEMI_SPACE_MB; default DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB; 0: V8's own default).
   */
  workflowThreadSemiSpaceMb?: number;
  /** Pre-built bundle (tests); otherwise the workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** A bundle file prebuilt at image build (WORKFLOW_BUNDLE); used when `workflowBundle` is not given. */
  workflowBundlePath?: string;
  /**
   * How long both workers let running activities finish after SIGTERM before cancelling them
   * (WORKER_SHUTDOWN_GRACE, in ms or a duration string); default the SDK's (0: cancel at once).
   */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /**
   * The workflows in this thread instead of a workflow thread (the SDK's debug mode: no deadlock
   * detection). Never in production; the memory benchmarks use it to read the workflows' heap.
   */
  debugMode?: boolean;
}

export async function createWorkers(opts: CreateWorkersOptions): Promise<Worker[]> {
  const store =
    opts.deps.store ??
    (await openSellerStore(opts.sellerStorePath ?? join(DEFAULT_DATA_DIR, 'seller-store.db')));
  // The SDK runtime's logger, taken now: asking Runtime.instance() after the connection closed (a late
  // status-row failure while stopping) would build a new runtime, whose SIGTERM handler and metrics port
  // kept the stopped worker alive.
  const runtimeLogger = Runtime.instance().logger;
  const deps: ActivityDeps = {
    ...opts.deps,
    store,
    // One OTTO account feeds one seller: a consent landing on a partner another seller holds is refused.
    sellersHoldingPartner:
      opts.deps.sellersHoldingPartner ??
      partnerHoldersFromVisibility(
        new Client({ connection: opts.connection, namespace: opts.namespace ?? 'default' }),
        opts.taskQueue,
        (message) => {
          runtimeLogger.warn(message);
        },
      ),
  };
  const workflowBundle =
    opts.workflowBundle ?? (opts.workflowBundlePath ? { codePath: opts.workflowBundlePath } : undefined);
  const { workflowsPath, ...bundlerOptions } = sellerWorkflowBundleOptions();
  const workflowSource = workflowBundle ? { workflowBundle } : { workflowsPath, bundlerOptions };
  const shutdown = opts.shutdownGraceTime !== undefined ? { shutdownGraceTime: opts.shutdownGraceTime } : {};
  limitWorkflowThreadSemiSpace(opts.workflowThreadSemiSpaceMb ?? DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB);
  // The SDK keeps each cached run's last encoded completion: without the pool it pins only its own bytes.
  limitBufferPool();
  // One token service per process: the hard token-request limit, the developer tokens and the fleet
  // breaker are shared by the token activities and the ticks that mint.
  const tokenService = createTokenService(deps);
  const data = createDataActivities(deps, tokenService);
  const main = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    ...workflowSource,
    activities: {
      ...data,
      // Connecting runs here under jitTicks (not behind the ticks in the token queue's rate limit); the
      // process's hard token limit still counts its code exchange.
      completeAuthorization: (input: CompleteAuthorizationInput) =>
        tokenService.activities.completeAuthorization(input),
      // Run by the workflow as a local activity: it must be registered on the workflow's own worker.
      ...createSettingsActivities({
        defaults: {
          latestAppVersion: latestVersion(deps.apps),
          webhooksEnabled: deps.webhook !== undefined,
          ...opts.settings?.defaults,
        },
        tokenTaskQueues: opts.settings?.tokenTaskQueues ?? [opts.tokenTaskQueue],
        webhooksAvailable: deps.webhook !== undefined,
      }),
    },
    // Each seller workflow's status summary, written to its status row for the API (no history event).
    sinks: statusRowSinks({
      store,
      logger: () => runtimeLogger,
      onResult: (result) => opts.deps.metrics?.statusRowWrite?.(result),
    }),
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    ...(opts.debugMode === true ? { debugMode: true } : {}),
    ...shutdown,
  });
  const tokens = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.tokenTaskQueue,
    // A tick that has to mint runs here, under the queue's rate limit (ticks with a token run on main).
    activities: { ...tokenService.activities, runTick: data.runTick },
    maxTaskQueueActivitiesPerSecond: opts.tokenActivitiesPerSecond,
    ...shutdown,
  });
  return [main, tokens];
}

/**
 * Runs all workers until one fails or all are shut down. When one fails, the others are shut down and
 * drained (their running activities finish or are handed back) before the first error is thrown, so the
 * caller may close the connection (which refuses while a worker holds it) and reports the real cause.
 */
export async function runWorkers(workers: Worker[]): Promise<void> {
  const runs = workers.map((w) => w.run());
  try {
    await Promise.all(runs);
  } catch (err) {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(runs);
    throw err;
  }
}
