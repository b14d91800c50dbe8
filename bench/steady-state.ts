/**
 * steady state: the fleet's sellers all `active`, time accelerated by k = 1800 / tokenTtlSeconds (token
 * lifetime, refresh margin and every transfer interval divided by k), measured over a fixed window with
 * the driver idle: workflow actions/s (history events and activity completions), refresh lateness
 * (mint time in OTTO's request log vs the planned `nextRefreshAt`), installation-token mints per
 * seller-hour scaled back to real 30-minute tokens against the minimum 60 / (30 − margin), and the
 * worker's CPU and RSS per 1,000 sellers. Also snapshots the schedule so the floor replays the same load.
 */
import { TRANSFER_KINDS } from '../workflows/definitions';
import type { BenchContext } from './support/context';
import { eventsBetween, historyMarks } from './support/harness';
import { mintedInstallation, requestsSince } from './support/otto-log';
import {
  log,
  mapLimit,
  MB,
  mean,
  ownCpuMs,
  percentile,
  printTable,
  processCpuMs,
  round,
  sleep,
  writeResult,
} from './support/report';

export async function runSteadyState(ctx: BenchContext): Promise<void> {
  const { fleetSellers, settleMs, windowMs, tokenTtlSeconds: ttlS } = ctx.params;
  const fleet = await ctx.ensureSellers(fleetSellers);
  const n = fleet.sellers.length;
  const k = 1800 / ttlS;
  const marginMs = fleet.settings.tokenRefreshMarginMs!;
  const mintPeriodMs = ttlS * 1000 - marginMs;
  log(`steady: ${n} active sellers, time ×${round(k, 2)}; settling ${settleMs / 1000} s …`);
  await sleep(settleMs);

  const queryStart = Date.now();
  const statuses = await mapLimit(fleet.sellers, 16, (s) => fleet.status(s.sellerId));
  const before = await historyMarks(
    fleet.env.client,
    fleet.sellers.map((s) => s.workflowId),
  );
  const pids = fleet.cpuPids();

  log(`steady: measuring for ${windowMs / 1000} s …`);
  const t0 = Date.now();
  const cpu0 = {
    worker: ownCpuMs(),
    server: processCpuMs(pids.temporal),
    emulator: processCpuMs(pids.emulator),
  };
  const counts0 = { ...fleet.counts };
  await sleep(windowMs);
  const t1 = Date.now();
  const cpu1 = {
    worker: ownCpuMs(),
    server: processCpuMs(pids.temporal),
    emulator: processCpuMs(pids.emulator),
  };
  const counts1 = { ...fleet.counts };
  const mem = process.memoryUsage();
  // Marginal memory: growth since the first onboarding round, per seller added since then.
  const firstRound = fleet.memory.find((m) => m.sellers < n);
  const marginalPer1000 = (now: number, then: number | undefined, sellersThen: number | undefined) =>
    then === undefined || sellersThen === undefined
      ? Number.NaN
      : ((now - then) / MB / (n - sellersThen)) * 1000;
  const after = await historyMarks(
    fleet.env.client,
    fleet.sellers.map((s) => s.workflowId),
  );
  const { events, continuedAsNew } = await eventsBetween(fleet.env.client, before, after);
  // From one period before, so the first in-window mint of every seller has its predecessor.
  const requests = await requestsSince(fleet.emulator, queryStart - mintPeriodMs - 5_000);

  // The floor replays exactly this schedule: first mint and first run of each kind, from the window start.
  ctx.steady = {
    sellers: n,
    windowMs,
    mintPeriodMs,
    schedule: statuses.map((s) => ({
      mintPhaseMs: Math.max(0, Date.parse(s.token.nextRefreshAt ?? '') - t0 || 0),
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
  };

  // Refresh lateness: each seller's first mint against the queried nextRefreshAt, later ones against
  // (previous mint + lifetime − margin) — the workflow counts expiry from just before its request.
  const planned0 = new Map(
    statuses.map((s, i) => [fleet.sellers[i]!.installationId, Date.parse(s.token.nextRefreshAt ?? '')]),
  );
  const mintsByInstallation = new Map<string, number[]>();
  for (const r of requests) {
    const inst = mintedInstallation(r);
    if (inst === undefined || r.status !== 200) continue;
    const list = mintsByInstallation.get(inst) ?? [];
    list.push(Date.parse(r.at));
    mintsByInstallation.set(inst, list);
  }
  for (const times of mintsByInstallation.values()) times.sort((a, b) => a - b);
  // Mint rate from consecutive mints of the same seller (whole periods, not a window's sample of phases).
  const mintIntervals: number[] = [];
  for (const times of mintsByInstallation.values())
    for (let i = 1; i < times.length; i++) if (times[i]! >= t0) mintIntervals.push(times[i]! - times[i - 1]!);
  const lateness: number[] = [];
  let early = 0;
  for (const [inst, times] of mintsByInstallation) {
    let planned = planned0.get(inst);
    if (planned === undefined) continue;
    for (const at of times.filter((t) => t >= queryStart)) {
      if (at < planned - 5_000) early++;
      else if (planned >= t0 && planned < t1) lateness.push(at - planned);
      planned = at + mintPeriodMs;
    }
  }

  const inWindow = requests.filter((r) => {
    const at = Date.parse(r.at);
    return at >= t0 && at < t1;
  });
  const mintsInWindow = inWindow.filter(
    (r) => mintedInstallation(r) !== undefined && r.status === 200,
  ).length;
  const windowS = (t1 - t0) / 1000;
  const windowH = windowS / 3600;
  const activities = counts1.mints - counts0.mints + (counts1.transfers - counts0.transfers);
  const workerCpuMs = cpu1.worker - cpu0.worker;
  const serverCpuMs = cpu1.server - cpu0.server;
  const emulatorCpuMs = cpu1.emulator - cpu0.emulator;
  const pct = (ms: number) => (ms / (t1 - t0)) * 100;
  const marginRealMin = (marginMs * k) / 60_000;
  const minimumPerHour = 60 / (30 - marginRealMin);
  const meanMintIntervalMs = mean(mintIntervals);
  // One mint per mean interval, in real time (intervals are k times shorter here).
  const mintsPerSellerHourReal = 3_600_000 / (meanMintIntervalMs * k);
  const windowMintsPerSellerHourReal = mintsInWindow / n / windowH / k;
  const activitiesPerSellerHourReal = activities / n / windowH / k;
  const workerCpuSecondsPerSellerHourReal = workerCpuMs / 1000 / n / windowH / k;
  const serverCpuSecondsPerSellerHourReal = serverCpuMs / 1000 / n / windowH / k;

  const result = {
    sellers: n,
    timeScale: k,
    tokenTtlSeconds: ttlS,
    refreshMarginMs: marginMs,
    transferIntervalsMs: fleet.settings.transferIntervalsMs,
    windowSeconds: round(windowS, 1),
    historyEvents: events,
    historyEventsPerSecond: round(events / windowS, 1),
    continuedAsNew,
    activityCompletions: activities,
    activitiesPerSecond: round(activities / windowS, 2),
    tokenMints: counts1.mints - counts0.mints,
    transfers: counts1.transfers - counts0.transfers,
    refreshLatenessMs: {
      samples: lateness.length,
      p50: percentile(lateness, 50),
      p99: percentile(lateness, 99),
      max: percentile(lateness, 100),
      earlyMints: early,
    },
    mintsInWindow,
    mintIntervals: mintIntervals.length,
    meanMintIntervalMs: round(meanMintIntervalMs, 0),
    mintsPerSellerHourReal: round(mintsPerSellerHourReal, 3),
    windowMintsPerSellerHourReal: round(windowMintsPerSellerHourReal, 3),
    minimumMintsPerSellerHour: round(minimumPerHour, 3),
    mintsVsMinimum: round(mintsPerSellerHourReal / minimumPerHour, 3),
    requestsWithExpiredToken: inWindow.filter((r) => r.token === 'expired').length,
    failedTokenRequests: inWindow.filter((r) => mintedInstallation(r) !== undefined && r.status !== 200)
      .length,
    cpu: {
      workerPercentOfCore: round(pct(workerCpuMs), 1),
      serverPercentOfCore: round(pct(serverCpuMs), 1),
      emulatorPercentOfCore: round(pct(emulatorCpuMs), 1),
      workerPercentPer1000Sellers: round((pct(workerCpuMs) / n) * 1000, 1),
      workerPercentPer1000SellersRealTime: round(((pct(workerCpuMs) / n) * 1000) / k, 2),
      serverPercentPer1000SellersRealTime: round(((pct(serverCpuMs) / n) * 1000) / k, 2),
      workerCpuMsPerActivity: round(workerCpuMs / activities, 2),
      workerCpuMsPerHistoryEvent: round(workerCpuMs / events, 3),
    },
    perSellerHourReal: {
      activities: round(activitiesPerSellerHourReal, 2),
      workerCpuSeconds: round(workerCpuSecondsPerSellerHourReal, 4),
      serverCpuSeconds: round(serverCpuSecondsPerSellerHourReal, 4),
    },
    memory: {
      rssMB: round(mem.rss / MB, 0),
      rssBeforeWorkersMB: round(fleet.rssBeforeWorkers / MB, 0),
      rssPer1000SellersMB: round(((mem.rss - fleet.rssBeforeWorkers) / MB / n) * 1000, 1),
      marginalRssPer1000SellersMB: round(marginalPer1000(mem.rss, firstRound?.rss, firstRound?.sellers), 1),
      marginalHeapPer1000SellersMB: round(
        marginalPer1000(mem.heapUsed, firstRound?.heapUsed, firstRound?.sellers),
        1,
      ),
      marginalFromSellers: firstRound?.sellers ?? null,
      heapUsedMB: round(mem.heapUsed / MB, 0),
    },
  };
  Object.assign(ctx.steady, {
    activitiesPerSecond: activities / windowS,
    historyEventsPerSecond: events / windowS,
    workerCpuPercent: pct(workerCpuMs),
    serverCpuPercent: pct(serverCpuMs),
    workerCpuMsPerActivity: workerCpuMs / activities,
  });

  printTable(
    `steady state: ${n} active sellers, ${round(windowS)} s window, time ×${round(k, 2)} (token ${ttlS} s, margin ${marginMs / 1000} s)`,
    ['metric', 'value'],
    [
      ['history events/s', result.historyEventsPerSecond],
      [
        'activity completions/s (mints + transfers)',
        `${result.activitiesPerSecond} (${result.tokenMints} + ${result.transfers})`,
      ],
      [
        'refresh lateness p50 / p99 / max (ms)',
        `${result.refreshLatenessMs.p50} / ${result.refreshLatenessMs.p99} / ${result.refreshLatenessMs.max} (n=${lateness.length})`,
      ],
      [
        `mean time between a seller's mints (ms, n=${mintIntervals.length}; planned ${mintPeriodMs})`,
        result.meanMintIntervalMs,
      ],
      ['token mints per seller-hour (real 30-min tokens)', result.mintsPerSellerHourReal],
      ['  same, counted in the window (phase-sampled)', result.windowMintsPerSellerHourReal],
      [`minimum 60/(30−${round(marginRealMin, 1)}) per hour`, result.minimumMintsPerSellerHour],
      ['mints / minimum', result.mintsVsMinimum],
      ['requests with an expired token', result.requestsWithExpiredToken],
      ['worker CPU (% of one core)', result.cpu.workerPercentOfCore],
      ['Temporal server CPU (% of one core)', result.cpu.serverPercentOfCore],
      ['emulator CPU (% of one core)', result.cpu.emulatorPercentOfCore],
      [`worker CPU per 1,000 sellers (% core, at ×${round(k, 2)})`, result.cpu.workerPercentPer1000Sellers],
      ['worker CPU per 1,000 sellers (% core, real time)', result.cpu.workerPercentPer1000SellersRealTime],
      ['server CPU per 1,000 sellers (% core, real time)', result.cpu.serverPercentPer1000SellersRealTime],
      ['worker CPU per activity (ms)', result.cpu.workerCpuMsPerActivity],
      ['worker RSS (MB) / before workers', `${result.memory.rssMB} / ${result.memory.rssBeforeWorkersMB}`],
      ['worker RSS growth since before workers, per 1,000 sellers (MB)', result.memory.rssPer1000SellersMB],
      [
        `marginal RSS / heap per 1,000 sellers (MB, ${result.memory.marginalFromSellers ?? '?'}→${n} sellers)`,
        `${result.memory.marginalRssPer1000SellersMB} / ${result.memory.marginalHeapPer1000SellersMB}`,
      ],
    ],
  );
  ctx.summary.steady = result;
  log(`wrote ${writeResult('steady', { params: ctx.params, ...result })}`);
}
