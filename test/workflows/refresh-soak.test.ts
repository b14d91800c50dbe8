/**
 * A long accelerated run: 2-second tokens refreshed hundreds of times. Every run's history stays under
 * the bound (continue-as-new carries the state), the refresh count never goes backwards, and no
 * installation-token gap appears.
 */
import { sellerWorkflowId } from '../../workflows/definitions';
import { allRuns } from '../support/history';
import { TestStack } from '../support/stack';

const REFRESHES = Number(process.env.SOAK_REFRESHES ?? 200);
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
