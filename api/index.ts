/**
 * The API's composition root: reads configuration, connects (lazily) to Temporal, listens, and on
 * SIGINT/SIGTERM stops accepting connections, lets in-flight requests finish, then closes Temporal.
 * Temporal being down at start is not fatal: routes answer 503 until it is reachable.
 */
import { createServer } from 'node:http';
import { ConfigError } from '../common/config';
import { loadApiConfig, workflowSettingsFrom } from './config';
import { createApp } from './create-app';
import { createTemporalClient, createTemporalSellerConnections } from './seller-connections';

const SHUTDOWN_GRACE_MS = 10_000;

function main(): void {
  const config = loadApiConfig(process.env);
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
  const server = createServer(createApp({ config, connections }));
  server.listen(config.PORT, () => {
    console.log(
      `otto-connect API on ${config.PUBLIC_BASE_URL} (port ${config.PORT}); assistant ${config.PUBLIC_BASE_URL}/assistant/otto?sellerId=…; ` +
        `docs ${config.PUBLIC_BASE_URL}/api/docs; Temporal ${config.TEMPORAL_ADDRESS} (${config.TEMPORAL_NAMESPACE})`,
    );
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing the API`);
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
  console.error(
    err instanceof ConfigError
      ? err.message
      : `API failed to start: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
}
