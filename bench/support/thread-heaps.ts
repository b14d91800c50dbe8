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
import type { Worker as ThreadWorker } from 'node:worker_threads';
import type { Worker } from '@temporalio/worker';

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
