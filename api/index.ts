/**
 * The API's composition root: reads configuration, connects (lazily) to Temporal, listens, and on
 * SIGINT/SIGTERM stops accepting connections, lets in-flight requests finish, then closes Temporal.
 * Temporal being down at start is not fatal: routes answer 503 until it is reachable. Two servers: the
 * public API on PORT, and the ops server (/healthz, /readyz, /metrics) on OPS_PORT, bound to OPS_HOST.
 */
import { createServer } from 'node:http';
import { ConfigError } from '../common/config';
import { createLogger } from '../common/logger';
import { answerClientErrors } from './client-errors';
import { loadApiConfig } from './config';
import { composeApi } from './compose';
import { createOpsApp } from './create-ops-app';
import { installLastResort } from './last-resort';

const SHUTDOWN_GRACE_MS = 10_000;
/** After the requests' grace, how long closing Temporal and the store may take before the API exits anyway. */
const CLOSE_GRACE_MS = 5_000;
/**
 * Idle keep-alive sockets stay open this long (Node's default is 5 s): longer than the ~60 s a reverse
 * proxy or load balancer keeps its idle upstream connections, so the proxy never sends a request on a
 * socket the API has just closed (a sporadic 502). Headers must arrive within a little more.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const logger = createLogger({ name: 'api', level: process.env.LOG_LEVEL });
// Start and stop lines are logged whatever LOG_LEVEL says: launchers and tests wait for them.
const lifecycle = logger.child({}, { level: 'info' });

async function main(): Promise<void> {
  const config = loadApiConfig(process.env);
  logger.level = config.LOG_LEVEL.toLowerCase();
  // Temporal connects lazily; the store (SELLER_STORE) must open (api/compose.ts).
  const { app, connections, metrics, close } = await composeApi(config, logger);
  const server = createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  // /healthz, /readyz and /metrics on their own port (loopback unless OPS_HOST says otherwise).
  const opsServer = createServer(createOpsApp({ connections, metrics, logger }));
  for (const [name, s] of [
    ['API', server],
    ['ops', opsServer],
  ] as const) {
    // A listen error (port in use, no permission) is fatal at start, never left to the last resort; a
    // server error once it listens (accept EMFILE …) stops the API gracefully, so it is restarted.
    s.on('error', (err) => {
      if (s.listening) {
        logger.error({ err }, `the ${name} server failed: ${err.message}`);
        stop(`${name} server error`, 1);
        return;
      }
      logger.fatal({ err }, `the ${name} server cannot listen: ${err.message}`);
      process.exit(1);
    });
    // Requests Node's parser refuses (malformed request line, oversized headers) get the JSON error shape.
    answerClientErrors(s, (err) => logger.warn({ err }, `a refused ${name} request could not be answered`));
  }
  opsServer.listen(config.OPS_PORT, config.OPS_HOST, () => {
    lifecycle.info(
      { opsPort: config.OPS_PORT, opsHost: config.OPS_HOST },
      `ops endpoints on http://${config.OPS_HOST}:${config.OPS_PORT} (/healthz, /readyz, /metrics)`,
    );
  });
  // HOST: loopback in dev (OTTO_CONNECT_ENV=dev); otherwise all interfaces unless HOST says otherwise.
  server.listen(config.PORT, config.HOST, () => {
    lifecycle.info(
      {
        host: config.HOST ?? '(all interfaces)',
        port: config.PORT,
        temporal: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
      },
      `otto-connect API on ${config.PUBLIC_BASE_URL} (port ${config.PORT}); assistant links via POST /api/sellers/:sellerId/assistant-sessions; ` +
        `docs ${config.PUBLIC_BASE_URL}/api/docs; Temporal ${config.TEMPORAL_ADDRESS} (${config.TEMPORAL_NAMESPACE})`,
    );
  });

  let stopping = false;
  const stop = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    lifecycle.info(`${signal}: closing the API`);
    opsServer.close();
    opsServer.closeAllConnections();
    // Idle keep-alive sockets would hold close() open; active requests get the grace period.
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    // Stopping is bounded, as the worker's is: a close that never settles (a store connection a stuck
    // handler never gave back) may not keep the process past what an orchestrator waits before SIGKILL.
    setTimeout(() => {
      lifecycle.warn(
        `${signal}: not closed within ${(SHUTDOWN_GRACE_MS + CLOSE_GRACE_MS) / 1000} s; exiting`,
      );
      process.exit(exitCode);
    }, SHUTDOWN_GRACE_MS + CLOSE_GRACE_MS).unref();
    server.close(() => {
      clearTimeout(force);
      void close().finally(() => process.exit(exitCode));
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Last resort (last-resort.ts): an error nothing caught is logged and the API keeps serving; a burst
  // of them stops it gracefully with exit code 1 so it is restarted.
  installLastResort({ logger, onGiveUp: (reason) => stop(reason, 1) });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) logger.fatal(err.message);
  else logger.fatal({ err }, `API failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
