/** Liveness, readiness (Temporal reachable) and Prometheus metrics for operators. */
import { Router } from 'express';
import type { ApiMetrics } from '../metrics';
import type { SellerConnections } from '../seller-connections';

export function opsRoutes(deps: { connections: SellerConnections; metrics: ApiMetrics }): Router {
  const router = Router();

  // Liveness says only that the process serves HTTP: a Temporal outage must not get the API restarted.
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    await deps.connections.ping();
    res.json({ status: 'ready', temporal: 'reachable' });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}
