/** The worker's readiness follows Temporal: a failed or hanging check turns it off, an answer on again. */
import { watchReadiness } from '../../worker/readiness';
import { until } from '../support/activity-helpers';

it('ready while the check answers; not ready at once when it fails or hangs past its deadline', async () => {
  const states: boolean[] = [];
  let mode: 'answer' | 'fail' | 'hang' | 'held' = 'answer';
  let release: (() => void) | undefined;
  const watch = watchReadiness(
    () =>
      mode === 'answer'
        ? Promise.resolve()
        : mode === 'fail'
          ? Promise.reject(new Error('unavailable'))
          : mode === 'held'
            ? new Promise<void>((resolve) => (release = resolve))
            : new Promise(() => undefined),
    (ready) => states.push(ready),
    { everyMs: 20, deadlineMs: 30 },
  );
  try {
    await until('ready', () => states.at(-1) === true);
    mode = 'fail';
    await until('not ready after a failed check', () => states.at(-1) === false);
    mode = 'answer';
    await until('ready again', () => states.at(-1) === true);
    // Before: set once at start, /readyz stayed green while Temporal was down (here: hanging).
    mode = 'hang';
    await until('not ready when the check hangs past its deadline', () => states.at(-1) === false);
    // A check still running when the watch stops sets nothing when it answers.
    mode = 'held';
    await until('a check in flight', () => release !== undefined);
  } finally {
    watch.stop();
  }
  const count = states.length;
  release!();
  await new Promise((resolve) => setImmediate(resolve));
  expect(states).toHaveLength(count);
});
