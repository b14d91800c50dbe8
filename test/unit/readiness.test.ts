/** The worker's readiness follows Temporal: a failed or hanging check turns it off, an answer on again. */
import { watchReadiness } from '../../worker/readiness';
import { until } from '../support/activity-helpers';

it('ready while the check answers; not ready at once when it fails or hangs past its deadline', async () => {
  const states: boolean[] = [];
  let mode: 'answer' | 'fail' | 'hang' = 'answer';
  const watch = watchReadiness(
    () =>
      mode === 'answer'
        ? Promise.resolve()
        : mode === 'fail'
          ? Promise.reject(new Error('unavailable'))
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
  } finally {
    watch.stop();
  }
  const count = states.length;
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(states).toHaveLength(count); // stopped: nothing set any more
});
