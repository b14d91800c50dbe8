/**
 * lifecycle: N sellers from "Allow access" to `active`, through the real API, OTTO's (emulated) consent
 * and our /oauth/callback, at most `onboardConcurrency` at a time (the throughput: onboarding needs two
 * token-endpoint requests per seller — code exchange, first installation token — so OTTO's 10/s cap
 * bounds it at 5 sellers/s). Then the two latency goals: `burstConsents` consents started at the same
 * moment (callback → active p50/p99), and `singleConsents` consents one after another, each alone.
 */
import type { BenchContext } from './support/context';
import { fmt, goalRow } from './support/goals';
import { sellerWorkflowId } from '../workflows/definitions';
import {
  OTTO_TOKEN_CAP_PER_SECOND,
  type Fleet,
  TOKEN_EXCHANGE_HEADROOM,
  TOKEN_REQUESTS_PER_SECOND,
} from './support/harness';
import { type ConsentTimeline, consentTimeline } from './support/history';
import { URGENT_WINDOW_MS } from '../activities/partner-rate-limiter';
import {
  burstFloorMs,
  isTokenCall,
  perSecond,
  requestsSince,
  untilTokenEndpointQuiet,
} from './support/otto-log';
import { log, percentile, printTable, round, sleep, writeResult } from './support/report';

async function burst(fleet: Fleet, count: number) {
  const samples = await fleet.onboard(count, count);
  const ok = samples.filter((s) => s.ok);
  const lat = ok.map((s) => s.activeAt - s.callbackAt);
  return {
    consents: count,
    active: ok.length,
    firstError: samples.find((s) => !s.ok)?.error ?? null,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: percentile(lat, 100),
  };
}

export async function runLifecycle(ctx: BenchContext): Promise<void> {
  const { lifecycleSellers: n, onboardConcurrency } = ctx.params;
  const fleet = await ctx.fleet();
  const logSince = Date.now();
  log(`lifecycle: connecting ${n} sellers, ${onboardConcurrency} at a time …`);
  const started = Date.now();
  const samples = await fleet.onboard(n, onboardConcurrency);
  const elapsedS = (Date.now() - started) / 1000;
  const ok = samples.filter((s) => s.ok);
  const callbackToActive = ok.map((s) => s.activeAt - s.callbackAt);
  const consentToActive = ok.map((s) => s.activeAt - s.consentAt);
  const requests = await requestsSince(fleet.emulator, logSince);
  const tokenCalls = requests.filter(isTokenCall);
  const result = {
    sellers: n,
    concurrency: onboardConcurrency,
    active: ok.length,
    failed: samples.length - ok.length,
    firstError: samples.find((s) => !s.ok)?.error ?? null,
    elapsedSeconds: round(elapsedS, 2),
    sellersPerSecond: round(ok.length / elapsedS, 2),
    ceilingSellersPerSecond: OTTO_TOKEN_CAP_PER_SECOND / 2,
    callbackToActiveMs: {
      p50: percentile(callbackToActive, 50),
      p99: percentile(callbackToActive, 99),
      max: percentile(callbackToActive, 100),
    },
    consentToActiveMs: { p50: percentile(consentToActive, 50), p99: percentile(consentToActive, 99) },
    tokenEndpointRequests: tokenCalls.length,
    tokenEndpoint429s: tokenCalls.filter((r) => r.status === 429).length,
    peakTokenRequestsPerSecond: Math.max(0, ...perSecond(tokenCalls).values()),
  };

  // The burst: the token endpoint quiet first (the stream's first mints done, not just its consents),
  // then all at once. What the window still held shows in the burst's floor below.
  const quiet = await untilTokenEndpointQuiet(fleet.emulator, URGENT_WINDOW_MS, 60_000);
  log(
    quiet.quiet
      ? `lifecycle: token endpoint quiet after ${fmt(quiet.waitedMs / 1000, 1)} s (the new sellers' first mints)`
      : `lifecycle: token endpoint still busy after ${fmt(quiet.waitedMs / 1000, 1)} s; the burst goes anyway`,
  );
  const { burstConsents, singleConsents } = ctx.params;
  log(`lifecycle: ${burstConsents} consents at once …`);
  const burstSince = Date.now();
  const together = await burst(fleet, burstConsents);
  const singlesSince = Date.now();
  log(`lifecycle: ${singleConsents} single consents, one after another …`);
  const singles: number[] = [];
  const timelines: (ConsentTimeline | null)[] = [];
  let singleError: string | null = null;
  for (let i = 0; i < singleConsents; i++) {
    await sleep(1_000);
    const [s] = await fleet.onboard(1, 1);
    if (s?.ok) {
      singles.push(s.activeAt - s.callbackAt);
      timelines.push(
        await consentTimeline(fleet.env.client, sellerWorkflowId(s.sellerId), s.callbackAt).catch(() => null),
      );
    } else singleError ??= s?.error ?? 'no sample';
  }
  // OTTO's token-endpoint log since the burst, read once: the burst's part, and the singles' waits below.
  const aroundCalls = (await requestsSince(fleet.emulator, burstSince - URGENT_WINDOW_MS)).filter(
    isTokenCall,
  );
  const laterCalls = aroundCalls.filter((r) => Date.parse(r.at) >= burstSince);
  const burstTokenCalls = laterCalls.filter((r) => Date.parse(r.at) < singlesSince);
  // The burst's floor: n code exchanges at N + H per urgent window, after what the window already held.
  const exchangeCap = TOKEN_REQUESTS_PER_SECOND + TOKEN_EXCHANGE_HEADROOM;
  const priorStamps = aroundCalls.filter((r) => Date.parse(r.at) < burstSince).map((r) => Date.parse(r.at));
  const burstFloor = burstFloorMs(priorStamps, burstSince, burstConsents, {
    perSecond: TOKEN_REQUESTS_PER_SECOND,
    urgentHeadroom: TOKEN_EXCHANGE_HEADROOM,
  });
  Object.assign(result, {
    burst: {
      ...together,
      tokenRequests: burstTokenCalls.length,
      floorMs: burstFloor,
      tokenRequestsInWindowBefore: priorStamps.length,
      peakTokenRequestsPerSecond: Math.max(0, ...perSecond(burstTokenCalls).values()),
    },
    singles: {
      samples: singles,
      p50: percentile(singles, 50),
      max: percentile(singles, 100),
      firstError: singleError,
      timelines,
    },
  });

  printTable(
    `lifecycle: ${n} sellers, consent → active (${onboardConcurrency} concurrent)`,
    ['metric', 'value'],
    [
      ['sellers active / failed', `${result.active} / ${result.failed}`],
      ['elapsed (s)', result.elapsedSeconds],
      ['sellers/s', result.sellersPerSecond],
      ['bound from OTTO token cap (2 token calls/seller)', `${result.ceilingSellersPerSecond}/s`],
      ['callback → active p50 (ms)', result.callbackToActiveMs.p50],
      ['callback → active p99 (ms)', result.callbackToActiveMs.p99],
      ['callback → active max (ms)', result.callbackToActiveMs.max],
      ['"Allow access" → active p50 (ms)', result.consentToActiveMs.p50],
      ['"Allow access" → active p99 (ms)', result.consentToActiveMs.p99],
      [
        'token-endpoint requests (of which 429)',
        `${result.tokenEndpointRequests} (${result.tokenEndpoint429s})`,
      ],
      [
        `${burstConsents} consents at once: callback → active p50 / p99 / max (ms)`,
        `${together.p50} / ${together.p99} / ${together.max} (${together.active} active)`,
      ],
      [
        `single consents: callback → active (ms)`,
        singles.length ? singles.map((v) => round(v, 0)).join(', ') : '–',
      ],
    ],
  );
  // What the token endpoint was doing: the code exchange waits for a slot at the worker's token limit.
  const callsAt = laterCalls.map((r) => Date.parse(r.at));
  const exchangeSent = (from: number) => {
    const r = laterCalls.find((c) => c.path === '/oauth2/token' && Date.parse(c.at) >= from);
    return r === undefined ? '–' : Date.parse(r.at) - from;
  };
  printTable(
    'single consents: where callback → active went (ms, from the workflow history and OTTO’s request log)',
    [
      'consent',
      'total',
      'update accepted',
      'exchange queued',
      'exchange ran',
      '(of it: until sent)',
      'token calls in the second before',
      'authorized task',
    ],
    singles.map((total, i) => {
      const t = timelines[i];
      return t
        ? [
            i + 1,
            round(total, 0),
            t.toUpdateAccepted + t.toExchangeScheduled,
            t.exchangeQueued,
            t.exchangeRan,
            exchangeSent(t.exchangeStartedAt),
            callsAt.filter((at) => at >= t.exchangeStartedAt - 1_000 && at < t.exchangeStartedAt).length,
            t.toAuthorizedTask,
          ]
        : [i + 1, round(total, 0), '–', '–', '–', '–', '–', '–'];
    }),
  );
  if (result.firstError) log(`first failure: ${result.firstError}`);
  if (together.firstError) log(`burst: first failure: ${together.firstError}`);
  if (singleError) log(`singles: first failure: ${singleError}`);
  const rows = [
    goalRow('lifecycle', 'callbackBurstP50Ms', together.p50, { digits: 0 }),
    goalRow(
      'lifecycle',
      'callbackBurstP99Ms',
      together.active === burstConsents ? together.p99 : Number.NaN,
      {
        result: `${fmt(together.p99)} ms (max ${fmt(together.max)}; ${together.active} of ${burstConsents} active)`,
        // Each consent needs one code exchange on the token endpoints; code exchanges may send N + H
        // (TOKEN_REQUESTS_PER_SECOND + TOKEN_EXCHANGE_HEADROOM) in any urgent window (1.1 s), so the last
        // of n can go out only after (⌈n / (N + H)⌉ − 1) windows, later when the window already held
        // requests (background mints) as the burst began.
        floor: `${fmt(burstFloor, 0)} ms (${burstConsents} code exchanges at ${exchangeCap} per ${URGENT_WINDOW_MS / 1000} s; ${priorStamps.length} token requests in the window before)`,
        digits: 0,
      },
    ),
    goalRow(
      'lifecycle',
      'callbackSingleMs',
      singles.length === singleConsents ? percentile(singles, 100) : Number.NaN,
      {
        result: `${fmt(percentile(singles, 100))} ms (p50 ${fmt(percentile(singles, 50))}; n=${singles.length})`,
        digits: 0,
      },
    ),
    goalRow(
      'lifecycle',
      'tokenPeakPerSecond',
      Math.max(result.peakTokenRequestsPerSecond, Math.max(0, ...perSecond(burstTokenCalls).values())),
      {
        result: `${result.peakTokenRequestsPerSecond} /s (stream), ${Math.max(0, ...perSecond(burstTokenCalls).values())} /s (burst)`,
      },
    ),
    goalRow(
      'lifecycle',
      'tokenEndpoint429s',
      result.tokenEndpoint429s + burstTokenCalls.filter((r) => r.status === 429).length,
    ),
  ];
  ctx.record('lifecycle', rows);
  ctx.summary.lifecycle = { ...result, goals: rows };
  log(`wrote ${writeResult('lifecycle', { params: ctx.params, ...result, goals: rows })}`);
}
