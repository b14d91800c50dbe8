/** Helpers shared by the activity tests (MockActivityEnvironment). */
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';

/** Options for a MockActivityEnvironment that logs only errors. */
export const quiet = () => ({ logger: new DefaultLogger('ERROR') });

/** The ApplicationFailure `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure');
}
