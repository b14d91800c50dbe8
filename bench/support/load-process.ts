/**
 * The API benchmark's load generator in a child process of its own, so that neither its timers nor its
 * response handling share an event loop with the workers (whose activations, GC and CPU bursts would
 * delay the requests' send times or the reading of their answers and be counted as the API's latency),
 * and the API (its own child, api-process.ts) sees the clients a production API sees: another process.
 * Open loop at a FIXED RATE: requests go out on schedule whether or not earlier ones were answered, and
 * each latency counts from the moment its request was due, so a stall shows in full.
 * Parent side: runLoadProcess(). Child side: this file run through fork().
 */
import { childExecArgv } from './allocator';
import { runChildOnce, serveChildOnce } from './child-once';
import { Client, Connection } from '@temporalio/client';
import { percentile, round, sleep } from './report';

const TIMEOUT_MS = 10_000;

export interface PathResult {
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

type Request = () => Promise<{ status: number; text: string }>;

const httpGet =
  (next: () => string, headers: Record<string, string>): Request =>
  async () => {
    const res = await fetch(next(), { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
    return { status: res.status, text: await res.text() };
  };

/** Sends `ratePerSecond` requests for `durationMs`, each on its own schedule; `onBody` reads each answer. */
async function openLoop(
  name: string,
  request: Request,
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
    pending.push(
      (async () => {
        try {
          const res = await request();
          const text = res.text;
          const latency = performance.now() - dueAt;
          if (res.status !== 200) fail(`HTTP ${res.status}`, `HTTP ${res.status}: ${text.slice(0, 200)}`);
          else {
            latencies.push(latency);
            onBody?.(JSON.parse(text));
          }
        } catch (err) {
          const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
          const kind = err instanceof Error ? (err.name === 'TimeoutError' ? 'timeout' : err.name) : 'error';
          fail(kind === 'TypeError' ? 'network' : kind, message);
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

export type LoadSpec = {
  apiUrl: string;
  ratePerSecond: number;
  durationMs: number;
  headers: Record<string, string>;
} & (
  | { kind: 'status'; sellerIds: string[] }
  | { kind: 'list'; shape: 'cursor' | 'limit' }
  /** The Temporal call behind the status route alone: describe() of the seller's workflow, no API. */
  | { kind: 'describe'; temporalAddress: string; workflowIds: string[] }
);

export interface LoadResult extends PathResult {
  /** status: 'full (query)' or 'summary', from the answers. */
  statusView?: string;
  /** list: pages read and rows on each. */
  pages?: number;
  rowsPerPage?: number[];
}

async function runSpec(spec: LoadSpec): Promise<LoadResult> {
  const { apiUrl, ratePerSecond, durationMs, headers } = spec;
  if (spec.kind === 'describe') {
    const ids = spec.workflowIds;
    const connection = await Connection.connect({ address: spec.temporalAddress });
    try {
      const client = new Client({ connection });
      // One call first, so the connection's setup is not in the first latencies.
      await client.workflow.getHandle(ids[0]!).describe();
      return await openLoop(
        'describe() of the workflow (Temporal client, no API)',
        async () => {
          const id = ids[Math.floor(Math.random() * ids.length)]!;
          await connection.withDeadline(Date.now() + TIMEOUT_MS, () =>
            client.workflow.getHandle(id).describe(),
          );
          return { status: 200, text: 'null' };
        },
        ratePerSecond,
        durationMs,
      );
    } finally {
      await connection.close();
    }
  }
  if (spec.kind === 'status') {
    const ids = spec.sellerIds;
    let statusView = 'unknown';
    const r = await openLoop(
      'GET /api/sellers/:id/connection',
      httpGet(
        () => `${apiUrl}/api/sellers/${ids[Math.floor(Math.random() * ids.length)]!}/connection`,
        headers,
      ),
      ratePerSecond,
      durationMs,
      (body) => {
        statusView = body && typeof body === 'object' && 'events' in body ? 'full (query)' : 'summary';
      },
    );
    return { ...r, statusView };
  }
  const { shape } = spec;
  let cursor: string | null = null;
  const rowsPerPage: number[] = [];
  let pages = 0;
  const r = await openLoop(
    shape === 'cursor'
      ? 'GET /api/connections?state=active&pageSize=100&cursor=…'
      : 'GET /api/connections?state=active&limit=100',
    httpGet(() => {
      const base = `${apiUrl}/api/connections?state=active`;
      if (shape === 'limit') return `${base}&limit=100`;
      return `${base}&pageSize=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    }, headers),
    ratePerSecond,
    durationMs,
    (body) => {
      pages++;
      const b = body as { items?: unknown[]; nextCursor?: string | null; connections?: unknown[] };
      rowsPerPage.push((b.items ?? b.connections ?? []).length);
      if (shape === 'cursor') cursor = b.nextCursor ?? null;
    },
  );
  return { ...r, pages, rowsPerPage };
}

/** Runs one open loop in a child process and returns what it measured. */
export async function runLoadProcess(spec: LoadSpec): Promise<LoadResult> {
  // The child takes this process's execArgv (tsx's loader, so it can run TypeScript) minus the worker's cap.
  return await runChildOnce<LoadSpec, LoadResult>(__filename, childExecArgv(), 'load generator', spec);
}

serveChildOnce(module, runSpec);
