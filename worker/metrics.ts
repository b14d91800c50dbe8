/**
 * The worker's own Prometheus metrics (token mints, refusals, fleet incidents, transfers, OTTO calls,
 * token time-to-expiry, webhook deliveries, status row writes), the `ActivityMetrics` the activities
 * report to, and a small HTTP server for them. The Temporal SDK's metrics (task latencies, slots, polls
 * …) are served by the SDK's Rust core on WORKER_METRICS_PORT; these sit beside them on
 * WORKER_APP_METRICS_PORT, with the standard unprefixed `process_*` / `nodejs_*` series (so stock Node.js
 * dashboards work), /healthz (process up) and /readyz (workers polling) for orchestrators.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ActivityMetrics } from '../activities/activity-metrics';
import { appVersionSchema } from '../common/workflow-schemas';
import { STATUS_ROW_WRITE_RESULTS, type StatusRowWriteResult } from './status-row-sink';

export interface WorkerMetrics extends Required<ActivityMetrics> {
  registry: Registry;
  /** One status row write by the `statusRows` sink (worker/status-row-sink.ts). */
  statusRowWrite(result: StatusRowWriteResult): void;
}

/** Seconds, up to OTTO's own 10 s timeout and a little beyond. */
export const OTTO_CALL_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

export const TOKEN_EXPIRY_METRIC = 'otto_connect_token_oldest_expiry_seconds';

export function createWorkerMetrics(
  options: { defaultMetrics?: boolean; now?: () => number } = {},
): WorkerMetrics {
  const registry = new Registry();
  const now = options.now ?? Date.now;
  // No prefix: the standard process_* and nodejs_* names that Node.js dashboards query.
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const tokenMints = new Counter({
    name: 'otto_connect_token_mints_total',
    help: 'Installation-token mints (refreshes) by result: ok, failed (will retry), revoked (refused: revocation evidence), incident (refused while the fleet breaker is open, or client credentials refused)',
    labelNames: ['result'],
    registers: [registry],
  });
  const mintRefusals = new Counter({
    name: 'otto_connect_mint_refusals_total',
    help: 'Refused installation-token mints by app version and outcome: revocation_evidence (this seller), fleet_incident (breaker open), client_refused (developer token refused)',
    labelNames: ['app_version', 'outcome'],
    registers: [registry],
  });
  const fleetIncident = new Gauge({
    name: 'otto_connect_fleet_incident',
    help: '1 while the fleet breaker of an app version is open (most installations refused at once: OTTO outage or wrong appId; nobody is revoked), else 0',
    labelNames: ['app_version'],
    registers: [registry],
  });
  const transfers = new Counter({
    name: 'otto_connect_transfers_total',
    help: 'Data transfer runs by kind and result: ok, failed, skipped (e.g. missing scope)',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const transferItems = new Counter({
    name: 'otto_connect_transfer_items_total',
    help: 'Items moved by data transfers, by kind and result',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const ottoCalls = new Histogram({
    name: 'otto_connect_otto_request_duration_seconds',
    help: 'Requests to OTTO by endpoint (a route pattern such as /v4/orders or /v1/apps/:appId/installations/:installationId/accessToken, never an id), method and status (the HTTP status, network_error, or cancelled), with their latency; _count is the number of calls',
    labelNames: ['endpoint', 'method', 'status'],
    buckets: OTTO_CALL_BUCKETS,
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'otto_connect_webhook_deliveries_total',
    help: 'Webhook delivery attempts to the shop by result: delivered (2xx), failed (non-2xx, network error or timeout; retried), disabled (no WEBHOOK_URL)',
    labelNames: ['result'],
    registers: [registry],
  });
  const statusRowWrites = new Counter({
    name: 'otto_connect_status_row_writes_total',
    help: 'Status rows written for the API (one per change of a seller workflow status summary) by result: ok, stale (the store held a newer one), failed (the store refused; logged), timeout (not confirmed within 2 s; the write goes on)',
    labelNames: ['result'],
    registers: [registry],
  });
  /** The newest token this process minted per installation, by its expiry (ms since epoch). */
  const liveTokens = new Map<string, number>();
  new Gauge({
    name: TOKEN_EXPIRY_METRIC,
    help: 'Seconds until the earliest expiry among the installation tokens this worker process minted that are still within their lifetime (one per installation: a newer mint here replaces the older); NaN while it holds none. Tokens are minted just in time for a tick, so a token running out unused between ticks is normal; the next tick mints a new one',
    registers: [registry],
    collect() {
      const at = now();
      let earliest = Infinity;
      for (const [key, expiresAt] of liveTokens) {
        if (expiresAt <= at) liveTokens.delete(key);
        else earliest = Math.min(earliest, expiresAt);
      }
      this.set(earliest === Infinity ? Number.NaN : (earliest - at) / 1_000);
    },
  });
  // Zero series for the known results, so alerts on rate(…{result="failed"}) see a series from the start.
  for (const result of ['ok', 'failed', 'revoked', 'incident']) tokenMints.inc({ result }, 0);
  // No incident until a breaker opens: a 0 per app version, so alerts see the series from the start.
  for (const appVersion of appVersionSchema.options) fleetIncident.set({ app_version: appVersion }, 0);
  for (const result of ['delivered', 'failed', 'disabled']) webhookDeliveries.inc({ result }, 0);
  for (const result of STATUS_ROW_WRITE_RESULTS) statusRowWrites.inc({ result }, 0);
  return {
    registry,
    tokenMint: (result) => tokenMints.inc({ result }),
    mintRefusal: (appVersion, outcome) => mintRefusals.inc({ app_version: appVersion, outcome }),
    fleetIncident: (appVersion, open) => fleetIncident.set({ app_version: appVersion }, open ? 1 : 0),
    transfer: (kind, result, items) => {
      transfers.inc({ kind, result });
      if (items > 0) transferItems.inc({ kind, result }, items);
    },
    ottoCall: (call) =>
      ottoCalls.observe({ endpoint: call.endpoint, method: call.method, status: call.status }, call.seconds),
    tokenIssued: (installation, expiresAt) => {
      if (expiresAt > now()) liveTokens.set(installation, expiresAt);
    },
    webhookDelivery: (result) => webhookDeliveries.inc({ result }),
    statusRowWrite: (result) => statusRowWrites.inc({ result }),
  };
}

export interface MetricsServer {
  server: Server;
  port: number;
  /** Flip /readyz to 200 once the workers poll. */
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

export async function serveWorkerMetrics(
  metrics: WorkerMetrics,
  options: { host: string; port: number },
): Promise<MetricsServer> {
  let ready = false;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(err instanceof Error ? err.message : 'metrics failed'),
      );
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ready ? 'ready' : 'starting' }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    setReady: (value) => {
      ready = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
