/**
 * idle sellers: token mints per seller-hour of a PAUSED seller (no transfers; only the revocation probe
 * needs a token) and of an HOURLY-ONLY seller (every transfer hourly or rarer). Their own small fleet on
 * the same Temporal server, at a faster clock (token lifetime `idleTokenTtlSeconds`, every interval ÷
 * 1800 / that), so a window of several accelerated hours fits into a couple of minutes. Both cohorts are
 * measured over a whole number of accelerated hours after one hour of settling (the pause's transition
 * and the connection-time transfers behind them): a seller that mints once an hour mints exactly that
 * many times in the window whatever its phase, so the count is exact, not phase-sampled.
 */
import type { BenchContext } from './support/context';
import { goalRow } from './support/goals';
import { Fleet } from './support/harness';
import { mintedInstallation, requestsSince } from './support/otto-log';
import { log, mapLimit, printTable, round, sleep, writeResult } from './support/report';

const HOUR_MS = 3_600_000;

export async function runIdle(ctx: BenchContext): Promise<void> {
  const { idleSellers: m, idleTokenTtlSeconds: ttlS, idleHours: hours } = ctx.params;
  const k = 1800 / ttlS;
  const hourMs = HOUR_MS / k;
  const fleet = await Fleet.start(ctx.env, {
    tokenTtlSeconds: ttlS,
    // Hourly-only: orders and stock (15 min by default) hourly too; the others are hourly or daily already.
    intervals: { ordersImport: HOUR_MS, stockExport: HOUR_MS },
  });
  try {
    log(
      `idle: connecting ${2 * m} sellers (time ×${round(k, 1)}, an hour is ${round(hourMs / 1000, 1)} s) …`,
    );
    const samples = await fleet.onboard(2 * m, Math.min(2 * m, 10));
    const failed = samples.filter((s) => !s.ok);
    if (failed.length > 0) throw new Error(`${failed.length} sellers not connected: ${failed[0]!.error}`);
    const paused = fleet.sellers.slice(0, m);
    const hourly = fleet.sellers.slice(m);
    await mapLimit(paused, 8, (s) => fleet.pause(s.sellerId));
    log(`idle: ${m} paused, ${m} hourly-only; settling one accelerated hour …`);
    await sleep(hourMs);
    const t0 = Date.now();
    log(`idle: measuring ${hours} accelerated hours (${round((hours * hourMs) / 1000)} s) …`);
    await sleep(hours * hourMs);
    const t1 = Date.now();
    const states = await mapLimit(fleet.sellers, 8, async (s) => (await fleet.status(s.sellerId)).state);
    const requests = (await requestsSince(fleet.emulator, t0)).filter((r) => Date.parse(r.at) < t1);
    const realHours = ((t1 - t0) * k) / HOUR_MS;
    const cohort = (sellers: typeof paused) => {
      const installations = new Set(sellers.map((s) => s.installationId));
      const mints = requests.filter((r) => {
        const inst = mintedInstallation(r);
        return inst !== undefined && r.status === 200 && installations.has(inst);
      }).length;
      const dataRequests = requests.filter(
        (r) =>
          r.installationId !== undefined && installations.has(r.installationId) && !mintedInstallation(r),
      );
      return {
        sellers: sellers.length,
        mints,
        mintsPerSellerHour: mints / sellers.length / realHours,
        dataRequests: dataRequests.length,
        expiredTokenRequests: dataRequests.filter((r) => r.token === 'expired').length,
      };
    };
    const p = cohort(paused);
    const h = cohort(hourly);
    const pausedStates = states.slice(0, m).filter((s) => s === 'paused').length;
    const result = {
      timeScale: k,
      tokenTtlSeconds: ttlS,
      windowSeconds: round((t1 - t0) / 1000, 1),
      realHours: round(realHours, 2),
      paused: { ...p, stillPaused: pausedStates },
      hourlyOnly: { ...h, transferIntervalsMs: fleet.settings.transferIntervalsMs },
    };
    printTable(
      `idle sellers: ${m} paused + ${m} hourly-only, ${round(realHours, 2)} accelerated hours (time ×${round(k, 1)})`,
      ['cohort', 'mints', 'mints per seller-hour', 'data requests', 'with an expired token'],
      [
        [
          `paused (${pausedStates} of ${m} still paused)`,
          p.mints,
          round(p.mintsPerSellerHour, 2),
          p.dataRequests,
          p.expiredTokenRequests,
        ],
        ['hourly-only', h.mints, round(h.mintsPerSellerHour, 2), h.dataRequests, h.expiredTokenRequests],
      ],
    );
    if (p.mintsPerSellerHour < 0.9)
      log(
        `idle: paused sellers minted ${round(p.mintsPerSellerHour, 2)} times per hour: no hourly revocation probe seen ` +
          '(a paused seller would not notice a revocation within the hour)',
      );
    const rows = [
      goalRow('idle', 'pausedMintsPerSellerHour', p.mintsPerSellerHour, {
        result: `${round(p.mintsPerSellerHour, 2)} /h (${p.mints} mints, ${m} sellers × ${round(realHours, 2)} h)`,
        floor: '1 /h (one probe an hour)',
      }),
      goalRow('idle', 'hourlyMintsPerSellerHour', h.mintsPerSellerHour, {
        result: `${round(h.mintsPerSellerHour, 2)} /h (${h.mints} mints, ${m} sellers × ${round(realHours, 2)} h)`,
        floor: '1 /h (one run an hour)',
      }),
      goalRow('idle', 'expiredTokenRequests', p.expiredTokenRequests + h.expiredTokenRequests),
    ];
    ctx.record('idle', rows);
    ctx.summary.idle = { ...result, goals: rows };
    log(`wrote ${writeResult('idle', { params: ctx.params, ...result, goals: rows })}`);
  } finally {
    await fleet.close();
  }
}
