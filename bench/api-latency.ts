/**
 * API: latency through the real app (createApp with the real Temporal adapter, composed as api/index.ts)
 * in a process of its own (support/api-process.ts), as in production, on a loopback port, at a FIXED
 * RATE from a load generator in a third process (support/load-process.ts; open loop: requests go out on
 * schedule whether or not earlier ones were answered, and each latency counts from the moment its
 * request was due, so a stall shows in full):
 * - status: GET /api/sellers/:id/connection for random active sellers, `statusRatePerSecond`;
 * - list: GET /api/connections?state=active, 100 rows per page, `listRatePerSecond`, following the
 *   cursor from page to page (`pageSize`/`cursor` → `{ items, nextCursor }`), or the older
 *   `limit=100` → `{ connections }` where the API has no cursor (detected by the first answer).
 * Any answer but 200 (and any failed or timed-out request) is an error. The workers stay in this process
 * and go on running the fleet meanwhile; on a 2-core machine all processes (Temporal server, workers,
 * API, load generator, emulator) still share the cores, so the figures are an upper bound.
 */
import type { BenchContext } from './support/context';
import { fmt, goalRow } from './support/goals';
import { SUPPORT_AUTH } from './support/harness';
import { runLoadProcess } from './support/load-process';
import {
  log,
  ownCpuMs,
  printTable,
  processCpuMs,
  processRunDelayMs,
  round,
  writeResult,
} from './support/report';

const WARMUP_MS = 3_000;

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
  const pids = fleet.cpuPids();
  const base = { apiUrl: fleet.apiUrl, ratePerSecond: 0, durationMs: d, headers: SUPPORT_AUTH };
  const sellerIds = sellers.map((s) => s.sellerId);
  // A long-running API has its status route compiled by now; a fresh child has not: a few seconds of
  // the same load first, not measured.
  await runLoadProcess({
    ...base,
    kind: 'status',
    durationMs: WARMUP_MS,
    ratePerSecond: statusRatePerSecond,
    sellerIds,
  });
  const cpu0 = { api: processCpuMs(pids.api), worker: ownCpuMs(), apiWait: processRunDelayMs(pids.api) };
  const t0 = performance.now();
  const status = await runLoadProcess({
    ...base,
    kind: 'status',
    ratePerSecond: statusRatePerSecond,
    sellerIds,
  });
  const statusView = status.statusView ?? 'unknown';
  // The route answers from the seller's status row while it is valid, else with Temporal's describe().
  const validRows = await fleet.validStatusRows();
  const statusCpu = {
    api: processCpuMs(pids.api) - cpu0.api,
    worker: ownCpuMs() - cpu0.worker,
    apiWait: processRunDelayMs(pids.api) - cpu0.apiWait,
    ms: performance.now() - t0,
  };
  // The Temporal call behind the status route alone (describe(), from the load generator's process at
  // the same rate): what of the status latency is Temporal's, and what the API adds.
  const describe = await runLoadProcess({
    ...base,
    kind: 'describe',
    ratePerSecond: statusRatePerSecond,
    temporalAddress: fleet.env.server.address,
    workflowIds: sellers.map((s) => s.workflowId),
  });

  const shape = await detectListShape(fleet.apiUrl);
  const list = await runLoadProcess({ ...base, kind: 'list', ratePerSecond: listRatePerSecond, shape });
  const pages = list.pages ?? 0;
  const rowsPerPage = list.rowsPerPage ?? [];
  const results = [status, describe, list];
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
  const cpuPct = (ms: number) => round((ms / statusCpu.ms) * 100, 1);
  log(
    `api: during the status loop the API process (pid ${pids.api}) used ${cpuPct(statusCpu.api)} % of a core ` +
      `(${round(statusCpu.api / status.requests, 2)} ms per request); its event loop waited ${cpuPct(statusCpu.apiWait)} % of the time ` +
      `for a CPU (runnable while other processes ran: schedstat); the worker process used ${cpuPct(statusCpu.worker)} %`,
  );
  const meanRows = rowsPerPage.length ? rowsPerPage.reduce((a, b) => a + b, 0) / rowsPerPage.length : 0;
  const rows = [
    goalRow(label, 'statusP50Ms', status.p50, { digits: 1 }),
    goalRow(label, 'statusP99Ms', status.p99, {
      result: `${fmt(status.p99, 1)} ms (${fmt(status.requests)} requests at ${statusRatePerSecond}/s; status rows valid for ${fmt(validRows)} of ${fmt(sellers.length)} sellers)`,
      // The route reads the seller's status row (no Temporal call) and falls back to the memo with one
      // describe(); that call alone, at the same rate from the load generator, is the fallback's floor.
      floor: `${fmt(describe.p99, 1)} ms (describe() alone, the fallback, same rate)`,
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
    apiProcess: 'own process (support/api-process.ts), load generator in another (support/load-process.ts)',
    statusLoopCpuPercent: {
      api: cpuPct(statusCpu.api),
      apiWaitingForCpu: cpuPct(statusCpu.apiWait),
      worker: cpuPct(statusCpu.worker),
    },
    describeAlone: describe,
    validStatusRows: validRows,
    apiCpuMsPerStatusRequest: round(statusCpu.api / status.requests, 2),
    listShape: shape,
    listPages: pages,
    listMeanRowsPerPage: round(meanRows, 1),
    paths: results,
    goals: rows,
  };
  ctx.summary[label] = result;
  log(`wrote ${writeResult(label.replace(': ', '-'), { params: ctx.params, ...result })}`);
}
