/**
 * Builds the two workers of one worker process: the main one (seller workflows and their activities)
 * and the token one (token activities only, on their own task queue with a per-second cap, so a wave
 * of refreshes never exceeds OTTO's token-endpoint limit).
 */
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createTokenActivities, type ActivityDeps } from '../activities';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  tokenTaskQueue: string;
  tokenActivitiesPerSecond: number;
  deps: ActivityDeps;
  /** Pre-built bundle (tests); otherwise the workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createWorkers(opts: CreateWorkersOptions): Promise<Worker[]> {
  const workflowSource = opts.workflowBundle
    ? { workflowBundle: opts.workflowBundle }
    : { workflowsPath: require.resolve('../workflows') };
  const main = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    ...workflowSource,
  });
  const tokens = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.tokenTaskQueue,
    activities: createTokenActivities(opts.deps),
    maxTaskQueueActivitiesPerSecond: opts.tokenActivitiesPerSecond,
  });
  return [main, tokens];
}

/** Runs all workers until one fails or all are shut down; shuts the others down on failure. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  try {
    await Promise.all(workers.map((w) => w.run()));
  } catch (err) {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    throw err;
  }
}
