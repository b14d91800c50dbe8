/**
 * runWorkers: when one worker fails, the others are shut down and drained before the failure comes out,
 * so the caller can close the connection (it refuses while a worker holds it) and logs the real cause.
 */
import type { Worker } from '@temporalio/worker';
import { runWorkers } from '../../worker/create-workers';

/** A worker that runs until shut down (then drains for a moment) or fails with `failWith`. */
function fakeWorker(failWith?: Error) {
  let state = 'RUNNING';
  let stop: () => void = () => undefined;
  const worker = {
    drained: false,
    getState: () => state,
    shutdown: () => {
      state = 'STOPPING';
      stop();
    },
    run: () =>
      failWith
        ? Promise.reject(failWith)
        : new Promise<void>((resolve) => {
            // Draining takes a while (its running activities finish): a later turn of the event loop.
            stop = () =>
              void setImmediate(() => {
                worker.drained = true;
                state = 'STOPPED';
                resolve();
              });
          }),
  };
  return worker;
}

it('one worker fails: the other is shut down and drained before the first error is thrown', async () => {
  const survivor = fakeWorker();
  const failing = fakeWorker(new Error('ORIGINAL: workflow thread died'));
  let drainedWhenThrown: boolean | undefined;
  await expect(
    runWorkers([survivor, failing] as unknown as Worker[]).catch((err: unknown) => {
      drainedWhenThrown = survivor.drained;
      throw err;
    }),
  ).rejects.toThrow('ORIGINAL: workflow thread died');
  // Before: thrown at once, the survivor still holding the connection (closing it then failed instead).
  expect(drainedWhenThrown).toBe(true);
});
