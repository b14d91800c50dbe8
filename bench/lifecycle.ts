/**
 * lifecycle: N sellers from "Allow access" to `active`, through the real API, OTTO's (emulated) consent
 * and our /oauth/callback, at most `onboardConcurrency` at a time. Onboarding needs two token-endpoint
 * requests per seller (code exchange, first installation token), so OTTO's 10/s cap bounds it at 5 sellers/s.
 */
import type { BenchContext } from './support/context';
import { OTTO_TOKEN_CAP_PER_SECOND } from './support/harness';
import { log, percentile, printTable, round, writeResult } from './support/report';

export async function runLifecycle(ctx: BenchContext): Promise<void> {
  const { lifecycleSellers: n, onboardConcurrency } = ctx.params;
  const fleet = await ctx.fleet();
  const logSince = new Date().toISOString();
  log(`lifecycle: connecting ${n} sellers, ${onboardConcurrency} at a time …`);
  const started = Date.now();
  const samples = await fleet.onboard(n, onboardConcurrency);
  const elapsedS = (Date.now() - started) / 1000;
  const ok = samples.filter((s) => s.ok);
  const callbackToActive = ok.map((s) => s.activeAt - s.callbackAt);
  const consentToActive = ok.map((s) => s.activeAt - s.consentAt);
  const requests = await fleet.emulator.admin<{ path: string; method: string; status: number }[]>(
    'GET',
    `/requests?since=${encodeURIComponent(logSince)}`,
  );
  const tokenCalls = requests.filter(
    (r) => r.method === 'POST' && /(\/accessToken|\/v1\/token|\/oauth2\/token)$/.test(r.path),
  );
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
  };
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
    ],
  );
  if (result.firstError) log(`first failure: ${result.firstError}`);
  ctx.summary.lifecycle = result;
  log(`wrote ${writeResult('lifecycle', { params: ctx.params, ...result })}`);
}
