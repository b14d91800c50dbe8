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
import { fork } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import {
  DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB,
  limitBufferPool,
  limitWorkflowThreadSemiSpace,
} from '../../worker/allocator';
import { runWorkers } from '../../worker/create-workers';
import type { FloorInput, floorWorkflow } from '../floor-workflow';
import { createFloorActivities } from './floor-activities';
import { mapLimit, settledRss, sleep } from './report';

export interface FloorMemorySpec {
  temporalAddress: string;
  /** The floor workflow's bundle (harness.ts BenchEnv.floorBundle). */
  bundleCode: string;
  shape: FloorInput['shape'];
  tokenActivitiesPerSecond: number;
  mintPeriodMs: number;
  tokenLifetimeMs: number;
  reserveMs: number;
  windowMs: number;
  /** Per seller, as steady recorded it (SteadyOutcome.schedule). */
  schedule: Pick<FloorInput, 'mintPhaseMs' | 'tokenExpiresInMs' | 'transfers'>[];
}

/** Bytes, each after full GCs of the child's main thread (report.ts settledRss). */
export interface FloorMemoryResult {
  sellers: number;
  rssBeforeWorkers: number;
  rssWorkersIdle: number;
  rssAfterWindow: number;
}

type FromChild = { type: 'done'; result: FloorMemoryResult } | { type: 'error'; message: string };

export async function runFloorMemoryProcess(spec: FloorMemorySpec): Promise<FloorMemoryResult> {
  const child = fork(__filename, [], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    return await new Promise<FloorMemoryResult>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`floor memory process exited with ${code}`)));
      child.on('message', (raw) => {
        const msg = raw as FromChild;
        if (msg.type === 'done') resolve(msg.result);
        else reject(new Error(`floor memory process: ${msg.message}`));
      });
      child.send(spec);
    });
  } finally {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
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
  const counters = { mints: 0, transfers: 0, ticks: 0 };
  const taskQueue = `bench-floor-memory-${Date.now().toString(36)}`;
  const tokenTaskQueue = `${taskQueue}-tokens`;
  const rssBeforeWorkers = settledRss().rss;
  const workers = [
    await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: { code: spec.bundleCode },
      activities: createFloorActivities(counters),
    }),
    await Worker.create({
      connection: nativeConnection,
      taskQueue: tokenTaskQueue,
      activities: createFloorActivities(counters),
      maxTaskQueueActivitiesPerSecond: spec.tokenActivitiesPerSecond,
    }),
  ];
  const running = runWorkers(workers);
  try {
    // As the fleet's idle reading (harness.ts): the workers' fixed cost, no seller yet.
    await sleep(2_000);
    const rssWorkersIdle = settledRss().rss;
    const n = spec.schedule.length;
    const originAt = Date.now() + 10_000 + n * 10;
    const readAt = originAt + spec.windowMs;
    // Every seller stays cached until the reading; the workflows end a moment after it.
    const endAt = readAt + 5_000;
    const ids = spec.schedule.map((_, i) => `bench-floor-memory-${i}-${originAt}`);
    await mapLimit(ids, 32, (id, i) =>
      client.workflow.start<typeof floorWorkflow>('floorWorkflow', {
        workflowId: id,
        taskQueue,
        args: [
          {
            shape: spec.shape,
            tokenTaskQueue,
            mintPeriodMs: spec.mintPeriodMs,
            tokenLifetimeMs: spec.tokenLifetimeMs,
            reserveMs: spec.reserveMs,
            originAt,
            endAt,
            ...spec.schedule[i]!,
          },
        ],
      }),
    );
    await sleep(Math.max(0, readAt - Date.now()));
    const rssAfterWindow = settledRss().rss;
    await mapLimit(ids, 32, (id) => client.workflow.getHandle(id).result());
    return { sellers: n, rssBeforeWorkers, rssWorkersIdle, rssAfterWindow };
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await nativeConnection.close();
  }
}

function runChild(): void {
  process.once('message', (spec: FloorMemorySpec) => {
    measure(spec).then(
      (result) => process.send?.({ type: 'done', result } satisfies FromChild, () => process.exit(0)),
      (err: unknown) =>
        process.send?.(
          { type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies FromChild,
          () => process.exit(1),
        ),
    );
  });
  // The parent died or closed the channel: never outlive it.
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module && process.send !== undefined) runChild();
