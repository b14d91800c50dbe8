/**
 * The worker's composition root: reads configuration, installs the Temporal runtime (logs through our
 * pino logger, SDK metrics on WORKER_METRICS_PORT), serves our own metrics and health on
 * WORKER_APP_METRICS_PORT, wires the activities' dependencies, connects to Temporal and runs until
 * SIGINT/SIGTERM (the SDK drains in-flight tasks on those signals).
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { ConfigError } from '../common/config';
import { fleetBreakerOptions } from '../common/fleet-breaker-config';
import { describeSellerStore, openSellerStore, sellerStoreKind } from '../store/open-seller-store';
import { createLogger } from '../common/logger';
import { createSealer, parseSealKeys } from '../common/seal';
import { allocatorInUse, mainThreadSemiSpaceMb, WORKER_MAIN_THREAD_NODE_OPTION } from './allocator';
import { callbackUrl, loadWorkerConfig, workflowSettingsDefaultsFrom } from './config';
import { createWorkers, runWorkers } from './create-workers';
import { createWorkerMetrics, serveWorkerMetrics } from './metrics';
import { watchReadiness, type ReadinessWatch } from './readiness';
import { temporalLogger } from './temporal-logger';

const logger = createLogger({ name: 'worker', level: process.env.LOG_LEVEL });
// Start and stop lines are logged whatever LOG_LEVEL says: launchers and tests wait for them.
const lifecycle = logger.child({}, { level: 'info' });

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  logger.level = config.LOG_LEVEL.toLowerCase();
  const metricsAddress = `${config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}`;
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: {
      // Forwarded, the Rust core's own warnings land in the same JSON stream instead of raw stderr.
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      // Prometheus naming, as Temporal's SDK dashboards expect: counters end in _total, histograms name
      // their unit, durations in seconds (temporal_activity_execution_latency_seconds, …).
      metrics: {
        prometheus: {
          bindAddress: metricsAddress,
          countersTotalSuffix: true,
          unitSuffix: true,
          useSecondsForDurations: true,
        },
      },
    },
  });
  const metrics = createWorkerMetrics();
  const metricsServer = await serveWorkerMetrics(metrics, {
    host: config.WORKER_METRICS_HOST,
    port: config.WORKER_APP_METRICS_PORT,
  });
  // Opened (and, for PostgreSQL, migrated) before polling: a worker that cannot reach its store takes no work.
  const store = await openSellerStore(config.SELLER_STORE, {
    onMigrated: (versions) =>
      lifecycle.info(
        { sellerStore: describeSellerStore(config.SELLER_STORE), migrations: versions },
        versions.length > 0
          ? `seller store migrated to version ${Math.max(...versions)}`
          : 'seller store schema up to date',
      ),
  });
  lifecycle.info(
    { sellerStore: describeSellerStore(config.SELLER_STORE) },
    `seller store: ${sellerStoreKind(config.SELLER_STORE)}`,
  );
  const allocator = allocatorInUse();
  lifecycle.info(
    { allocator },
    allocator === 'system'
      ? 'memory allocator: the system malloc (preload jemalloc for about a third of the RSS per seller: docs/scaling.md §4)'
      : `memory allocator: ${allocator}`,
  );
  const semiSpaceMb = mainThreadSemiSpaceMb();
  lifecycle.info(
    { mainThreadSemiSpaceMb: semiSpaceMb },
    semiSpaceMb === null
      ? `main thread semi-space: V8's default (up to 64 MB on Node 24 with a few GB); start the worker with ${WORKER_MAIN_THREAD_NODE_OPTION} for up to 120 MB less RSS (docs/scaling.md §4)`
      : `main thread semi-space: ${semiSpaceMb} MB`,
  );
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS }).catch(
    async (err: unknown) => {
      await store.close();
      throw err;
    },
  );
  let readiness: ReadinessWatch | undefined;
  try {
    const workers = await createWorkers({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TASK_QUEUE,
      tokenTaskQueue: config.TOKEN_TASK_QUEUE,
      tokenActivitiesPerSecond: config.TOKEN_ACTIVITIES_PER_SECOND,
      settings: {
        defaults: workflowSettingsDefaultsFrom(config),
        tokenTaskQueues: config.TOKEN_TASK_QUEUES,
      },
      maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS,
      workflowThreadSemiSpaceMb: config.WORKFLOW_THREAD_SEMI_SPACE_MB,
      shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE,
      workflowBundlePath: config.WORKFLOW_BUNDLE,
      deps: {
        store,
        sealer: createSealer(parseSealKeys(config.SEAL_KEYS)),
        apps: config.OTTO_APPS,
        authBaseUrl: config.OTTO_AUTH_BASE_URL,
        apiBaseUrl: config.OTTO_API_BASE_URL,
        redirectUri: callbackUrl(config.PUBLIC_BASE_URL),
        tokenSafetyMarginMs: config.TOKEN_SAFETY_MARGIN_MS,
        tokenRequestsPerSecond: config.TOKEN_REQUESTS_PER_SECOND,
        tokenExchangeHeadroom: config.TOKEN_EXCHANGE_HEADROOM,
        partnerRequestsPerSecond: config.OTTO_PARTNER_REQUESTS_PER_SECOND,
        returnStatuses: config.RETURN_STATUSES,
        rateLimitBackoffMs: config.OTTO_RATE_LIMIT_BACKOFF,
        maxRateLimitWaits: config.OTTO_RATE_LIMIT_WAITS,
        ordersPageSize: config.OTTO_ORDERS_PAGE_SIZE,
        partnerIdClaims: config.OTTO_PARTNER_ID_CLAIM,
        sendRedirectUri: config.OTTO_SEND_REDIRECT_URI,
        installationTokenScope: config.OTTO_INSTALLATION_TOKEN_SCOPE,
        fleetBreaker: fleetBreakerOptions(config),
        metrics,
        ...(config.WEBHOOK_URL && config.WEBHOOK_SECRET
          ? { webhook: { url: config.WEBHOOK_URL, secret: config.WEBHOOK_SECRET } }
          : {}),
      },
    });
    if (!config.TOKEN_TASK_QUEUES.includes(config.TOKEN_TASK_QUEUE))
      logger.warn(
        { tokenTaskQueue: config.TOKEN_TASK_QUEUE, tokenTaskQueues: config.TOKEN_TASK_QUEUES },
        `TOKEN_TASK_QUEUE "${config.TOKEN_TASK_QUEUE}" is not in TOKEN_TASK_QUEUES: only sellers pinned to it by an override use this worker's token queue`,
      );
    // Ready while Temporal answers (checked every 10 s), not merely once the workers were created.
    readiness = watchReadiness(
      (deadlineMs) =>
        connection.withDeadline(Date.now() + deadlineMs, () => connection.workflowService.getSystemInfo({})),
      (ready) => metricsServer.setReady(ready),
      {
        log: (ready) =>
          ready ? logger.info('Temporal answers: ready') : logger.warn('Temporal does not answer: not ready'),
      },
    );
    // Tests and the dev launcher wait for this line ("worker polling").
    lifecycle.info(
      {
        temporal: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        tokenTaskQueues: config.TOKEN_TASK_QUEUES,
        sdkMetrics: `http://${metricsAddress}/metrics`,
        appMetrics: `http://${config.WORKER_METRICS_HOST}:${metricsServer.port}/metrics`,
      },
      `worker polling "${config.TASK_QUEUE}" and "${config.TOKEN_TASK_QUEUE}" (≤ ${config.TOKEN_ACTIVITIES_PER_SECOND}/s) on ${config.TEMPORAL_ADDRESS}`,
    );
    await runWorkers(workers);
  } finally {
    readiness?.stop();
    metricsServer.setReady(false);
    // Never in place of the error that ended the workers (closing refuses while a worker holds it).
    await connection.close().catch((err: unknown) => {
      logger.warn(
        { err },
        `closing the Temporal connection failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    await store.close();
    await metricsServer.close();
  }
}

main().then(
  () => {
    lifecycle.info('worker stopped');
    // Stopped is stopped: whatever still holds the event loop (a late store write) may not keep the process.
    setTimeout(() => process.exit(0), 2_000).unref();
  },
  (err: unknown) => {
    if (err instanceof ConfigError) logger.fatal(err.message);
    else logger.fatal({ err }, `worker failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
