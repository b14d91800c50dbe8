/**
 * Measuring and reporting helpers shared by every benchmark: percentiles, process CPU and memory
 * readings (our own process and, through /proc, the Temporal server's), aligned plain-text tables and
 * the JSON files under bench/results/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** Nearest-rank percentile (p in 0..100) of an unsorted sample; NaN for an empty one. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  });
  await Promise.all(runners);
  return out;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU time (ms) in a /proc …/stat line: utime and stime, and with `children` the children's it waited
 * for (cutime, cstime).
 */
function statCpuMs(stat: string, children: boolean): number {
  // Fields after the parenthesised command name; utime is field 14 of the whole line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (children ? [11, 12, 13, 14] : [11, 12]).reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return (ticks * 1000) / ticksPerSecond();
}

/** CPU time (user + system, ms) a process has used so far, children it waited for included; Linux only. */
export function processCpuMs(pid: number): number {
  return statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'), true);
}

/** The thread groups of a worker process, by the names Node, V8, libuv and the Temporal core give them. */
export type ThreadGroup = 'main' | 'workflow threads' | 'core' | 'V8 helpers' | 'libuv' | 'other';

function threadGroup(comm: string): ThreadGroup {
  if (comm === 'MainThread') return 'main';
  // Node's worker threads: the SDK's workflow threads (and tsx's loader thread, idle once all is loaded).
  if (comm === 'WorkerThread') return 'workflow threads';
  // The core's tokio runtime, its workflow-processing thread and its real-time thread (names cut to 15).
  if (/^(tokio-runtime|workflow-proces|temporal-)/.test(comm)) return 'core';
  if (/^(V8Worker|DelayedTaskSche)/.test(comm)) return 'V8 helpers';
  if (comm.startsWith('libuv')) return 'libuv';
  return 'other';
}

/**
 * CPU time (user + system, ms) this process's live threads have used so far, by group (Linux; empty
 * elsewhere). A thread that ended is no longer listed: over a window, a group's difference is a floor.
 */
export function threadCpuMs(): Map<ThreadGroup, number> {
  const out = new Map<ThreadGroup, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const ms = statCpuMs(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'), false);
      const group = threadGroup(comm);
      out.set(group, (out.get(group) ?? 0) + ms);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** What each thread group used between two threadCpuMs() readings (ms). */
export function threadCpuBetween(
  before: Map<ThreadGroup, number>,
  after: Map<ThreadGroup, number>,
): Record<string, number> {
  const groups: ThreadGroup[] = ['main', 'workflow threads', 'core', 'V8 helpers', 'libuv', 'other'];
  return Object.fromEntries(
    groups.map((g) => [g, Math.max(0, (after.get(g) ?? 0) - (before.get(g) ?? 0))] as const),
  );
}

/** Resident set size of another process in bytes (Linux). */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) * 1024;
}

/**
 * This process's RSS after two full GCs of its main thread (V8's `gc`, exposed at run time), so the
 * driver's garbage (onboarding requests, history reads) is not counted as the worker's. The SDK's
 * workflow threads collect on their own schedule: their uncollected garbage stays in.
 */
export function settledRss(): { rss: number; heapUsed: number } {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (() => void) | undefined;
    gc?.();
    gc?.();
  } catch {
    // no GC available: the reading includes garbage
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

/**
 * Time (ms) a process's main thread (for Node: its event loop) has spent runnable but waiting for a CPU
 * so far (Linux /proc/<pid>/schedstat): how much of a latency the machine's other work caused.
 */
export function processRunDelayMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1] ?? 0) / 1e6;
}

export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export const MB = 1024 * 1024;

export type Cell = string | number | boolean | null | undefined;

function show(cell: Cell): string {
  if (cell === null || cell === undefined) return '–';
  if (typeof cell === 'number') {
    if (Number.isNaN(cell)) return 'n/a';
    if (Number.isInteger(cell)) return cell.toLocaleString('en-US');
    return cell.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
  return String(cell);
}

/** A plain aligned table: first column left-aligned, numbers right-aligned (unless `leftOnly`). */
export function formatTable(title: string, header: string[], rows: Cell[][], leftOnly = false): string {
  const text = [header, ...rows.map((r) => r.map(show))];
  const widths = header.map((_, c) => Math.max(...text.map((r) => (r[c] ?? '').length)));
  const line = (r: string[], isHeader: boolean) =>
    r
      .map((cell, c) => {
        const w = widths[c] ?? 0;
        const raw = rows[0]?.[c];
        const numeric =
          !leftOnly && !isHeader && c > 0 && (typeof raw === 'number' || /^[-\d.,]+$/.test(cell));
        return numeric ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [`\n== ${title} ==`, line(header, true), rule, ...text.slice(1).map((r) => line(r, false))].join(
    '\n',
  );
}

export function printTable(title: string, header: string[], rows: Cell[][]): void {
  console.log(formatTable(title, header, rows));
}

/** The value of `--name=value` among this process's arguments, if given. */
export function cliFlag(name: string): string | undefined {
  return process.argv
    .slice(2)
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3);
}

/** Writes bench/results/<name>-<timestamp>.json and returns its path. */
export function writeResult(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(RESULTS_DIR, `${name}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

export function log(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`[bench ${t}] ${message}`);
}

/**
 * BENCH_HEAP_SNAPSHOT=<prefix>: a V8 heap snapshot of this thread (with BENCH_WORKFLOWS_IN_MAIN_THREAD=1
 * the seller workflows' too) at `<prefix>-<label>.heapsnapshot`; given `perSellers`, the growth since the
 * `idle` snapshot by constructor, per seller, is printed (the memory diagnosis of docs/scaling.md §4).
 */
export function heapSnapshot(label: string, perSellers?: number): void {
  const prefix = process.env.BENCH_HEAP_SNAPSHOT;
  if (!prefix) return;
  const file = `${prefix}-${label}.heapsnapshot`;
  settledRss();
  writeHeapSnapshot(file);
  log(`heap snapshot ${file}`);
  if (perSellers === undefined || perSellers <= 0) return;
  const before = constructorTotals(`${prefix}-idle.heapsnapshot`);
  const after = constructorTotals(file);
  const growth = [...after.entries()]
    .map(([name, a]) => {
      const b = before.get(name) ?? { size: 0, count: 0 };
      return { name, kb: (a.size - b.size) / 1024 / perSellers, count: (a.count - b.count) / perSellers };
    })
    .sort((x, y) => y.kb - x.kb);
  const total = growth.reduce((sum, g) => sum + g.kb, 0);
  log(`heap growth per seller since idle: ${total.toFixed(1)} KB; the largest by constructor (KB, count):`);
  for (const g of growth.slice(0, 25))
    log(`  ${g.kb.toFixed(2).padStart(8)} ${g.count.toFixed(1).padStart(8)}  ${g.name}`);
}

export type HeapTotals = Map<string, { size: number; count: number }>;

/** Self size and count of a heap snapshot's nodes, summed by `keyOf(type, name)` (null: left out). */
function snapshotTotals(path: string, keyOf: (type: string, name: string) => string | null): HeapTotals {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const totals: HeapTotals = new Map();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const key = keyOf(types[snap.nodes[i + iType]!]!, snap.strings[snap.nodes[i + iName]!]!);
    if (key === null) continue;
    const t = totals.get(key) ?? { size: 0, count: 0 };
    t.size += snap.nodes[i + iSize]!;
    t.count++;
    totals.set(key, t);
  }
  return totals;
}

/** Self size and count of a heap snapshot's nodes by "type:name" (objects by constructor). */
export function constructorTotals(path: string): HeapTotals {
  return snapshotTotals(path, (type, name) =>
    type === 'object' || type === 'closure' || type === 'native' ? `${type}:${name.slice(0, 80)}` : type,
  );
}

/**
 * Self size and count of a heap snapshot's strings by shape: UUIDs (U), long base64 runs (x) and digits
 * (9) normalized, the first 60 characters kept (`evt_U`, `9-9-9T9:9:9.9Z`), so that one seller's kind of
 * string adds up.
 */
export function stringShapes(path: string): HeapTotals {
  return snapshotTotals(path, (type, name) =>
    type.includes('string')
      ? `${type}:${name
          .replace(/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}/gi, 'U')
          .replace(/[A-Za-z0-9+/=-]{24,}/g, 'x')
          .replace(/\d+/g, '9')
          .replace(/\s+/g, ' ')
          .slice(0, 60)}`
      : null,
  );
}

/**
 * This thread's memory by kind (after the GCs of settledRss()): RSS, V8 heap committed and used, each V8
 * space's committed size, and the memory outside the heap that V8 knows of (ArrayBuffers and the like).
 * What RSS has beyond these is native: the Temporal core (Rust), the allocator's slack, thread stacks.
 */
export function memoryBreakdown(label: string): void {
  const m = process.memoryUsage();
  const spaces = getHeapSpaceStatistics()
    .filter((s) => s.space_size > 0)
    .map(
      (s) =>
        `${s.space_name.replace(/_space$/, '')} ${(s.space_size / MB).toFixed(0)}/${(s.space_used_size / MB).toFixed(0)}`,
    )
    .join(', ');
  log(
    `memory (${label}): RSS ${(m.rss / MB).toFixed(0)} MB; V8 heap committed ${(m.heapTotal / MB).toFixed(0)} MB, ` +
      `used ${(m.heapUsed / MB).toFixed(0)} MB (spaces committed/used MB: ${spaces}); external ${(m.external / MB).toFixed(0)} MB ` +
      `(ArrayBuffers ${(m.arrayBuffers / MB).toFixed(0)} MB)`,
  );
}
