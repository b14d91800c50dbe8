/**
 * floor ratio: the same load as the steady-state window — every seller's first mint and transfer runs at
 * the same offsets, then on the same intervals — from the bare floor workflow (bench/floor-workflow.ts:
 * timers and no-op activities, no logic), on the same server in the same run, after our fleet is gone.
 * Reports ours / floor for throughput and CPU.
 */
import { Worker } from '@temporalio/worker';
import type { BenchContext } from './support/context';
import { createFloorActivities, type FloorCounters } from './support/floor-activities';
import { eventsBetween, historyMarks, TOKEN_ACTIVITIES_PER_SECOND } from './support/harness';
import {
  log,
  mapLimit,
  ownCpuMs,
  printTable,
  processCpuMs,
  round,
  sleep,
  writeResult,
} from './support/report';
import { runSteadyState } from './steady-state';
import type { floorWorkflow } from './floor-workflow';
import { runWorkers } from '../worker/create-workers';

export async function runFloorRatio(ctx: BenchContext): Promise<void> {
  if (!ctx.steady) await runSteadyState(ctx);
  const ours = ctx.steady!;
  // Our workers, API and emulator stop and our workflows end: the server and this process run only the floor.
  await ctx.closeFleet();
  const { env } = ctx;
  const counters: FloorCounters = { mints: 0, transfers: 0 };
  const taskQueue = `bench-floor-${Date.now().toString(36)}`;
  const tokenTaskQueue = `${taskQueue}-tokens`;
  const workers = [
    await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { code: env.floorBundle },
      activities: createFloorActivities(counters),
    }),
    await Worker.create({
      connection: env.nativeConnection,
      taskQueue: tokenTaskQueue,
      activities: createFloorActivities(counters),
      maxTaskQueueActivitiesPerSecond: TOKEN_ACTIVITIES_PER_SECOND,
    }),
  ];
  const running = runWorkers(workers);
  try {
    const n = ours.sellers;
    const originAt = Date.now() + 10_000 + n * 10;
    const endAt = originAt + ours.windowMs + 5_000;
    const ids = ours.schedule.map((_, i) => `bench-floor-${i}-${originAt}`);
    log(`floor: starting ${n} bare workflows with the steady window's schedule …`);
    await mapLimit(ids, 32, (id, i) =>
      env.client.workflow.start<typeof floorWorkflow>('floorWorkflow', {
        workflowId: id,
        taskQueue,
        args: [{ tokenTaskQueue, mintPeriodMs: ours.mintPeriodMs, originAt, endAt, ...ours.schedule[i]! }],
      }),
    );
    const before = await historyMarks(env.client, ids);
    if (Date.now() > originAt) log('floor: warning — starting took longer than the lead time');
    await sleep(Math.max(0, originAt - Date.now()));
    log(`floor: measuring for ${ours.windowMs / 1000} s …`);
    const t0 = Date.now();
    const cpu0 = { worker: ownCpuMs(), server: processCpuMs(env.server.pid) };
    const c0 = { ...counters };
    await sleep(ours.windowMs);
    const t1 = Date.now();
    const cpu1 = { worker: ownCpuMs(), server: processCpuMs(env.server.pid) };
    const c1 = { ...counters };
    const after = await historyMarks(env.client, ids);
    const { events } = await eventsBetween(env.client, before, after);
    await mapLimit(ids, 32, (id) => env.client.workflow.getHandle(id).result());

    const windowS = (t1 - t0) / 1000;
    const activities = c1.mints - c0.mints + (c1.transfers - c0.transfers);
    const floor = {
      activitiesPerSecond: activities / windowS,
      historyEventsPerSecond: events / windowS,
      workerCpuPercent: ((cpu1.worker - cpu0.worker) / (t1 - t0)) * 100,
      serverCpuPercent: ((cpu1.server - cpu0.server) / (t1 - t0)) * 100,
      workerCpuMsPerActivity: (cpu1.worker - cpu0.worker) / activities,
    };
    const metrics: [string, keyof typeof floor, number][] = [
      ['activity completions/s', 'activitiesPerSecond', 2],
      ['history events/s', 'historyEventsPerSecond', 1],
      ['worker CPU (% of one core)', 'workerCpuPercent', 1],
      ['Temporal server CPU (% of one core)', 'serverCpuPercent', 1],
      ['worker CPU per activity (ms)', 'workerCpuMsPerActivity', 2],
    ];
    const rows = metrics.map(([label, key, digits]) => [
      label,
      round(ours[key], digits),
      round(floor[key], digits),
      round(ours[key] / floor[key], 2),
    ]);
    printTable(
      `floor ratio: ${n} sellers, same schedule, ${round(windowS)} s window each (ours = steady state)`,
      ['metric', 'ours', 'floor', 'ours/floor'],
      rows,
    );
    const result = {
      sellers: n,
      windowSeconds: round(windowS, 1),
      ours: {
        activitiesPerSecond: ours.activitiesPerSecond,
        historyEventsPerSecond: ours.historyEventsPerSecond,
        workerCpuPercent: ours.workerCpuPercent,
        serverCpuPercent: ours.serverCpuPercent,
        workerCpuMsPerActivity: ours.workerCpuMsPerActivity,
      },
      floor: {
        ...floor,
        mints: c1.mints - c0.mints,
        transfers: c1.transfers - c0.transfers,
        historyEvents: events,
      },
      ratio: Object.fromEntries(metrics.map(([, key]) => [key, round(ours[key] / floor[key], 3)])),
    };
    ctx.summary.floor = result;
    log(`wrote ${writeResult('floor', { params: ctx.params, ...result })}`);
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running.catch(() => undefined);
  }
}
