/**
 * The bare run of bench/run-growth.ts: a loop of a short timer and one activity that echoes a payload,
 * nothing else (no state, no queries, no memo). Bundled on its own (workflowsPath = this file).
 */

/**
 * What each iteration hands the activity: `same`, one argument object for the whole run; `fresh`, a new
 * one with a new payload each time (as a real workflow's inputs are); `released`, fresh and emptied once
 * the activity is over (the SDK keeps a call's arguments as long as its cancellation scope lives,
 * docs/scaling.md §4).
 */
export type GrowthArgs = 'same' | 'fresh' | 'released';

/**
 * Where each iteration's timer and activity run: `root`, straight in the workflow's root scope, awaited;
 * `kept`, each in a child scope of its own with the loop waiting on a `condition()` for it, as the seller
 * workflow's loop did before workflows/scope-epoch.ts (every handler kept for the run's life); `epoch`,
 * the same in a ScopeEpoch's scopes, renewed at the top of the loop, the loop in its `loop` and waiting
 * through its `wait`, as the seller workflow does now.
 */
export type GrowthScopes = 'root' | 'kept' | 'epoch';
import {
  CancellationScope,
  condition,
  continueAsNew,
  proxyActivities,
  proxySinks,
  sleep,
  type Sinks,
} from '@temporalio/workflow';
import { SCOPE_EPOCH_OPERATIONS, ScopeEpoch } from '../workflows/scope-epoch';

export interface GrowthInput {
  payloadBytes: number;
  /** Iterations left in the whole chain of runs. */
  iterations: number;
  gapMs: number;
  /** Continue as new after this many iterations of one run (null: never). */
  continueEvery: number | null;
  args: GrowthArgs;
  scopes: GrowthScopes;
}

/** Told after each iteration, so the benchmark reads memory once every workflow has processed its echo. */
export interface GrowthSinks extends Sinks {
  progress: { iterationDone(): void };
}

const { progress } = proxySinks<GrowthSinks>();
const { echo } = proxyActivities<{ echo(arg: { payload?: string }): Promise<string> }>({
  startToCloseTimeout: '30s',
});

export async function growthWorkflow(input: GrowthInput): Promise<void> {
  const same = { payload: 'x'.repeat(input.payloadBytes) };
  const epoch = input.scopes === 'epoch' ? new ScopeEpoch(SCOPE_EPOCH_OPERATIONS) : null;
  // Runs `work` as the seller workflow's loop runs its timer and its tick (the `kept` and `epoch` shapes).
  const step = async (work: () => Promise<unknown>): Promise<void> => {
    if (input.scopes === 'root') {
      await work();
      return;
    }
    let over = false;
    void (epoch === null ? new CancellationScope().run(work) : epoch.run(work)).then(() => {
      over = true;
    });
    if (epoch === null) await condition(() => over);
    else await epoch.wait(() => over);
  };
  const loop = async () => {
    let left = input.iterations;
    for (let i = 0; left > 0; i++, left--) {
      if (input.continueEvery !== null && i === input.continueEvery)
        await continueAsNew<typeof growthWorkflow>({ ...input, iterations: left });
      epoch?.renew();
      await step(() => sleep(input.gapMs));
      const arg: { payload?: string } =
        input.args === 'same' ? same : { payload: `${i}:${'x'.repeat(input.payloadBytes)}` };
      await step(() => echo(arg));
      if (input.args === 'released') delete arg.payload;
      progress.iterationDone();
    }
  };
  // The seller workflow's loop runs in the epoch's scope that cannot be cancelled (scope-epoch.ts `loop`).
  await (epoch === null ? loop() : epoch.loop(loop));
  // Stays cached (and its run's state with it) until the benchmark ends.
  await sleep('1 day');
}
