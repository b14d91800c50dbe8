/**
 * The floor's workers and workflows (bench/floor-workflow.ts), as the floor's CPU run (bench/floor-ratio.ts)
 * and its memory run (floor-memory-process.ts) both start them: the workflow worker and the rate-limited
 * token worker, and one floor workflow per seller of steady's schedule.
 */
import type { Client } from '@temporalio/client';
import { type NativeConnection, Worker } from '@temporalio/worker';
import type { FloorInput, floorWorkflow } from '../floor-workflow';
import { createFloorActivities, type FloorCounters } from './floor-activities';
import { mapLimit } from './report';

/** What the floor replays: steady's shape, token timing and per-seller schedule (SteadyOutcome). */
export interface FloorPlan extends Pick<
  FloorInput,
  'shape' | 'mintPeriodMs' | 'tokenLifetimeMs' | 'reserveMs'
> {
  schedule: Pick<FloorInput, 'mintPhaseMs' | 'tokenExpiresInMs' | 'transfers'>[];
}

export interface FloorWorkers {
  workers: Worker[];
  taskQueue: string;
  tokenTaskQueue: string;
}

export async function createFloorWorkers(opts: {
  connection: NativeConnection;
  bundleCode: string;
  counters: FloorCounters;
  tokenActivitiesPerSecond: number;
  /** Task-queue names start with it. */
  prefix: string;
}): Promise<FloorWorkers> {
  const taskQueue = `${opts.prefix}-${Date.now().toString(36)}`;
  const tokenTaskQueue = `${taskQueue}-tokens`;
  const workers = [
    await Worker.create({
      connection: opts.connection,
      taskQueue,
      workflowBundle: { code: opts.bundleCode },
      activities: createFloorActivities(opts.counters),
    }),
    await Worker.create({
      connection: opts.connection,
      taskQueue: tokenTaskQueue,
      activities: createFloorActivities(opts.counters),
      maxTaskQueueActivitiesPerSecond: opts.tokenActivitiesPerSecond,
    }),
  ];
  return { workers, taskQueue, tokenTaskQueue };
}

/** Starts one floor workflow per seller of the plan; resolves with their ids. */
export async function startFloorWorkflows(
  client: Client,
  queues: Pick<FloorWorkers, 'taskQueue' | 'tokenTaskQueue'>,
  plan: FloorPlan,
  window: { originAt: number; endAt: number },
): Promise<string[]> {
  const ids = plan.schedule.map((_, i) => `${queues.taskQueue}-${i}`);
  await mapLimit(ids, 32, (id, i) =>
    client.workflow.start<typeof floorWorkflow>('floorWorkflow', {
      workflowId: id,
      taskQueue: queues.taskQueue,
      args: [
        {
          shape: plan.shape,
          tokenTaskQueue: queues.tokenTaskQueue,
          mintPeriodMs: plan.mintPeriodMs,
          tokenLifetimeMs: plan.tokenLifetimeMs,
          reserveMs: plan.reserveMs,
          originAt: window.originAt,
          endAt: window.endAt,
          ...plan.schedule[i]!,
        },
      ],
    }),
  );
  return ids;
}
