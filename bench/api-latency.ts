/**
 * API: latency through the real app (createApp with the real Temporal adapter) on a loopback port, at a
 * FIXED RATE (open loop: requests go out on schedule whether or not earlier ones were answered, and each
 * latency counts from the moment its request was due, so a stall shows in full):
 * - status: GET /api/sellers/:id/connection for random active sellers, `statusRatePerSecond`;
 * - list: GET /api/connections?state=active, 100 rows per page, `listRatePerSecond`, following the
 *   cursor from page to page (`pageSize`/`cursor` → `{ items, nextCursor }`), or the older
 *   `limit=100` → `{ connections }` where the API has no cursor (detected by the first answer).
 * Any answer but 200 (and any failed or timed-out request) is an error. The API shares this process (and
 * its event loop) with the workers and the load generator, so these figures are an upper bound for a
 * separate API process.
 */
import type { BenchContext } from './support/context';
import { fmt, goalRow } from './support/goals';
import { SUPPORT_AUTH } from './support/harness';
import { log, percentile, printTable, round, sleep, writeResult } from './support/report';

const TIMEOUT_MS = 10_000;

interface PathResult {
  path: string;
  ratePerSecond: number;
  requests: number;
  errors: number;
  errorsByKind: Record<string, number>;
  firstError: string | null;
  answeredPerSecond: number;
  maxInFlight: number;
  p50: number;
  p99: number;
  max: number;
}

/** Sends `ratePerSecond` requests for `durationMs`, each on its own schedule; `check` may reject a body. */
async function openLoop(
  name: string,
  next: () => string,
  ratePerSecond: number,
  durationMs: number,
  onBody?: (body: unknown) => void,
): Promise<PathResult> {
  const latencies: number[] = [];
  const errorsByKind: Record<string, number> = {};
  let errors = 0;
  let firstError: string | null = null;
  let inFlight = 0;
  let maxInFlight = 0;
  const fail = (kind: string, detail: string) => {
    errors++;
    errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
    firstError ??= detail;
  };
  const intervalMs = 1000 / ratePerSecond;
  const total = Math.max(1, Math.floor((durationMs / 1000) * ratePerSecond));
  const pending: Promise<void>[] = [];
  const fire = (dueAt: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const url = next();
    pending.push(
      (async () => {
        try {
          const res = await fetch(url, { headers: SUPPORT_AUTH, signal: AbortSignal.timeout(TIMEOUT_MS) });
          const text = await res.text();
          const latency = performance.now() - dueAt;
          if (res.status !== 200) fail(`HTTP ${res.status}`, `HTTP ${res.status}: ${text.slice(0, 200)}`);
          else {
            latencies.push(latency);
            onBody?.(JSON.parse(text));
          }
        } catch (err) {
          const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
          fail(err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'network', message);
        } finally {
          inFlight--;
        }
      })(),
    );
  };
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
    for (; sent < due; sent++) fire(started + sent * intervalMs);
    await sleep(Math.max(1, started + sent * intervalMs - performance.now()));
  }
  await Promise.all(pending);
  const elapsedS = (performance.now() - started) / 1000;
  return {
    path: name,
    ratePerSecond,
    requests: total,
    errors,
    errorsByKind,
    firstError,
    answeredPerSecond: round(latencies.length / elapsedS, 1),
    maxInFlight,
    p50: round(percentile(latencies, 50), 1),
    p99: round(percentile(latencies, 99), 1),
    max: round(percentile(latencies, 100), 1),
  };
}

/** Which list API this is: `pageSize`/`cursor` → `{ items, nextCursor }`, or `limit` → `{ connections }`. */
async function detectListShape(apiUrl: string): Promise<'cursor' | 'limit'> {
  const res = await fetch(`${apiUrl}/api/connections?state=active&pageSize=100`, { headers: SUPPORT_AUTH });
  const body = (await res.json().catch(() => null)) as { items?: unknown } | null;
  if (res.status === 200 && body && Array.isArray(body.items)) return 'cursor';
  return 'limit';
}

export async function runApiLatency(ctx: BenchContext): Promise<void> {
  const { statusRatePerSecond, listRatePerSecond, apiDurationMs: d } = ctx.params;
  const fleet = await ctx.ensureSellers(ctx.params.fleetSellers);
  const sellers = fleet.sellers;
  const label = ctx.params.mode === 'scale' ? 'scale: api' : 'api';
  log(
    `api: status at ${statusRatePerSecond}/s, list at ${listRatePerSecond}/s, ${d / 1000} s each, ${sellers.length} sellers …`,
  );
  const pick = () => sellers[Math.floor(Math.random() * sellers.length)]!.sellerId;
  let statusView = 'unknown';
  const status = await openLoop(
    'GET /api/sellers/:id/connection',
    () => `${fleet.apiUrl}/api/sellers/${pick()}/connection`,
    statusRatePerSecond,
    d,
    (body) => {
      statusView = body && typeof body === 'object' && 'events' in body ? 'full (query)' : 'summary';
    },
  );

  const shape = await detectListShape(fleet.apiUrl);
  let cursor: string | null = null;
  const rowsPerPage: number[] = [];
  let pages = 0;
  const list = await openLoop(
    shape === 'cursor'
      ? 'GET /api/connections?state=active&pageSize=100&cursor=…'
      : 'GET /api/connections?state=active&limit=100',
    () => {
      const base = `${fleet.apiUrl}/api/connections?state=active`;
      if (shape === 'limit') return `${base}&limit=100`;
      return `${base}&pageSize=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    },
    listRatePerSecond,
    d,
    (body) => {
      pages++;
      const b = body as { items?: unknown[]; nextCursor?: string | null; connections?: unknown[] };
      rowsPerPage.push((b.items ?? b.connections ?? []).length);
      if (shape === 'cursor') cursor = b.nextCursor ?? null;
    },
  );
  const results = [status, list];
  printTable(
    `API latency, open loop on loopback, ${d / 1000} s per path, ${sellers.length} active sellers (status view: ${statusView}; list: ${shape})`,
    ['path', 'req/s sent', 'answered/s', 'max in flight', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
    results.map((r) => [
      r.path,
      r.ratePerSecond,
      r.answeredPerSecond,
      r.maxInFlight,
      r.p50,
      r.p99,
      r.max,
      r.errors ? `${r.errors} ${JSON.stringify(r.errorsByKind)}` : 0,
    ]),
  );
  for (const r of results) if (r.firstError) log(`${r.path}: first error ${r.firstError}`);
  const meanRows = rowsPerPage.length ? rowsPerPage.reduce((a, b) => a + b, 0) / rowsPerPage.length : 0;
  const rows = [
    goalRow(label, 'statusP50Ms', status.p50, { digits: 1 }),
    goalRow(label, 'statusP99Ms', status.p99, {
      result: `${fmt(status.p99, 1)} ms (${fmt(status.requests)} requests at ${statusRatePerSecond}/s)`,
      digits: 1,
    }),
    goalRow(label, 'statusErrors', status.errors, {
      result: `${status.errors} of ${fmt(status.requests)}${status.errors ? ` ${JSON.stringify(status.errorsByKind)}` : ''}`,
    }),
    goalRow(label, 'listP99Ms', list.p99, {
      result: `${fmt(list.p99, 1)} ms (p50 ${fmt(list.p50, 1)}; ${pages} pages, ${round(meanRows, 0)} rows each on average; ${list.errors} errors)`,
      digits: 1,
    }),
  ];
  ctx.record(label, rows);
  const result = {
    statusRatePerSecond,
    listRatePerSecond,
    durationMs: d,
    sellers: sellers.length,
    statusView,
    listShape: shape,
    listPages: pages,
    listMeanRowsPerPage: round(meanRows, 1),
    paths: results,
    goals: rows,
  };
  ctx.summary[label] = result;
  log(`wrote ${writeResult(label.replace(': ', '-'), { params: ctx.params, ...result })}`);
}
