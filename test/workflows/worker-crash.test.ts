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
  const held = await stack.admin<{ id: string }>('POST', '/faults', {
    method: 'POST',
    pathPattern: '/accessToken$',
    latencyMs: 4_000,
    times: 1,
  });
  // A fault that fired its last time leaves the list: a tick's mint is at OTTO now, for 4 s.
  await eventually(
    () => stack.admin<{ id: string }[]>('GET', '/faults'),
    (faults) => !faults.some((f) => f.id === held.id),
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
  // The killed tick was retried (a second attempt started), not dropped for a later one.
  const events = (await handle.fetchHistory()).events ?? [];
  expect(events.some((e) => Number(e.activityTaskStartedEventAttributes?.attempt ?? 0) >= 2)).toBe(true);
  await stack.disconnect(handle);
}, 150_000);
