/**
 * The ops app: /healthz, /readyz (Temporal reachable) and /metrics (Prometheus), for orchestrators and
 * scrapers only. index.ts serves it on OPS_PORT, bound to OPS_HOST (loopback unless set), apart from the
 * public API port, so readiness details and metrics are not public; compose does not publish it. Like
 * createApp it never listens. Pass the same metrics as createApp so /metrics shows the API's series.
 */
import express, { type Express } from 'express';
import type { Logger } from '../common/logger';
import { createErrorHandler } from './errors';
import { trackConnections, type ApiMetrics } from './metrics';
import { logRequests } from './request-log';
import { opsRoutes } from './routes/ops-routes';
import type { SellerConnections } from './seller-connections';
import { unmatchedRoutes, useRouterOptions } from './routing';
import { rejectMalformedUrls } from './url-guard';

export interface OpsAppDeps {
  connections: SellerConnections;
  metrics: ApiMetrics;
  logger?: Logger;
  log?: Pick<Console, 'error'>;
}

export function createOpsApp(deps: OpsAppDeps): Express {
  const { connections, metrics, logger } = deps;
  // Idempotent: createApp registers the same gauges on the same registry.
  trackConnections(metrics, () => connections.countByState());
  const app = express();
  app.disable('x-powered-by');
  useRouterOptions(app);
  if (logger) app.use(logRequests(logger));
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' });
    next();
  });
  app.use(rejectMalformedUrls);
  app.use(opsRoutes({ connections, metrics }));
  app.use(unmatchedRoutes(app));
  const errorLog =
    deps.log ?? (logger ? { error: (msg: string, err: unknown) => logger.error({ err }, msg) } : console);
  app.use(createErrorHandler(errorLog));
  return app;
}
