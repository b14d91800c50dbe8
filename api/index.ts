/**
 * The API's composition root: reads configuration, connects (lazily) to Temporal, listens, and on
 * SIGINT/SIGTERM stops accepting connections, lets in-flight requests finish, then closes Temporal.
 * Temporal being down at start is not fatal: routes answer 503 until it is reachable.
 */
import { createServer } from 'node:http';
import { ConfigError } from '../common/config';
import { createLogger } from '../common/logger';
import { loadApiConfig, workflowSettingsFrom } from './config';
import { createApp } from './create-app';
import { createTemporalClient, createTemporalSellerConnections } from './seller-connections';

const SHUTDOWN_GRACE_MS = 10_000;
const logger = createLogger({ name: 'api', level: process.env.LOG_LEVEL });
// Start and stop lines are logged whatever LOG_LEVEL says: launchers and tests wait for them.
const lifecycle = logger.child({}, { level: 'info' });

function main(): void {
  const config = loadApiConfig(process.env);
  logger.level = config.LOG_LEVEL.toLowerCase();
  const temporal = createTemporalClient({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
  });
  const connections = createTemporalSellerConnections({
    client: temporal.client,
    taskQueue: config.TASK_QUEUE,
    uiUrl: config.TEMPORAL_UI_URL,
    settings: workflowSettingsFrom(config),
    callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT,
  });
  const server = createServer(createApp({ config, connections, logger }));
  server.listen(config.PORT, () => {
    lifecycle.info(
      { port: config.PORT, temporal: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE },
      `otto-connect API on ${config.PUBLIC_BASE_URL} (port ${config.PORT}); assistant ${config.PUBLIC_BASE_URL}/assistant/otto?sellerId=…; ` +
        `docs ${config.PUBLIC_BASE_URL}/api/docs; Temporal ${config.TEMPORAL_ADDRESS} (${config.TEMPORAL_NAMESPACE})`,
    );
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.info(`${signal}: closing the API`);
    // Idle keep-alive sockets would hold close() open; active requests get the grace period.
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    server.close(() => {
      clearTimeout(force);
      temporal.close().then(
        () => process.exit(0),
        () => process.exit(0),
      );
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

try {
  main();
} catch (err) {
  if (err instanceof ConfigError) logger.fatal(err.message);
  else logger.fatal({ err }, `API failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
