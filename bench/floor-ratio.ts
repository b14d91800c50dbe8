/**
 * floor ratio: the same load as the steady-state window — every seller's first mint and transfer runs at
 * the same offsets, then on the same intervals — from the bare floor workflow (bench/floor-workflow.ts:
 * timers and no-op activities, no logic), on the same server in the same run, after our fleet is gone.
 * The floor takes our workflow's shape (detected by steady state from the histories): one timer and one
 * activity per tick when ours runs its transfers as one `runTick`, else a refresh mint plus an activity
 * per transfer. Reports ours / floor for throughput and CPU (the goal: worker CPU ≤ 1.25 × the floor),
 * and the floor's own lateness and history events per seller-day, the floors of those figures. The floor
 * of the memory figures runs the same schedule again in a fresh process (support/floor-memory-process.ts).
 */
import type { BenchContext } from './support/context';
import { startCpuProfile } from './support/cpu-profile';
import type { FloorCounters } from './support/floor-activities';
import { createFloorWorkers, startFloorWorkflows, type FloorPlan } from './support/floor-fleet';
import { fmt, goalRow } from './support/goals';
import { sampleHistories, spreadSample } from './support/history';
import { eventsBetween, historyMarks, TOKEN_ACTIVITIES_PER_SECOND } from './support/harness';
import {
  log,
  mapLimit,
  MB,
  ownCpuMs,
  threadCpuBetween,
  threadCpuMs,
  percentile,
  printTable,
  processCpuMs,
  round,
  sleep,
  writeResult,
} from './support/report';
import { runSteadyState } from './steady-state';
import { runFloorMemoryProcess } from './support/floor-memory-process';
import { describeThreadHeaps } from './support/thread-heaps';
import { runWorkers } from '../worker/create-workers';

export async function runFloorRatio(ctx: BenchContext): Promise<void> {
  if (!ctx.steady) await runSteadyState(ctx);
  const ours = ctx.steady!;
  // Our workers, API and emulator stop and our workflows end: the server and this process run only the floor.
  await ctx.closeFleet();
  const { env } = ctx;
  const counters: FloorCounters = { mints: 0, transfers: 0, ticks: 0 };
  const shape = ours.tickMode ? 'tick' : 'split';
  const plan: FloorPlan = {
    shape,
    mintPeriodMs: ours.mintPeriodMs,
    tokenLifetimeMs: ours.tokenLifetimeMs,
    reserveMs: ours.reserveMs,
    schedule: ours.schedule,
  };
  const floorWorkers = await createFloorWorkers({
    connection: env.nativeConnection,
    bundleCode: env.floorBundle,
    counters,
    tokenActivitiesPerSecond: TOKEN_ACTIVITIES_PER_SECOND,
    prefix: 'bench-floor',
  });
  const { workers } = floorWorkers;
  const running = runWorkers(workers);
  try {
    const n = ours.sellers;
    const originAt = Date.now() + 10_000 + n * 10;
    // Room for the history marks taken at the origin (the window starts after them).
    const endAt = originAt + ours.windowMs + 30_000;
    log(`floor: starting ${n} bare workflows (${shape} shape) with the steady window's schedule …`);
    const ids = await startFloorWorkflows(env.client, floorWorkers, plan, { originAt, endAt });
    if (Date.now() > originAt) log('floor: warning — starting took longer than the lead time');
    // Marks once every workflow's first task (start, first timer) is behind it, so the window counts
    // only the schedule's events, as ours does.
    await sleep(Math.max(0, originAt - 1_000 - Date.now()));
    const before = await historyMarks(env.client, ids);
    log(`floor: measuring for ${ours.windowMs / 1000} s …`);
    const profiler = await startCpuProfile('floor');
    const t0 = Date.now();
    const threads0 = threadCpuMs();
    const cpu0 = { worker: ownCpuMs(), server: processCpuMs(env.server.pid) };
    const c0 = { ...counters };
    await sleep(ours.windowMs);
    const t1 = Date.now();
    const threads1 = threadCpuMs();
    const cpu1 = { worker: ownCpuMs(), server: processCpuMs(env.server.pid) };
    const c1 = { ...counters };
    const profileFile = await profiler.stop();
    if (profileFile) log(`floor: CPU profile ${profileFile}`);
    const after = await historyMarks(env.client, ids);
    const { events } = await eventsBetween(env.client, before, after);
    const hist = await sampleHistories(env.client, spreadSample(ids, ctx.params.historySample), t0, t1);
    await mapLimit(ids, 32, (id) => env.client.workflow.getHandle(id).result());
    for (const w of workers) w.shutdown();
    await running;

    log(`floor: the same schedule again in a process of its own, for its memory …`);
    const mem = await runFloorMemoryProcess({
      ...plan,
      temporalAddress: env.server.address,
      bundleCode: env.floorBundle,
      tokenActivitiesPerSecond: TOKEN_ACTIVITIES_PER_SECOND,
      windowMs: ours.windowMs,
    });

    const windowS = (t1 - t0) / 1000;
    const activities = c1.mints - c0.mints + (c1.transfers - c0.transfers) + (c1.ticks - c0.ticks);
    const k = ours.timeScale;
    const floor = {
      activitiesPerSecond: activities / windowS,
      historyEventsPerSecond: events / windowS,
      workerCpuPercent: ((cpu1.worker - cpu0.worker) / (t1 - t0)) * 100,
      serverCpuPercent: ((cpu1.server - cpu0.server) / (t1 - t0)) * 100,
      workerCpuMsPerActivity: (cpu1.worker - cpu0.worker) / activities,
    };
    const floorEventsPerSellerDay = events / n / ((windowS * k) / 86_400);
    const floorMemory = {
      rssMB: round(mem.rssAfterWindow / MB, 0),
      rssBeforeWorkersMB: round(mem.rssBeforeWorkers / MB, 0),
      rssWorkersIdleMB: round(mem.rssWorkersIdle / MB, 0),
      rssAboveIdleWorkersPerSellerKB: round(
        (mem.rssAfterWindow - mem.rssWorkersIdle) / 1024 / mem.sellers,
        0,
      ),
      rssGrowthPerSellerKB: round((mem.rssAfterWindow - mem.rssBeforeWorkers) / 1024 / mem.sellers, 0),
      workflowThreads:
        mem.threadHeapsAfterWindow === null || mem.threadHeapsIdle === null
          ? null
          : {
              usedMB: round(mem.threadHeapsAfterWindow.used / MB, 0),
              committedMB: round(mem.threadHeapsAfterWindow.committed / MB, 0),
              usedGrowthPerSellerKB: round(
                (mem.threadHeapsAfterWindow.used - mem.threadHeapsIdle.used) / 1024 / mem.sellers,
                0,
              ),
              committedGrowthPerSellerKB: round(
                (mem.threadHeapsAfterWindow.committed - mem.threadHeapsIdle.committed) / 1024 / mem.sellers,
                0,
              ),
            },
    };
    log(`floor memory (after the window): ${describeThreadHeaps(mem.threadHeapsAfterWindow)}`);
    const floorLatenessP99 = percentile(hist.lateness, 99);
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
      `floor ratio: ${n} sellers, same schedule, ${round(windowS)} s window each (ours = steady state; floor shape ${shape})`,
      ['metric', 'ours', 'floor', 'ours/floor'],
      [
        ...rows,
        ['floor: history events per seller-day', '', round(floorEventsPerSellerDay, 0), ''],
        [
          'floor: lateness p50 / p99 (ms, run start vs due)',
          '',
          `${percentile(hist.lateness, 50)} / ${floorLatenessP99}`,
          '',
        ],
        [
          'worker RSS above idle workers, per seller (KB)',
          round(ours.rssAboveIdleWorkersPerSellerKB, 0),
          floorMemory.rssAboveIdleWorkersPerSellerKB,
          round(ours.rssAboveIdleWorkersPerSellerKB / floorMemory.rssAboveIdleWorkersPerSellerKB, 2),
        ],
        [
          'worker RSS growth since before workers, per seller (KB)',
          round(ours.rssGrowthPerSellerKB, 0),
          floorMemory.rssGrowthPerSellerKB,
          round(ours.rssGrowthPerSellerKB / floorMemory.rssGrowthPerSellerKB, 2),
        ],
        [
          "of it: workflow threads' committed heap growth since idle, per seller (KB)",
          ours.threadHeapCommittedGrowthPerSellerKB ?? 'n/a',
          floorMemory.workflowThreads?.committedGrowthPerSellerKB ?? 'n/a',
          '',
        ],
      ],
    );
    // Where the worker's CPU went, per activity, by thread group: ours against the floor.
    const floorByThread = threadCpuBetween(threads0, threads1);
    const oursActivities = ours.activitiesPerSecond * (ours.windowMs / 1000);
    const byThread = Object.keys(floorByThread).map((group) => {
      const o = (ours.workerCpuByThreadMs[group] ?? 0) / oursActivities;
      const f = (floorByThread[group] ?? 0) / activities;
      return { group, oursMsPerActivity: round(o, 2), floorMsPerActivity: round(f, 2) };
    });
    printTable(
      'worker CPU per activity by thread (ms; threads that ended in the window are not counted)',
      ['thread group', 'ours', 'floor', 'ours − floor'],
      byThread.map((t) => [
        t.group,
        t.oursMsPerActivity,
        t.floorMsPerActivity,
        round(t.oursMsPerActivity - t.floorMsPerActivity, 2),
      ]),
    );
    const cpuRatio = ours.workerCpuPercent / floor.workerCpuPercent;
    ctx.setFloor('latenessP99Ms', `${fmt(floorLatenessP99)} ms (bare workflow)`);
    ctx.setFloor('historyEventsPerSellerDay', `${fmt(floorEventsPerSellerDay)} (bare workflow)`);
    ctx.setFloor(
      'memoryPerWorkflowKB',
      `${fmt(floorMemory.rssAboveIdleWorkersPerSellerKB)} KB RSS (bare workflow, same schedule, above its idle workers)`,
    );
    ctx.setFloor(
      'memoryGrowthPerSellerKB',
      `${fmt(floorMemory.rssGrowthPerSellerKB)} KB RSS (bare workflow, since before its workers)`,
    );
    const goals = [
      goalRow('floor', 'workerCpuVsFloor', cpuRatio, {
        result: `${round(cpuRatio, 2)} × (ours ${round(ours.workerCpuPercent, 1)} % of a core, ${round(ours.workerCpuMsPerActivity, 2)} ms per activity)`,
        floor: `${round(floor.workerCpuPercent, 1)} % of a core, ${round(floor.workerCpuMsPerActivity, 2)} ms per activity`,
      }),
    ];
    ctx.record('floor', goals);
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
      shape,
      floor: {
        ...floor,
        mints: c1.mints - c0.mints,
        transfers: c1.transfers - c0.transfers,
        ticks: c1.ticks - c0.ticks,
        historyEvents: events,
        historyEventsPerSellerDay: round(floorEventsPerSellerDay, 0),
        memory: floorMemory,
        latenessMs: {
          samples: hist.lateness.length,
          p50: percentile(hist.lateness, 50),
          p99: floorLatenessP99,
        },
      },
      workerCpuByThread: byThread,
      ratio: Object.fromEntries(metrics.map(([, key]) => [key, round(ours[key] / floor[key], 3)])),
      goals,
    };
    ctx.summary.floor = result;
    log(`wrote ${writeResult('floor', { params: ctx.params, ...result })}`);
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running.catch(() => undefined);
  }
}
