/**
 * Prometheus metrics for /metrics. A registry per app (not prom-client's global one) so several apps
 * in one process, as in the tests, do not collide.
 */
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  callbackOutcomes: Counter<'reason'>;
  consentStarts: Counter<'app_version' | 'outcome'>;
  requestDuration: Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  return {
    registry,
    callbackOutcomes: new Counter({
      name: 'otto_connect_oauth_callbacks_total',
      help: 'OAuth callbacks by outcome: accepted, otto_error, or the reason they were refused',
      labelNames: ['reason'],
      registers: [registry],
    }),
    consentStarts: new Counter({
      name: 'otto_connect_consent_starts_total',
      help: 'Consent starts ("Allow access") by app version and outcome',
      labelNames: ['app_version', 'outcome'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'otto_connect_http_request_duration_seconds',
      help: 'API latency by route pattern',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

/** Labels by route pattern, never by raw path, so seller ids cannot blow up the label cardinality. */
export function measureRequests(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.requestDuration.startTimer();
    res.on('finish', () => {
      const route: unknown = (req.route as { path?: unknown } | undefined)?.path;
      end({
        method: req.method,
        route: typeof route === 'string' ? route : 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  };
}
