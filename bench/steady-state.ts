/**
 * steady state (and, with `--scale`, the 17,000-seller equivalent): the fleet's sellers all `active`,
 * time accelerated by k = 1800 / tokenTtlSeconds (token lifetime, refresh margin and every transfer
 * interval divided by k), measured over a fixed window with the driver idle:
 * - refresh lateness: each scheduled run's start against its due time, from the histories of a spread
 *   sample of sellers (bench/support/history.ts); with just-in-time tokens the token is minted inside that
 *   run. For a workflow that refreshes on a timer, also the old measure: mint time in OTTO's request log
 *   against the planned `nextRefreshAt`;
 * - installation-token mints per seller-hour, counted in OTTO's (the emulator's) request log over the
 *   window and scaled back to real time; requests made with an expired token; the token endpoint's
 *   busiest wall-clock second (at ×k this IS the rate k times as many real sellers would cause);
 * - history events per seller-day (every seller's history length before and after, across
 *   continue-as-new, scaled to 24 real hours); workflow actions/s;
 * - the worker's CPU and RSS (this process: the workers and the benchmark's driver; the API, the emulator
 *   and the Temporal server are processes of their own), per 1,000 sellers. Memory per seller two ways,
 *   both read after full GCs of this process's main thread once the window is over (every seller cached
 *   and settled): RSS above the idle workers (the workers' fixed cost left out: the marginal cost of a
 *   cached seller) and RSS growth since before the workers were created, divided by the sellers (fixed
 *   cost included, as the issue's "before" of ≈ 1.9 MB per seller was measured).
 * Also snapshots the schedule so the floor replays the same load.
 */
import { TRANSFER_KINDS } from '../workflows/definitions';
import type { BenchContext } from './support/context';
import { fmt, goalRow, type GoalRow } from './support/goals';
import {
  eventsBetween,
  historyMarks,
  OTTO_TOKEN_CAP_PER_SECOND,
  TOKEN_ACTIVITIES_PER_SECOND,
} from './support/harness';
import { startCpuProfile } from './support/cpu-profile';
import { sampleHistories, spreadSample } from './support/history';
import { isTokenCall, mintedInstallation, perSecond, requestsSince } from './support/otto-log';
import {
  log,
  heapSnapshot,
  memoryBreakdown,
  mapLimit,
  MB,
  mean,
  ownCpuMs,
  threadCpuMs,
  threadCpuBetween,
  percentile,
  printTable,
  processCpuMs,
  round,
  settledRss,
  sleep,
  writeResult,
} from './support/report';
import { describeThreadHeaps } from './support/thread-heaps';

const DAY_S = 86_400;

/** The status fields this benchmark reads, tolerant of a status view without a refresh plan. */
interface StatusLike {
  token?: { nextRefreshAt?: string | null; expiresAt?: string | null } | null;
  transfers: Partial<
    Record<string, { intervalMs: number | null; lastResult: string | null; nextDueAt: string | null }>
  >;
}

export async function runSteadyState(ctx: BenchContext): Promise<void> {
  const { fleetSellers, settleMs, windowMs, tokenTtlSeconds: ttlS } = ctx.params;
  const label = ctx.params.mode === 'scale' ? 'scale' : 'steady';
  const k = ctx.timeScale;
  if (label === 'scale') {
    const eq = fleetSellers * k;
    log(
      `scale: ${fmt(fleetSellers)} sellers at time ×${round(k, 2)} (token ${ttlS} s instead of 1,800 s, every interval ÷ ${round(k, 2)}) ` +
        `= the timers, activities and token-endpoint traffic of ${eq.toLocaleString('en-US')} real sellers: OTTO allows ` +
        `${OTTO_TOKEN_CAP_PER_SECOND} token requests/s per egress IP, and at ×${round(k, 2)} the wall-clock rate of ${fmt(fleetSellers)} ` +
        `sellers is the real rate of ${eq.toLocaleString('en-US')} (${eq.toLocaleString('en-US')} × 2.1 mints/h ÷ 3,600 = ` +
        `${round((eq * 2.1) / 3600, 2)}/s). Window ${windowMs / 1000} s wall clock = ${round((windowMs * k) / 60_000, 1)} minutes of real time.`,
    );
  }
  const fleet = await ctx.ensureSellers(fleetSellers);
  const n = fleet.sellers.length;
  const marginMs = fleet.settings.tokenRefreshMarginMs!;
  const ttlMs = ttlS * 1000;
  const mintPeriodMs = ttlMs - marginMs;
  // Each seller's first token cycle (and the mint phase spread's one early mint in it) ends before the
  // window: two of the shortest interval after the last connection; then the token queue's backlog.
  const intervals = Object.values(fleet.settings.transferIntervalsMs ?? {}).filter(
    (v): v is number => typeof v === 'number' && v > 0,
  );
  const settle = Math.max(settleMs, 2 * Math.min(...intervals) + 10_000);
  log(`${label}: ${n} active sellers, time ×${round(k, 2)}; settling ${round(settle / 1000)} s …`);
  await sleep(settle);
  const drained = await fleet.waitForTokenBacklog(0, 120_000);
  if (drained > 0) log(`${label}: waited ${round(drained / 1000, 1)} s more for the token queue's backlog`);

  const queryStart = Date.now();
  const statuses = (await mapLimit(fleet.sellers, 16, (s) => fleet.status(s.sellerId))) as StatusLike[];
  const ids = fleet.sellers.map((s) => s.workflowId);
  const before = await historyMarks(fleet.env.client, ids);
  const pids = fleet.cpuPids();

  memoryBreakdown(`${n} sellers at the window's start`);
  log(
    `memory (${n} sellers at the window's start): ${describeThreadHeaps(await fleet.workflowThreadHeaps())}`,
  );
  log(`${label}: measuring for ${windowMs / 1000} s …`);
  const profiler = await startCpuProfile(label);
  const t0 = Date.now();
  const threads0 = threadCpuMs();
  const cpu0 = {
    worker: ownCpuMs(),
    server: processCpuMs(pids.temporal),
    emulator: processCpuMs(pids.emulator),
  };
  const counts0 = { ...fleet.counts };
  const rss0 = process.memoryUsage().rss;
  let rssPeak = rss0;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 1_000);
  await sleep(windowMs);
  clearInterval(rssTimer);
  const t1 = Date.now();
  const threads1 = threadCpuMs();
  const cpu1 = {
    worker: ownCpuMs(),
    server: processCpuMs(pids.temporal),
    emulator: processCpuMs(pids.emulator),
  };
  const counts1 = { ...fleet.counts };
  const profileFile = await profiler.stop();
  if (profileFile) log(`${label}: CPU profile ${profileFile}`);
  const mem = settledRss();
  const threadHeaps = await fleet.workflowThreadHeaps();
  log(`memory (${n} sellers after the window): ${describeThreadHeaps(threadHeaps)}`);
  memoryBreakdown(`${n} sellers after the window`);
  // Marginal memory: growth since the first onboarding round, per seller added since then.
  const firstRound = fleet.memory.find((m) => m.sellers < n);
  const marginalPer1000 = (now: number, then: number | undefined, sellersThen: number | undefined) =>
    then === undefined || sellersThen === undefined
      ? Number.NaN
      : ((now - then) / MB / (n - sellersThen)) * 1000;
  const after = await historyMarks(fleet.env.client, ids);
  const { events, continuedAsNew } = await eventsBetween(fleet.env.client, before, after);
  // From two lifetimes before, so the first in-window mint of every seller has its predecessor.
  const requests = await requestsSince(fleet.emulator, queryStart - 2 * ttlMs - 5_000);
  const sample = spreadSample(ids, ctx.params.historySample);
  log(`${label}: reading ${sample.length} sellers' histories …`);
  const hist = await sampleHistories(fleet.env.client, sample, t0, t1);
  const tickMode = (hist.activityTypesEver.runTick ?? 0) > 0;
  // Diagnosis only (off by default): after the histories are read, as a snapshot pauses its thread for
  // seconds (runs due meanwhile would read as late, and events as more per seller-day).
  heapSnapshot('window', n);
  await fleet.workflowThreadSnapshots('steady', n);

  // The floor replays exactly this schedule: first mint and first run of each kind, from the window start.
  ctx.steady = {
    sellers: n,
    windowMs,
    timeScale: k,
    tickMode,
    mintPeriodMs,
    tokenLifetimeMs: ttlMs,
    // The workflow's tick asks for a token that lasts the refresh margin beyond the run's start.
    reserveMs: marginMs,
    schedule: statuses.map((s) => ({
      mintPhaseMs: Math.max(0, Date.parse(s.token?.nextRefreshAt ?? '') - t0 || 0),
      tokenExpiresInMs: Date.parse(s.token?.expiresAt ?? '') - t0 || 0,
      transfers: TRANSFER_KINDS.flatMap((kind) => {
        const t = s.transfers[kind];
        if (!t || t.intervalMs === null || t.lastResult === 'skipped') return [];
        const due = t.nextDueAt === null ? t0 + t.intervalMs : Date.parse(t.nextDueAt);
        return [{ intervalMs: t.intervalMs, phaseMs: Math.max(0, due - t0) }];
      }),
    })),
    activitiesPerSecond: 0,
    historyEventsPerSecond: 0,
    workerCpuPercent: 0,
    serverCpuPercent: 0,
    workerCpuMsPerActivity: 0,
    workerCpuMsPerSellerHour: 0,
    workerCpuByThreadMs: {},
    rssAboveIdleWorkersPerSellerKB: 0,
    rssGrowthPerSellerKB: 0,
    threadHeapCommittedGrowthPerSellerKB: null,
  };

  const mintsByInstallation = new Map<string, number[]>();
  for (const r of requests) {
    const inst = mintedInstallation(r);
    if (inst === undefined || r.status !== 200) continue;
    const list = mintsByInstallation.get(inst) ?? [];
    list.push(Date.parse(r.at));
    mintsByInstallation.set(inst, list);
  }
  for (const times of mintsByInstallation.values()) times.sort((a, b) => a - b);
  // Mint rate from consecutive mints of the same seller (a check on the window count below).
  const mintIntervals: number[] = [];
  for (const times of mintsByInstallation.values())
    for (let i = 1; i < times.length; i++) if (times[i]! >= t0) mintIntervals.push(times[i]! - times[i - 1]!);
  // A timer-refreshing workflow: each seller's first mint against the queried nextRefreshAt, later ones
  // against (previous mint + lifetime − margin).
  const mintLateness: number[] = [];
  if (!tickMode) {
    const planned0 = new Map(
      statuses.map((s, i) => [fleet.sellers[i]!.installationId, Date.parse(s.token?.nextRefreshAt ?? '')]),
    );
    for (const [inst, times] of mintsByInstallation) {
      let planned = planned0.get(inst);
      if (planned === undefined || Number.isNaN(planned)) continue;
      for (const at of times.filter((t) => t >= queryStart)) {
        if (at >= planned - 5_000 && planned >= t0 && planned < t1) mintLateness.push(at - planned);
        planned = at + mintPeriodMs;
      }
    }
  }

  const inWindow = requests.filter((r) => {
    const at = Date.parse(r.at);
    return at >= t0 && at < t1;
  });
  const mintsInWindow = inWindow.filter(
    (r) => mintedInstallation(r) !== undefined && r.status === 200,
  ).length;
  const tokenCalls = inWindow.filter(isTokenCall);
  const peakTokenPerSecond = Math.max(0, ...perSecond(tokenCalls).values());
  const windowS = (t1 - t0) / 1000;
  const windowH = windowS / 3600;
  const realDays = (windowS * k) / DAY_S;
  const activities = counts1.mints - counts0.mints + (counts1.transfers - counts0.transfers);
  const workerCpuMs = cpu1.worker - cpu0.worker;
  const workerCpuByThreadMs = threadCpuBetween(threads0, threads1);
  const serverCpuMs = cpu1.server - cpu0.server;
  const emulatorCpuMs = cpu1.emulator - cpu0.emulator;
  const pct = (ms: number) => (ms / (t1 - t0)) * 100;
  const marginRealMin = (marginMs * k) / 60_000;
  // A 30-minute token minted at a 15-minute tick serves that tick, the next and (token reuse: started a
  // little early) the one after: 4/3 per hour is the least with runs every 15 minutes (2 if every tick
  // waited for its due time); a timer refreshing `margin` early needs 60 / (30 − margin).
  const minimumPerHour = tickMode ? 4 / 3 : 60 / (30 - marginRealMin);
  const meanMintIntervalMs = mean(mintIntervals);
  const intervalMintsPerSellerHourReal = 3_600_000 / (meanMintIntervalMs * k);
  const windowMintsPerSellerHourReal = mintsInWindow / n / windowH / k;
  // The count in the window is exact whatever the sellers' phases once the window spans a seller's mint
  // cycle — a token lifetime, or one and a half with token reuse (a mint every third tick) — since every
  // seller mints once per cycle and runs recur on fixed intervals. A shorter window samples phases
  // (sellers connected together mint together), so then the mean time between a seller's consecutive
  // mints decides (intervals ending in the window, their start before it).
  const mintCycleMs = tickMode ? ttlMs * 1.5 : ttlMs;
  const windowSpansLifetime = t1 - t0 >= mintCycleMs * 0.98;
  const mintsMethod = windowSpansLifetime
    ? 'counted in the window'
    : mintIntervals.length > 0
      ? 'from consecutive mints'
      : 'not measurable (window < mint cycle, no seller minted twice)';
  const mintsPerSellerHourReal =
    mintsMethod === 'counted in the window'
      ? windowMintsPerSellerHourReal
      : mintsMethod === 'from consecutive mints'
        ? intervalMintsPerSellerHourReal
        : Number.NaN;
  const activitiesPerSellerHourReal = activities / n / windowH / k;
  const workerCpuSecondsPerSellerHourReal = workerCpuMs / 1000 / n / windowH / k;
  const serverCpuSecondsPerSellerHourReal = serverCpuMs / 1000 / n / windowH / k;
  // No event at all in the window: nothing was due (a window shorter than the shortest interval).
  const eventsPerSellerDay = events > 0 ? events / n / realDays : Number.NaN;
  const sampleEventsPerSellerDay = hist.eventsInWindow / hist.sellers / realDays;
  const lateness = hist.lateness;
  const rssGrowthPerSellerKB = (mem.rss - fleet.rssBeforeWorkers) / 1024 / n;
  const rssAboveIdlePerSellerKB = (mem.rss - fleet.rssWorkersIdle) / 1024 / n;
  const onboarding = ctx.onboarding;

  const result = {
    label,
    sellers: n,
    timeScale: k,
    realSellersEquivalent: n * k,
    tokenTtlSeconds: ttlS,
    refreshMarginMs: marginMs,
    transferIntervalsMs: fleet.settings.transferIntervalsMs,
    tickMode,
    windowSeconds: round(windowS, 1),
    realMinutesInWindow: round((windowS * k) / 60, 1),
    historyEvents: events,
    historyEventsPerSecond: round(events / windowS, 1),
    historyEventsPerSellerDay: round(eventsPerSellerDay, 0),
    continuedAsNew,
    activityCompletions: activities,
    activitiesPerSecond: round(activities / windowS, 2),
    tokenMints: counts1.mints - counts0.mints,
    transfers: counts1.transfers - counts0.transfers,
    refreshLatenessMs: {
      measure: 'scheduled run start (first activity after the timer) − timer due time, sampled histories',
      samples: lateness.length,
      p50: percentile(lateness, 50),
      p99: percentile(lateness, 99),
      max: percentile(lateness, 100),
      timerFireDelayP99: percentile(hist.fireDelay, 99),
      mintVsPlanned: mintLateness.length
        ? {
            samples: mintLateness.length,
            p50: percentile(mintLateness, 50),
            p99: percentile(mintLateness, 99),
            max: percentile(mintLateness, 100),
          }
        : null,
    },
    historySample: {
      sellers: hist.sellers,
      timersFired: hist.timersFired,
      timersCancelled: hist.timersCancelled,
      workflowTasks: hist.workflowTasks,
      activityTypes: hist.activityTypes,
      eventsPerSellerDay: round(sampleEventsPerSellerDay, 0),
    },
    mintsInWindow,
    mintsPerSellerHourReal: round(mintsPerSellerHourReal, 3),
    mintsMethod,
    windowMintsPerSellerHourReal: round(windowMintsPerSellerHourReal, 3),
    mintIntervals: mintIntervals.length,
    meanMintIntervalMs: round(meanMintIntervalMs, 0),
    intervalMintsPerSellerHourReal: round(intervalMintsPerSellerHourReal, 3),
    minimumMintsPerSellerHour: round(minimumPerHour, 3),
    requestsWithExpiredToken: inWindow.filter((r) => r.token === 'expired').length,
    tokenEndpoint: {
      requestsInWindow: tokenCalls.length,
      meanPerSecond: round(tokenCalls.length / windowS, 2),
      peakPerSecond: peakTokenPerSecond,
      answered429: tokenCalls.filter((r) => r.status === 429).length,
      failedMints: tokenCalls.filter((r) => mintedInstallation(r) !== undefined && r.status !== 200).length,
      capPerSecond: OTTO_TOKEN_CAP_PER_SECOND,
      tokenQueuePerSecond: TOKEN_ACTIVITIES_PER_SECOND,
    },
    onboarding,
    cpu: {
      workerPercentOfCore: round(pct(workerCpuMs), 1),
      serverPercentOfCore: round(pct(serverCpuMs), 1),
      emulatorPercentOfCore: round(pct(emulatorCpuMs), 1),
      workerPercentPer1000Sellers: round((pct(workerCpuMs) / n) * 1000, 1),
      workerPercentPer1000SellersRealTime: round(((pct(workerCpuMs) / n) * 1000) / k, 2),
      serverPercentPer1000SellersRealTime: round(((pct(serverCpuMs) / n) * 1000) / k, 2),
      workerCpuMsPerActivity: round(workerCpuMs / activities, 2),
      workerCpuMsPerHistoryEvent: round(workerCpuMs / events, 3),
      workerByThreadMs: Object.fromEntries(
        Object.entries(workerCpuByThreadMs).map(([g, ms]) => [g, round(ms, 0)]),
      ),
    },
    perSellerHourReal: {
      activities: round(activitiesPerSellerHourReal, 2),
      workerCpuSeconds: round(workerCpuSecondsPerSellerHourReal, 4),
      serverCpuSeconds: round(serverCpuSecondsPerSellerHourReal, 4),
    },
    memory: {
      rssMB: round(mem.rss / MB, 0),
      rssPeakInWindowMB: round(rssPeak / MB, 0),
      rssBeforeWorkersMB: round(fleet.rssBeforeWorkers / MB, 0),
      rssWorkersIdleMB: round(fleet.rssWorkersIdle / MB, 0),
      rssGrowthPerSellerKB: round(rssGrowthPerSellerKB, 0),
      rssAboveIdleWorkersPerSellerKB: round(rssAboveIdlePerSellerKB, 0),
      rssPer1000SellersMB: round(((mem.rss - fleet.rssBeforeWorkers) / MB / n) * 1000, 1),
      marginalRssPer1000SellersMB: round(marginalPer1000(mem.rss, firstRound?.rss, firstRound?.sellers), 1),
      marginalHeapPer1000SellersMB: round(
        marginalPer1000(mem.heapUsed, firstRound?.heapUsed, firstRound?.sellers),
        1,
      ),
      marginalFromSellers: firstRound?.sellers ?? null,
      heapUsedMB: round(mem.heapUsed / MB, 0),
      heapGrowthPerSellerKB: round((mem.heapUsed - fleet.heapBeforeWorkers) / 1024 / n, 0),
      // The workflow threads' V8 heaps (not collected by the reading: bench/support/thread-heaps.ts).
      workflowThreads:
        threadHeaps === null || fleet.threadHeapsIdle === null
          ? null
          : {
              threads: threadHeaps.threads,
              usedMB: round(threadHeaps.used / MB, 0),
              committedMB: round(threadHeaps.committed / MB, 0),
              usedGrowthPerSellerKB: round((threadHeaps.used - fleet.threadHeapsIdle.used) / 1024 / n, 0),
              committedGrowthPerSellerKB: round(
                (threadHeaps.committed - fleet.threadHeapsIdle.committed) / 1024 / n,
                0,
              ),
            },
    },
  };
  // Temporal activities (what the floor mirrors), estimated from the sample: our metrics count mints and
  // transfers, which a tick runs several of in one activity.
  const sampledActivities = Object.values(hist.activityTypes).reduce((a, b) => a + b, 0);
  const temporalActivities = hist.sellers > 0 ? (sampledActivities * n) / hist.sellers : activities;
  Object.assign(ctx.steady, {
    activitiesPerSecond: temporalActivities / windowS,
    historyEventsPerSecond: events / windowS,
    workerCpuPercent: pct(workerCpuMs),
    serverCpuPercent: pct(serverCpuMs),
    workerCpuMsPerActivity: workerCpuMs / temporalActivities,
    workerCpuMsPerSellerHour: workerCpuSecondsPerSellerHourReal * 1000,
    workerCpuByThreadMs,
    rssAboveIdleWorkersPerSellerKB: rssAboveIdlePerSellerKB,
    rssGrowthPerSellerKB,
    threadHeapCommittedGrowthPerSellerKB: result.memory.workflowThreads?.committedGrowthPerSellerKB ?? null,
  });

  const l = result.refreshLatenessMs;
  const activityMix = Object.entries(hist.activityTypes)
    .sort((a, b) => b[1] - a[1])
    .map(([name, c]) => `${name} ${c}`)
    .join(', ');
  printTable(
    `${label}: ${n} active sellers = ${(n * k).toLocaleString('en-US')} real, ${round(windowS)} s window = ${result.realMinutesInWindow} real minutes, ` +
      `time ×${round(k, 2)} (token ${ttlS} s, margin ${marginMs / 1000} s)${tickMode ? ', one activity per tick' : ''}`,
    ['metric', 'value'],
    [
      ['history events/s', result.historyEventsPerSecond],
      ['history events per seller-day (real time)', result.historyEventsPerSellerDay],
      [`  same, from ${hist.sellers} sampled histories`, result.historySample.eventsPerSellerDay],
      ['continued as new in the window', continuedAsNew],
      [
        'activity completions/s (mints + transfers, as our metrics count them)',
        `${result.activitiesPerSecond} (${result.tokenMints} + ${result.transfers})`,
      ],
      [`activities scheduled in ${hist.sellers} sampled histories`, activityMix || '–'],
      [
        'Temporal activities/s (from the sample) and worker CPU per activity (ms)',
        `${round(temporalActivities / windowS, 2)}, ${round(workerCpuMs / temporalActivities, 2)}`,
      ],
      [
        `timers fired / cancelled / workflow tasks (${hist.sellers} sampled)`,
        `${hist.timersFired} / ${hist.timersCancelled} / ${hist.workflowTasks}`,
      ],
      [
        'refresh lateness p50 / p99 / max (ms): run start vs due',
        `${l.p50} / ${l.p99} / ${l.max} (n=${lateness.length})`,
      ],
      ['  timer fire vs due, p99 (ms)', l.timerFireDelayP99],
      ...(l.mintVsPlanned
        ? [
            [
              '  refresh mint vs planned p50 / p99 / max (ms)',
              `${l.mintVsPlanned.p50} / ${l.mintVsPlanned.p99} / ${l.mintVsPlanned.max} (n=${l.mintVsPlanned.samples})`,
            ] as [string, string],
          ]
        : []),
      [`token mints per seller-hour (real 30-min tokens), ${mintsMethod}`, result.mintsPerSellerHourReal],
      [
        `  counted in the window (${mintsInWindow} mints${windowSpansLifetime ? '' : '; phase-sampled: window < mint cycle'})`,
        result.windowMintsPerSellerHourReal,
      ],
      [
        `  from a seller's consecutive mints (mean ${result.meanMintIntervalMs} ms, n=${mintIntervals.length})`,
        result.intervalMintsPerSellerHourReal,
      ],
      [
        tickMode
          ? 'minimum: a 30-min token covers at most 30 min of runs'
          : `minimum 60/(30−${round(marginRealMin, 1)}) per hour`,
        result.minimumMintsPerSellerHour,
      ],
      ['requests with an expired token', result.requestsWithExpiredToken],
      [
        'token endpoint: requests/s mean / peak in any second (cap)',
        `${result.tokenEndpoint.meanPerSecond} / ${peakTokenPerSecond} (${OTTO_TOKEN_CAP_PER_SECOND})`,
      ],
      [
        'token endpoint: 429 answers / failed mints',
        `${result.tokenEndpoint.answered429} / ${result.tokenEndpoint.failedMints}`,
      ],
      ['worker CPU (% of one core)', result.cpu.workerPercentOfCore],
      ['Temporal server CPU (% of one core)', result.cpu.serverPercentOfCore],
      ['emulator CPU (% of one core)', result.cpu.emulatorPercentOfCore],
      [`worker CPU per 1,000 sellers (% core, at ×${round(k, 2)})`, result.cpu.workerPercentPer1000Sellers],
      ['worker CPU per 1,000 sellers (% core, real time)', result.cpu.workerPercentPer1000SellersRealTime],
      ['server CPU per 1,000 sellers (% core, real time)', result.cpu.serverPercentPer1000SellersRealTime],
      ['worker CPU per activity (ms)', result.cpu.workerCpuMsPerActivity],
      [
        'worker RSS (MB, after GC) / peak in window / before workers / workers idle',
        `${result.memory.rssMB} / ${result.memory.rssPeakInWindowMB} / ${result.memory.rssBeforeWorkersMB} / ${result.memory.rssWorkersIdleMB}`,
      ],
      [
        'worker RSS above the idle workers, per cached seller (KB)',
        result.memory.rssAboveIdleWorkersPerSellerKB,
      ],
      ['worker RSS growth since before workers, per seller (KB)', result.memory.rssGrowthPerSellerKB],
      [
        'main-thread heap after GC (MB) / growth since before workers, per seller (KB): driver + SDK main thread',
        `${result.memory.heapUsedMB} / ${result.memory.heapGrowthPerSellerKB}`,
      ],
      [
        "workflow threads' heap used / committed (MB) / growth since the idle workers, per seller (KB): not collected by the reading",
        result.memory.workflowThreads === null
          ? 'n/a (none in this process)'
          : `${result.memory.workflowThreads.usedMB} / ${result.memory.workflowThreads.committedMB} / ${result.memory.workflowThreads.usedGrowthPerSellerKB} / ${result.memory.workflowThreads.committedGrowthPerSellerKB}`,
      ],
      [
        `marginal RSS / heap per 1,000 sellers (MB, ${result.memory.marginalFromSellers ?? '?'}→${n} sellers)`,
        `${fmt(result.memory.marginalRssPer1000SellersMB, 1)} / ${fmt(result.memory.marginalHeapPer1000SellersMB, 1)}`,
      ],
    ],
  );

  const rows: GoalRow[] = [
    goalRow(label, 'mintsPerSellerHour', mintsPerSellerHourReal, {
      result:
        mintsMethod === 'counted in the window'
          ? `${fmt(mintsPerSellerHourReal, 2)} /h (${fmt(mintsInWindow)} mints in ${fmt(n * windowH * k, 1)} seller-hours)`
          : mintsMethod === 'from consecutive mints'
            ? `${fmt(mintsPerSellerHourReal, 2)} /h (mean of ${fmt(mintIntervals.length)} intervals between a seller's mints)`
            : `n/a: ${mintsMethod}`,
      floor: `${round(minimumPerHour, 2)} /h (minimum)`,
    }),
    goalRow(label, 'expiredTokenRequests', result.requestsWithExpiredToken),
    goalRow(label, 'historyEventsPerSellerDay', eventsPerSellerDay, { digits: 0 }),
    goalRow(label, 'latenessP99Ms', l.p99, {
      result: `${fmt(l.p99)} ms (p50 ${fmt(l.p50)}, max ${fmt(l.max)}, n=${fmt(lateness.length)})`,
    }),
    goalRow(label, 'memoryPerWorkflowKB', rssAboveIdlePerSellerKB, {
      result:
        `${fmt(rssAboveIdlePerSellerKB)} KB RSS (worker process above its idle workers / ${fmt(n)} cached sellers)` +
        // The slope, when the fleet grew in rounds: what one more cached seller adds, without the costs
        // that come with load rather than with sellers (young generations filled, compiled code).
        (Number.isFinite(result.memory.marginalRssPer1000SellersMB)
          ? `; ${fmt(result.memory.marginalRssPer1000SellersMB, 0)} KB per seller added from ${fmt(firstRound?.sellers ?? 0)} to ${fmt(n)}`
          : ''),
      digits: 0,
    }),
    goalRow(label, 'memoryGrowthPerSellerKB', rssGrowthPerSellerKB, {
      result: `${fmt(rssGrowthPerSellerKB)} KB RSS (worker process growth since before the workers / ${fmt(n)} sellers)`,
      digits: 0,
    }),
    goalRow(label, 'tokenPeakPerSecond', peakTokenPerSecond, {
      result: `${peakTokenPerSecond} /s (window; mean ${result.tokenEndpoint.meanPerSecond})`,
    }),
    goalRow(label, 'tokenEndpoint429s', result.tokenEndpoint.answered429),
  ];
  if (label === 'scale')
    rows.unshift(
      goalRow(label, 'sellersEquivalent', n * k, {
        result: `${fmt(n * k)} (${fmt(n)} sellers × ${fmt(k, 2)})`,
        digits: 0,
      }),
    );
  for (const o of onboarding)
    rows.push(
      goalRow(`${label}: onboarding`, 'tokenPeakPerSecond', o.peakTokenRequestsPerSecond, {
        result: `${o.peakTokenRequestsPerSecond} /s (onboarding ${o.sellers} in ${o.seconds} s)`,
      }),
      goalRow(`${label}: onboarding`, 'tokenEndpoint429s', o.token429s),
    );
  ctx.record(label, rows);
  ctx.summary[label] = { ...result, goals: rows };
  log(`wrote ${writeResult(label, { params: ctx.params, ...result, goals: rows })}`);
}
