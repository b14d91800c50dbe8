/**
 * Many sellers whose tokens expire in the same second (after a token-endpoint outage): the token task
 * queue's rate limit keeps OTTO's token endpoints under their cap, and everyone is fresh again.
 * `npm test` runs a short form; `npm run test:storm` runs 1,000 sellers (STORM_SELLERS).
 */
import { TestStack, type LoggedRequest, type SellerHandle } from '../support/stack';
import { eventually, uniqueName } from '../support/temporal';
import { runningQuery, type LiveState } from '../../workflows/visibility-queries';

const SELLERS = Number(process.env.STORM_SELLERS ?? 40);
const TOKEN_CAP_PER_SECOND = 10; // OTTO: 10 requests/s per IP on the token endpoint (docs/otto-api.md §5)
// The server's task-queue rate limiter lets short bursts pass above the rate (seen: 10 in one second at
// 8/s), so the storm runs with headroom below OTTO's cap; production's default is 8/s (429s, if a burst
// ever hits the cap, are retried after Retry-After).
const QUEUE_RATE = Number(process.env.STORM_QUEUE_RATE ?? 6);
const TTL_S = Math.max(30, Math.ceil(SELLERS / 4));

let stack: TestStack;
beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: TTL_S,
    tokenRateLimitPerSecond: TOKEN_CAP_PER_SECOND,
    tokenActivitiesPerSecond: QUEUE_RATE,
    // No transfer due after the first tick: the revocation probe is what mints (every 10 s).
    settings: {
      tokenRefreshMarginMs: 10_000,
      refreshJitterMs: 0,
      refreshRetryMaxIntervalMs: 2_000,
      revocationProbeIntervalMs: 10_000,
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

const isTokenCall = (r: LoggedRequest) =>
  r.method === 'POST' &&
  (/\/accessToken$/.test(r.path) || r.path === '/v1/token' || r.path === '/oauth2/token');

function perSecond(requests: LoggedRequest[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of requests) {
    const second = Math.floor(Date.parse(r.at) / 1_000);
    counts.set(second, (counts.get(second) ?? 0) + 1);
  }
  return counts;
}

it(`${SELLERS} sellers refreshing at once stay under ${TOKEN_CAP_PER_SECOND} token requests/s and all recover`, async () => {
  // Visibility counts, not one poller per seller: cheap for the server at 1,000 sellers too.
  const count = async (state: LiveState) =>
    (await stack.env.client.workflow.count(runningQuery(state, { taskQueue: stack.taskQueue }))).count;
  const waitForCount = (state: LiveState, n: number, timeoutMs: number) =>
    eventually(
      () => count(state),
      (c) => c === n,
      timeoutMs,
    );
  const waitForAll = (state: LiveState, timeoutMs: number) => waitForCount(state, SELLERS, timeoutMs);
  // Connect everyone, 20 at a time: onboarding goes through the same rate-limited token queue, and an
  // authorization code lives only 60 s at OTTO, so sellers are let in at the rate the queue serves them.
  const handles: SellerHandle[] = [];
  for (let i = 0; i < SELLERS; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, SELLERS - i) }, async () => {
        const partner = await stack.createPartner();
        const { handle, nonce, authorizeUrl } = await stack.beginConsent(uniqueName('storm'));
        await stack.installApp('v1', partner);
        await stack.deliverCallback(handle, nonce, await stack.consentAtOtto(authorizeUrl, partner));
        return handle;
      }),
    );
    handles.push(...batch);
    await waitForCount('active', handles.length, 120_000);
  }
  await waitForAll('active', 600_000);

  // Token endpoint outage until every seller's token has expired: they all want a token at once.
  await stack.admin('POST', '/faults', { method: 'POST', pathPattern: '/accessToken$', status: 503 });
  await waitForAll('degraded', (TTL_S + 120) * 1_000);
  const outageEnded = new Date().toISOString();
  await stack.admin('DELETE', '/faults');

  const startedRecovery = Date.now();
  await waitForAll('active', 900_000);
  const recoverySeconds = (Date.now() - startedRecovery) / 1_000;

  const log = await stack.requests(outageEnded);
  const tokenCalls = log.filter(isTokenCall);
  const peak = Math.max(...perSecond(tokenCalls).values());
  console.log(
    `[storm] ${SELLERS} sellers: recovered in ${recoverySeconds.toFixed(1)} s, ${tokenCalls.length} token requests, ` +
      `peak ${peak}/s (cap ${TOKEN_CAP_PER_SECOND}/s), 429s: ${tokenCalls.filter((r) => r.status === 429).length}`,
  );
  expect(tokenCalls.length).toBeGreaterThanOrEqual(SELLERS);
  expect(peak).toBeLessThanOrEqual(TOKEN_CAP_PER_SECOND);
  expect(tokenCalls.filter((r) => r.status === 429)).toEqual([]);
  expect(log.filter((r) => r.token === 'expired')).toEqual([]);
  for (let i = 0; i < handles.length; i += 10) {
    const batch = handles.slice(i, i + 10);
    const statuses = await Promise.all(batch.map((h) => stack.status(h)));
    // Minted again after the outage (tokens are minted just in time, so one may have expired since).
    for (const st of statuses)
      expect(Date.parse(st.token.lastRefreshedAt!)).toBeGreaterThan(Date.parse(outageEnded));
    await Promise.all(batch.map((h) => stack.disconnect(h)));
  }
}, 1_800_000);
