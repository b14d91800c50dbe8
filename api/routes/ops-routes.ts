/**
 * Liveness, readiness (Temporal reachable) and Prometheus metrics for operators. The public app serves
 * only /healthz (load balancers probe it there); all three are on the ops app (create-ops-app.ts), which
 * listens on OPS_PORT and is not published.
 */
import type { Router } from 'express';
import { createRouter } from '../routing';
import type { ApiMetrics } from '../metrics';
import type { SellerConnections } from '../seller-connections';

/** Liveness says only that the process serves HTTP: a Temporal outage must not get the API restarted. */
export function healthRoutes(): Router {
  const router = createRouter();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return router;
}

export function opsRoutes(deps: { connections: SellerConnections; metrics: ApiMetrics }): Router {
  const router = healthRoutes();

  router.get('/readyz', async (_req, res) => {
    await deps.connections.ping();
    res.json({ status: 'ready', temporal: 'reachable' });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}
