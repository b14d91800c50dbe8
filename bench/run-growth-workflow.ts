/**
 * The bare run of bench/run-growth.ts: a loop of a short timer and one activity that echoes a payload,
 * nothing else (no state, no queries, no memo). Bundled on its own (workflowsPath = this file).
 */
import { continueAsNew, proxyActivities, proxySinks, sleep, type Sinks } from '@temporalio/workflow';

export interface GrowthInput {
  payloadBytes: number;
  /** Iterations left in the whole chain of runs. */
  iterations: number;
  gapMs: number;
  /** Continue as new after this many iterations of one run (null: never). */
  continueEvery: number | null;
}

/** Told after each iteration, so the benchmark reads memory once every workflow has processed its echo. */
export interface GrowthSinks extends Sinks {
  progress: { iterationDone(): void };
}

const { progress } = proxySinks<GrowthSinks>();
const { echo } = proxyActivities<{ echo(payload: string): Promise<string> }>({ startToCloseTimeout: '30s' });

export async function growthWorkflow(input: GrowthInput): Promise<void> {
  const payload = 'x'.repeat(input.payloadBytes);
  let left = input.iterations;
  for (let i = 0; left > 0; i++, left--) {
    if (input.continueEvery !== null && i === input.continueEvery)
      await continueAsNew<typeof growthWorkflow>({ ...input, iterations: left });
    await sleep(input.gapMs);
    await echo(payload);
    progress.iterationDone();
  }
  // Stays cached (and its run's state with it) until the benchmark ends.
  await sleep('1 day');
}
