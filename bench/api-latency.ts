/**
 * API: status-view latency under concurrent load, through the real app (createApp with the real Temporal
 * adapter) on a loopback port: the query path (GET /api/sellers/:id/connection → workflow query) and the
 * visibility-list path (GET /api/connections?state=active). A closed loop of `apiConcurrency` clients per
 * path for `apiDurationMs`; loopback only. The API shares this process (and its event loop) with the
 * workers and the load generator, so these figures are an upper bound for a separate API process.
 */
import type { BenchContext } from './support/context';
import { SUPPORT_AUTH } from './support/harness';
import { log, percentile, printTable, round, writeResult } from './support/report';

interface PathResult {
  path: string;
  requests: number;
  errors: number;
  firstError: string | null;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
}

async function load(
  name: string,
  url: () => string,
  concurrency: number,
  durationMs: number,
): Promise<PathResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  const endAt = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < endAt) {
        const t = performance.now();
        try {
          const res = await fetch(url(), { headers: SUPPORT_AUTH });
          await res.arrayBuffer();
          if (res.status !== 200) {
            errors++;
            firstError ??= `HTTP ${res.status}`;
          } else latencies.push(performance.now() - t);
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  return {
    path: name,
    requests: latencies.length + errors,
    errors,
    firstError,
    requestsPerSecond: round(latencies.length / elapsedS, 1),
    p50: round(percentile(latencies, 50), 1),
    p99: round(percentile(latencies, 99), 1),
    max: round(percentile(latencies, 100), 1),
  };
}

export async function runApiLatency(ctx: BenchContext): Promise<void> {
  const { apiConcurrency: c, apiDurationMs: d } = ctx.params;
  const fleet = await ctx.ensureSellers(Math.min(ctx.params.fleetSellers, ctx.params.lifecycleSellers));
  const sellers = fleet.sellers;
  log(`api: ${c} concurrent clients, ${d / 1000} s per path, ${sellers.length} sellers …`);
  const pick = () => sellers[Math.floor(Math.random() * sellers.length)]!.sellerId;
  const status = await load(
    'GET /api/sellers/:id/connection (query)',
    () => `${fleet.apiUrl}/api/sellers/${pick()}/connection`,
    c,
    d,
  );
  const list = await load(
    'GET /api/connections?state=active (visibility, 100 rows)',
    () => `${fleet.apiUrl}/api/connections?state=active&limit=100`,
    c,
    d,
  );
  const results = [status, list];
  printTable(
    `API latency: ${c} concurrent clients on loopback, ${d / 1000} s per path, ${sellers.length} active sellers`,
    ['path', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
    results.map((r) => [r.path, r.requests, r.requestsPerSecond, r.p50, r.p99, r.max, r.errors]),
  );
  for (const r of results) if (r.firstError) log(`${r.path}: first error ${r.firstError}`);
  const result = { concurrency: c, durationMs: d, sellers: sellers.length, paths: results };
  ctx.summary.api = result;
  log(`wrote ${writeResult('api', { params: ctx.params, ...result })}`);
}
