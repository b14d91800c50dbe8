/**
 * The V8 heaps of the SDK's workflow threads, for the memory readings: a reading's full GCs reach only
 * its own thread (report.ts settledRss), so whatever garbage the workflow threads' last ticks left is in
 * the RSS, as much as each thread's GC schedule happens to leave at that moment. Their heap statistics
 * (no GC: collecting another thread needs a heap snapshot of it, whose own memory the allocator keeps,
 * 225 MB in a 500-seller run) say how much of a reading is that.
 *
 * The threads are an internal of @temporalio/worker (1.24: the worker's `workflowCreator`, a
 * ThreadedVMWorkflowCreator, and its `workerThreadClients`); when that changes, or the workflows run in
 * this thread (`debugMode`), none are found and the reading says so.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Worker as ThreadWorker } from 'node:worker_threads';
import type { Worker } from '@temporalio/worker';
import { constructorTotals, type HeapTotals, stringShapes } from './report';

interface ThreadsInternal {
  workflowCreator?: { workerThreadClients?: { workerThread?: ThreadWorker }[] };
}

/** Node 22.16+/24's `Worker.getHeapStatistics()` (the project's @types/node predates it). */
type HeapStatisticsOf = () => Promise<{ used_heap_size: number; total_heap_size: number }>;

/** The workflow threads of these SDK workers (none when their workflows run in this thread). */
function workflowThreads(workers: readonly Worker[]): ThreadWorker[] {
  return workers.flatMap((w) =>
    ((w as unknown as ThreadsInternal).workflowCreator?.workerThreadClients ?? [])
      .map((c) => c.workerThread)
      .filter((t): t is ThreadWorker => t !== undefined),
  );
}

export interface ThreadHeaps {
  threads: number;
  /** Summed over the threads, bytes: V8 heap in use (live and not yet collected) and committed. */
  used: number;
  committed: number;
}

/** The workflow threads' heaps, summed; null when there are none or this Node cannot tell. */
export async function workflowThreadHeaps(workers: readonly Worker[]): Promise<ThreadHeaps | null> {
  const threads = workflowThreads(workers);
  const result: ThreadHeaps = { threads: 0, used: 0, committed: 0 };
  for (const t of threads) {
    const stats = (t as { getHeapStatistics?: HeapStatisticsOf }).getHeapStatistics;
    if (stats === undefined) return null;
    const s = await stats.call(t);
    result.threads++;
    result.used += s.used_heap_size;
    result.committed += s.total_heap_size;
  }
  return result.threads === 0 ? null : result;
}

const MB = 1024 * 1024;

/** One line for the log: "workflow threads (1): heap used 94 MB, committed 137 MB". */
export function describeThreadHeaps(h: ThreadHeaps | null): string {
  if (h === null) return 'workflow threads: none in this process (or no heap statistics on this Node)';
  return `workflow threads (${h.threads}): heap used ${(h.used / MB).toFixed(0)} MB, committed ${(h.committed / MB).toFixed(0)} MB`;
}

/**
 * Writes a V8 heap snapshot of each workflow thread of these workers to `<prefix>-thread<i>.heapsnapshot`
 * and returns the files. A snapshot collects the thread first, but its own memory stays in this process's
 * RSS (+225 MB in a 500-seller run): take it after the last memory reading.
 */
export async function writeWorkflowThreadSnapshots(
  workers: readonly Worker[],
  prefix: string,
): Promise<string[]> {
  const files: string[] = [];
  for (const [i, t] of workflowThreads(workers).entries()) {
    const file = `${prefix}-thread${i}.heapsnapshot`;
    await pipeline(await t.getHeapSnapshot(), createWriteStream(file));
    files.push(file);
  }
  return files;
}

export function sumTotals(maps: HeapTotals[]): HeapTotals {
  const sum: HeapTotals = new Map();
  for (const m of maps)
    for (const [k, v] of m) {
      const s = sum.get(k) ?? { size: 0, count: 0 };
      s.size += v.size;
      s.count += v.count;
      sum.set(k, s);
    }
  return sum;
}

/** The largest entries of `totals` per seller, as log lines (KB, count). */
export function perSellerLines(totals: HeapTotals, sellers: number, top: number): string[] {
  const rows = [...totals.entries()]
    .map(([name, t]) => ({ name, kb: t.size / 1024 / sellers, count: t.count / sellers }))
    .sort((a, b) => b.kb - a.kb);
  const total = rows.reduce((s, r) => s + r.kb, 0);
  return [
    `total ${total.toFixed(1)} KB per seller`,
    ...rows
      .slice(0, top)
      .map((r) => `  ${r.kb.toFixed(2).padStart(8)} ${r.count.toFixed(1).padStart(8)}  ${r.name}`),
  ];
}

/**
 * BENCH_THREAD_HEAP_SNAPSHOT=<prefix>: heap snapshots of the workflow threads at
 * `<prefix>-<label>-thread<i>.heapsnapshot`, and what they hold per seller by constructor and by string
 * shape (the diagnosis of docs/scaling.md §3: what of the workflow threads' heap is ours). The
 * snapshots' memory stays in the RSS: call it after the last reading. `npx tsx bench/heap-diff.ts`
 * compares two labels (ours against the floor's).
 */
export async function threadHeapSnapshots(
  label: string,
  workers: readonly Worker[],
  sellers: number,
  log: (line: string) => void,
): Promise<void> {
  const prefix = process.env.BENCH_THREAD_HEAP_SNAPSHOT;
  if (!prefix || sellers <= 0) return;
  const files = await writeWorkflowThreadSnapshots(workers, `${prefix}-${label}`);
  if (files.length === 0) {
    log(`${label}: no workflow threads to snapshot`);
    return;
  }
  log(`${label}: workflow thread heap snapshots ${files.join(', ')}`);
  const byConstructor = perSellerLines(sumTotals(files.map(constructorTotals)), sellers, 25);
  log(`${label}: workflow threads' live heap (after the snapshot's GC) per seller, by constructor:`);
  for (const line of byConstructor) log(line);
  log(`${label}: strings by shape, per seller:`);
  for (const line of perSellerLines(sumTotals(files.map(stringShapes)), sellers, 15)) log(line);
}
