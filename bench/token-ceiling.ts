/**
 * token-endpoint ceiling: M active sellers, then an outage of OTTO's installation-token endpoint (503)
 * until every seller's token has expired and the fleet is `degraded`; then the outage is lifted and all
 * M want a token in the same second. Checks in OTTO's (the emulator's) request log that token requests
 * never exceeded the cap in any second, and measures how long until every seller is fresh again.
 */
import type { BenchContext } from './support/context';
import { goalRow } from './support/goals';
import { OTTO_TOKEN_CAP_PER_SECOND, TOKEN_ACTIVITIES_PER_SECOND } from './support/harness';
import { isTokenCall, mintedInstallation, perSecond, requestsSince } from './support/otto-log';
import { log, mapLimit, printTable, round, sleep, writeResult } from './support/report';

/**
 * Until a visibility count reaches `target` on two reads in a row, a second apart: for a moment after a
 * continue-as-new a seller may be counted twice (workflows/visibility-queries.ts), which one read could
 * take for the last seller arriving.
 */
async function waitUntil(what: string, check: () => Promise<number>, target: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (let reached = 0; ;) {
    const value = await check();
    reached = value >= target ? reached + 1 : 0;
    if (reached === 2) return;
    if (reached === 0 && Date.now() > deadline)
      throw new Error(`${what}: ${value} of ${target} after ${timeoutMs / 1000} s`);
    await sleep(1_000);
  }
}

export async function runTokenCeiling(ctx: BenchContext): Promise<void> {
  const { fleetSellers, tokenTtlSeconds: ttlS } = ctx.params;
  const fleet = await ctx.ensureSellers(fleetSellers);
  const m = fleet.sellers.length;
  await waitUntil('sellers active before the outage', () => fleet.countInState('active'), m, 120_000);

  log(`ceiling: token endpoint down (503) until all ${m} tokens have expired (≤ ${ttlS} s) …`);
  const outageAt = Date.now();
  await fleet.emulator.admin('POST', '/faults', {
    method: 'POST',
    pathPattern: '/accessToken$',
    status: 503,
  });
  try {
    await waitUntil('sellers degraded', () => fleet.countInState('degraded'), m, (ttlS + 180) * 1000);
  } finally {
    await fleet.emulator.admin('DELETE', '/faults');
  }
  const liftedAt = Date.now();
  log(`ceiling: outage lifted after ${round((liftedAt - outageAt) / 1000)} s; waiting for all to be fresh …`);
  await waitUntil('sellers active again', () => fleet.countInState('active'), m, (m / 2 + 300) * 1000);
  const activeAgainAt = Date.now();

  // Fresh = the workflow holds a token that is valid now.
  const statuses = await mapLimit(fleet.sellers, 16, (s) => fleet.status(s.sellerId));
  const checkedAt = Date.now();
  const fresh = statuses.filter(
    (s) =>
      s.state === 'active' &&
      Date.parse(s.token.expiresAt ?? '') > checkedAt &&
      Date.parse(s.token.lastRefreshedAt ?? '') >= liftedAt - 1_000,
  ).length;

  const requests = await requestsSince(fleet.emulator, outageAt);
  const tokenCalls = requests.filter(isTokenCall);
  const afterLift = tokenCalls.filter((r) => Date.parse(r.at) >= liftedAt);
  const seconds = perSecond(tokenCalls);
  const peakAll = Math.max(0, ...seconds.values());
  // What made up every second above the cap: which endpoints, which answers, how far into the second.
  const overCap = [...seconds]
    .filter(([, count]) => count > OTTO_TOKEN_CAP_PER_SECOND)
    .map(([second, count]) => {
      const inSecond = tokenCalls.filter((r) => Math.floor(Date.parse(r.at) / 1000) === second);
      const by = (key: (r: (typeof inSecond)[number]) => string) =>
        inSecond.reduce<Record<string, number>>(
          (acc, r) => ({ ...acc, [key(r)]: (acc[key(r)] ?? 0) + 1 }),
          {},
        );
      return {
        second: new Date(second * 1000).toISOString(),
        count,
        byEndpoint: by((r) => (r.path.endsWith('/accessToken') ? 'accessToken' : r.path)),
        byStatus: by((r) => String(r.status)),
        msIntoSecond: inSecond.map((r) => Date.parse(r.at) % 1000),
      };
    });
  const peakAfterLift = Math.max(0, ...perSecond(afterLift).values());
  // The last seller's first successful mint after the lift: "all fresh again", to the millisecond.
  const installations = new Set(fleet.sellers.map((s) => s.installationId));
  const firstMint = new Map<string, number>();
  for (const r of afterLift) {
    const inst = mintedInstallation(r);
    if (inst === undefined || r.status !== 200 || !installations.has(inst) || firstMint.has(inst)) continue;
    firstMint.set(inst, Date.parse(r.at));
  }
  const lastFreshAt = Math.max(...firstMint.values());
  const result = {
    sellers: m,
    tokenTtlSeconds: ttlS,
    capPerSecond: OTTO_TOKEN_CAP_PER_SECOND,
    tokenQueueRatePerSecond: TOKEN_ACTIVITIES_PER_SECOND,
    outageSeconds: round((liftedAt - outageAt) / 1000, 1),
    tokenRequestsDuringOutageAndRecovery: tokenCalls.length,
    peakTokenRequestsPerSecond: peakAll,
    peakTokenRequestsPerSecondAfterLift: peakAfterLift,
    withinCap: peakAll <= OTTO_TOKEN_CAP_PER_SECOND,
    secondsOverCap: overCap,
    tokenEndpoint429s: tokenCalls.filter((r) => r.status === 429).length,
    sellersMintedAfterLift: firstMint.size,
    secondsUntilAllFresh: round((lastFreshAt - liftedAt) / 1000, 1),
    secondsUntilAllActiveByVisibility: round((activeAgainAt - liftedAt) / 1000, 1),
    lowerBoundSeconds: round(m / TOKEN_ACTIVITIES_PER_SECOND, 1),
    freshSellersChecked: fresh,
    requestsWithExpiredToken: requests.filter((r) => r.token === 'expired').length,
  };
  printTable(
    `token-endpoint ceiling: ${m} sellers expiring together (OTTO cap ${OTTO_TOKEN_CAP_PER_SECOND}/s, token queue ${TOKEN_ACTIVITIES_PER_SECOND}/s)`,
    ['metric', 'value'],
    [
      ['outage until all degraded (s)', result.outageSeconds],
      ['token requests (outage + recovery)', result.tokenRequestsDuringOutageAndRecovery],
      [
        'max token requests in any second',
        `${peakAll} (cap ${OTTO_TOKEN_CAP_PER_SECOND}) → ${result.withinCap ? 'OK' : 'OVER CAP'}`,
      ],
      ['max token requests in any second after the lift', peakAfterLift],
      ['429 answers from the token endpoint', result.tokenEndpoint429s],
      ['sellers with a new token after the lift', `${firstMint.size} / ${m}`],
      ['time until all fresh again (s)', result.secondsUntilAllFresh],
      [`lower bound M / ${TOKEN_ACTIVITIES_PER_SECOND} per s (s)`, result.lowerBoundSeconds],
      ['sellers verified active with a valid new token', `${fresh} / ${m}`],
      ['requests sent with an expired token', result.requestsWithExpiredToken],
    ],
  );
  for (const o of overCap)
    log(
      `over cap: ${o.second} ${o.count} requests ${JSON.stringify(o.byEndpoint)} statuses ${JSON.stringify(o.byStatus)} ms ${o.msIntoSecond.join(',')}`,
    );
  const rows = [
    goalRow('ceiling', 'tokenPeakPerSecond', peakAll, {
      result: `${peakAll} /s (outage and recovery of ${m} sellers)`,
    }),
    goalRow('ceiling', 'tokenEndpoint429s', result.tokenEndpoint429s),
    goalRow('ceiling', 'expiredTokenRequests', result.requestsWithExpiredToken),
  ];
  ctx.record('ceiling', rows);
  ctx.summary.ceiling = { ...result, goals: rows };
  log(`wrote ${writeResult('ceiling', { params: ctx.params, ...result, goals: rows })}`);
}
