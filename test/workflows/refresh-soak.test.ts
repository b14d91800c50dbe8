/**
 * A long accelerated run: 2-second tokens minted hundreds of times (by the revocation probe, every
 * 300 ms: no transfer is due after the first tick). Every run's history stays under the bound
 * (continue-as-new carries the state) and the mint count never goes backwards.
 */
import { sellerWorkflowId } from '../../workflows/definitions';
import { allRuns } from '../support/history';
import { TestStack } from '../support/stack';

const REFRESHES = Number(process.env.SOAK_REFRESHES ?? 100);
const MAX_HISTORY = 150;
let stack: TestStack;

beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: 2,
    settings: {
      tokenRefreshMarginMs: 1_700,
      refreshJitterMs: 0,
      refreshRetryMaxIntervalMs: 200,
      maxHistoryEvents: MAX_HISTORY,
      revocationProbeIntervalMs: 300,
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

it(`refreshes ${REFRESHES} times with every run's history under ${MAX_HISTORY} events`, async () => {
  const { handle, sellerId } = await stack.connectSeller();
  let last = 0;
  const final = await stack.waitFor(
    handle,
    (s) => {
      if (s.token.refreshCount < last)
        throw new Error(`refresh count went back from ${last} to ${s.token.refreshCount}`);
      last = s.token.refreshCount;
      return s.token.refreshCount >= REFRESHES;
    },
    REFRESHES * 2_000,
  );
  expect(final.state).toBe('active');
  await stack.disconnect(handle);

  const runs = await allRuns(stack.env.client, sellerWorkflowId(sellerId));
  expect(runs.length).toBeGreaterThan(REFRESHES / 20);
  for (const { history } of runs) expect(history.events?.length ?? 0).toBeLessThanOrEqual(MAX_HISTORY + 15);
  expect(final.events.filter((e) => e.type === 'degraded')).toEqual([]);
}, 600_000);
