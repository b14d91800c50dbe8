/**
 * Kill the worker process (SIGKILL) while an installation-token mint is in flight (in a tick: here the
 * revocation probe's, every 10 s), start a new one: the tick is retried by the new worker (after its
 * heartbeat timeout) and the seller never leaves `active`.
 */
import { TestStack } from '../support/stack';
import { WorkerProcess } from '../support/worker-process';
import { eventually } from '../support/temporal';

let stack: TestStack;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  // 40 s tokens; no transfer due after the first tick, so the probe mints every 10 s.
  stack = await TestStack.start({
    tokenTtlSeconds: 40,
    inProcessWorkers: false,
    settings: { tokenRefreshMarginMs: 25_000, refreshJitterMs: 0, revocationProbeIntervalMs: 10_000 },
  });
  workers.push(await WorkerProcess.start(stack.workerEnv()));
}, 90_000);

afterAll(async () => {
  for (const w of workers) await w.kill();
  await stack?.close();
});

it('survives SIGKILL of the worker in the middle of a mint', async () => {
  const { handle, status } = await stack.connectSeller();
  // Hold the next mint at OTTO for a while, so it is surely in flight when the worker dies.
  await stack.admin('POST', '/faults', {
    method: 'POST',
    pathPattern: '/accessToken$',
    latencyMs: 4_000,
    times: 1,
  });

  await eventually(
    async () => (await handle.describe()).raw.pendingActivities ?? [],
    (pending) =>
      pending.some(
        (a) => a.activityType?.name === 'runTick' && Number(a.attempt) >= 1 && a.lastStartedTime != null,
      ),
    30_000,
  );
  await workers[0]!.kill('SIGKILL');
  workers.push(await WorkerProcess.start(stack.workerEnv()));

  const after = await stack.waitFor(
    handle,
    (s) => s.token.refreshCount >= status.token.refreshCount + 2,
    90_000,
  );
  expect(after.state).toBe('active');
  expect(after.events.some((e) => e.type === 'degraded')).toBe(false);
  expect(Date.parse(after.token.expiresAt!)).toBeGreaterThan(Date.now());
  await stack.disconnect(handle);
}, 150_000);
