/**
 * The floor of the memory figures: the bare floor workflow (bench/floor-workflow.ts) on the steady
 * window's schedule, in a fresh process of its own, its RSS read as steady reads ours (harness.ts
 * Fleet.start, steady-state.ts): before the workers, with them idle, and with every seller cached after
 * the window. Its own process because the floor's CPU run shares ours (bench/floor-ratio.ts): there it
 * would grow into what our fleet freed (V8's pages, the allocator's retained memory) and show nothing.
 * The child runs as the worker runs (the bench process's Node options: the main thread's semi-space cap
 * and tsx's loader; its environment: jemalloc preloaded), with the workflow threads' cap and no Buffer
 * pool, as createWorkers sets them.
 * Parent side: runFloorMemoryProcess(). Child side: this file run through fork().
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import {
  DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB,
  limitBufferPool,
  limitWorkflowThreadSemiSpace,
} from '../../worker/allocator';
import { runWorkers } from '../../worker/create-workers';
import { runChildOnce, serveChildOnce } from './child-once';
import { createFloorWorkers, startFloorWorkflows, type FloorPlan } from './floor-fleet';
import { log, mapLimit, settledRss, sleep } from './report';
import { threadHeapSnapshots, type ThreadHeaps, workflowThreadHeaps } from './thread-heaps';

export interface FloorMemorySpec extends FloorPlan {
  temporalAddress: string;
  /** The floor workflow's bundle (harness.ts BenchEnv.floorBundle). */
  bundleCode: string;
  tokenActivitiesPerSecond: number;
  windowMs: number;
}

/** Bytes, each after full GCs of the child's main thread (report.ts settledRss). */
export interface FloorMemoryResult {
  sellers: number;
  rssBeforeWorkers: number;
  rssWorkersIdle: number;
  rssAfterWindow: number;
  /** The floor workers' workflow threads' heaps, idle and after the window (thread-heaps.ts). */
  threadHeapsIdle: ThreadHeaps | null;
  threadHeapsAfterWindow: ThreadHeaps | null;
}

export async function runFloorMemoryProcess(spec: FloorMemorySpec): Promise<FloorMemoryResult> {
  return await runChildOnce<FloorMemorySpec, FloorMemoryResult>(
    __filename,
    process.execArgv,
    'floor memory process',
    spec,
  );
}

async function measure(spec: FloorMemorySpec): Promise<FloorMemoryResult> {
  limitWorkflowThreadSemiSpace(DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB);
  limitBufferPool();
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const nativeConnection = await NativeConnection.connect({ address: spec.temporalAddress });
  const connection = await Connection.connect({ address: spec.temporalAddress });
  const client = new Client({ connection });
  const rssBeforeWorkers = settledRss().rss;
  const floor = await createFloorWorkers({
    connection: nativeConnection,
    bundleCode: spec.bundleCode,
    counters: { mints: 0, transfers: 0, ticks: 0 },
    tokenActivitiesPerSecond: spec.tokenActivitiesPerSecond,
    prefix: 'bench-floor-memory',
  });
  const running = runWorkers(floor.workers);
  try {
    // As the fleet's idle reading (harness.ts): the workers' fixed cost, no seller yet.
    await sleep(2_000);
    const rssWorkersIdle = settledRss().rss;
    const threadHeapsIdle = await workflowThreadHeaps(floor.workers);
    const originAt = Date.now() + 10_000 + spec.schedule.length * 10;
    const readAt = originAt + spec.windowMs;
    // Every seller stays cached until the reading; the workflows end a moment after it.
    const ids = await startFloorWorkflows(client, floor, spec, { originAt, endAt: readAt + 5_000 });
    await sleep(Math.max(0, readAt - Date.now()));
    const rssAfterWindow = settledRss().rss;
    const threadHeapsAfterWindow = await workflowThreadHeaps(floor.workers);
    await threadHeapSnapshots('floor', floor.workers, ids.length, log);
    await mapLimit(ids, 32, (id) => client.workflow.getHandle(id).result());
    return {
      sellers: ids.length,
      rssBeforeWorkers,
      rssWorkersIdle,
      rssAfterWindow,
      threadHeapsIdle,
      threadHeapsAfterWindow,
    };
  } finally {
    for (const w of floor.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await nativeConnection.close();
  }
}

serveChildOnce(module, measure);
