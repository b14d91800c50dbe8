/**
 * Builds the two workers of one worker process: the main one (seller workflows and their activities)
 * and the token one (token activities only, on their own task queue with a per-second cap, so a wave
 * of refreshes never exceeds OTTO's token-endpoint limit).
 */
import { join } from 'node:path';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { DEFAULT_DATA_DIR } from '../common/dev-secrets';
import type { SellerStore } from '../store/seller-store';
import { openSellerStore } from '../store/open-seller-store';
import { createDataActivities, createTokenActivities, type ActivityDeps } from '../activities';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  tokenTaskQueue: string;
  tokenActivitiesPerSecond: number;
  /**
   * The seller store; without one, the store `sellerStorePath` names (a `postgres://…` URL or a SQLite
   * file, default .data/seller-store.db), opened and migrated here.
   */
  deps: Omit<ActivityDeps, 'store'> & { store?: SellerStore };
  sellerStorePath?: string;
  /** Bounds the worker's memory: each cached seller workflow costs ~1.6 MB (bench/, docs/scaling.md). */
  maxCachedWorkflows?: number;
  /** Pre-built bundle (tests); otherwise the workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createWorkers(opts: CreateWorkersOptions): Promise<Worker[]> {
  const store =
    opts.deps.store ??
    (await openSellerStore(opts.sellerStorePath ?? join(DEFAULT_DATA_DIR, 'seller-store.db')));
  const deps: ActivityDeps = { ...opts.deps, store };
  const workflowSource = opts.workflowBundle
    ? { workflowBundle: opts.workflowBundle }
    : { workflowsPath: require.resolve('../workflows') };
  const main = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    ...workflowSource,
    activities: createDataActivities(deps),
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
  });
  const tokens = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.tokenTaskQueue,
    activities: createTokenActivities(deps),
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
