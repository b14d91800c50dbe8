/**
 * Prometheus metrics for /metrics. A registry per app (not prom-client's global one) so several apps
 * in one process, as in the tests, do not collide.
 */
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectionState } from '../workflows/definitions';
import { safeListener } from './safe-listener';

export interface ApiMetrics {
  registry: Registry;
  callbackOutcomes: Counter<'reason'>;
  consentStarts: Counter<'app_version' | 'outcome'>;
  requestDuration: Histogram<'method' | 'route' | 'status'>;
}

/**
 * `defaultMetrics: true` (api/index.ts, the deployed process) adds the standard, unprefixed `process_*`
 * and `nodejs_*` series, as stock Node.js dashboards expect. Off by default: tests build many apps in
 * one process, and each collector keeps its own event-loop monitor and GC observer.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? false) collectDefaultMetrics({ register: registry });
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
    // A metrics hiccup must never throw out of the listener (that would kill the process).
    const onFinish = safeListener(
      () => {
        const route: unknown = (req.route as { path?: unknown } | undefined)?.path;
        end({
          method: req.method,
          route: typeof route === 'string' ? route : 'unmatched',
          status: String(res.statusCode),
        });
      },
      () => undefined,
    );
    res.on('finish', onFinish);
    next();
  };
}

export const CONNECTIONS_METRIC = 'otto_connect_connections';

/**
 * `otto_connect_connections{state}` (each seller once, see workflows/visibility-queries.ts), read on scrape and cached for `cacheMs` so
 * a tight scrape interval or several Prometheus replicas cost Temporal one round of counts at most per
 * period. When Temporal does not answer, the last known values stay and
 * `otto_connect_connections_count_ok` drops to 0 (alert on that, not on a missing series). A scrape waits
 * for a count at most `waitMs` (default 2 s): a slow Temporal (the counts run under the 10 s call
 * timeout, Prometheus's default scrape timeout too) must not take every other series of the scrape with
 * it. The count goes on in the background; `otto_connect_connections_count_age_seconds` says how old the
 * values shown are.
 */
export function trackConnections(
  metrics: ApiMetrics,
  countByState: () => Promise<Record<ConnectionState, number>>,
  options: { cacheMs?: number; waitMs?: number; now?: () => number } = {},
): void {
  // One gauge per registry: createApp may be called again with the same metrics (tests).
  if (metrics.registry.getSingleMetric(CONNECTIONS_METRIC)) return;
  const cacheMs = options.cacheMs ?? 15_000;
  const waitMs = options.waitMs ?? 2_000;
  const now = options.now ?? Date.now;
  let cached: { at: number; counts: Record<string, number> } | undefined;
  let inFlight: Promise<void> | undefined;
  let lastOk = 0;
  const refresh = async () => {
    if (cached && now() - cached.at < cacheMs) return;
    inFlight ??= countByState()
      .then((counts) => {
        cached = { at: now(), counts };
        lastOk = 1;
      })
      .catch(() => {
        lastOk = 0;
      })
      .finally(() => {
        inFlight = undefined;
      });
    await inFlight;
  };
  /** The refresh, waited for at most `waitMs`; it finishes in the background otherwise. */
  const refreshed = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      refresh(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  };
  new Gauge({
    name: CONNECTIONS_METRIC,
    help: 'Sellers by OttoConnectionState, each once: running workflows for live states; for ended states, sellers whose latest run (in retention) ended so',
    labelNames: ['state'],
    registers: [metrics.registry],
    async collect() {
      await refreshed();
      for (const [state, count] of Object.entries(cached?.counts ?? {})) this.set({ state }, count);
    },
  });
  // Each gauge's collect awaits the same (deduplicated, cached) refresh, whatever order they print in.
  new Gauge({
    name: 'otto_connect_connections_count_ok',
    help: '1 when the last visibility count of connections by state succeeded, else 0',
    registers: [metrics.registry],
    async collect() {
      await refreshed();
      this.set(lastOk);
    },
  });
  new Gauge({
    name: 'otto_connect_connections_count_age_seconds',
    help: 'Age of the connection counts shown (since the last successful count); -1 before the first',
    registers: [metrics.registry],
    async collect() {
      await refreshed();
      this.set(cached === undefined ? -1 : (now() - cached.at) / 1000);
    },
  });
}
