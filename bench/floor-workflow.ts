/**
 * The floor: a bare workflow that does what one connected seller costs Temporal — the same timers and
 * the same activity calls on the same schedule — with no-op activities and no logic: no state machine,
 * no search attributes, no memo, no details, no queries, no error handling. Two shapes, mirroring ours:
 * - `tick` (ours runs every transfer due at a tick as ONE activity and mints inside it): one timer per
 *   tick and one no-op activity per tick, on the rate-limited token queue when the tick's token would
 *   not last through the run (it is then "minted": good for `tokenLifetimeMs`), otherwise on the main queue;
 * - `split` (ours refreshes on a timer): a mint activity every refresh period on the token queue and one
 *   activity per transfer kind on its interval.
 * Bundled on its own (workflowsPath = this file) and run on its own task queues; see bench/floor-ratio.ts.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { FloorActivities } from './support/floor-activities';

export interface FloorInput {
  shape: 'tick' | 'split';
  tokenTaskQueue: string;
  /** split: time between two mints (our workflow: token lifetime − refresh margin). */
  mintPeriodMs: number;
  /** tick: a minted token is good this long … */
  tokenLifetimeMs: number;
  /** … and a tick needs it valid this long from its start, or it mints (on the token queue). */
  reserveMs: number;
  /** Epoch ms the phases count from (the start of the measured window). */
  originAt: number;
  /** split: first mint this long after originAt, so a fleet's refreshes are spread like real sellers'. */
  mintPhaseMs: number;
  /** tick: the token the seller held at the window start expires this long after originAt (may be < 0). */
  tokenExpiresInMs: number;
  /** One entry per transfer kind that calls an activity: its interval and first-run offset. */
  transfers: { intervalMs: number; phaseMs: number }[];
  /** Epoch ms: nothing due at or after this runs; the workflow returns at this time. */
  endAt: number;
}

export async function floorWorkflow(input: FloorInput): Promise<number> {
  const tokens = proxyActivities<FloorActivities>({
    taskQueue: input.tokenTaskQueue,
    startToCloseTimeout: '15s',
  });
  const data = proxyActivities<FloorActivities>({ startToCloseTimeout: '5m' });
  const tick = input.shape === 'tick';
  let nextMint = tick ? Infinity : input.originAt + input.mintPhaseMs;
  // tick: the seller's token at the window start, as ours held it.
  let tokenExpiresAt = input.originAt + input.tokenExpiresInMs;
  const nextTransfer = input.transfers.map((t) => input.originAt + t.phaseMs);
  let calls = 0;
  for (;;) {
    const next = Math.min(nextMint, ...nextTransfer);
    if (next >= input.endAt) {
      await sleep(Math.max(1, input.endAt - Date.now()));
      return calls;
    }
    await sleep(Math.max(1, next - Date.now()));
    const now = Date.now();
    const due: Promise<void>[] = [];
    if (now >= nextMint) {
      due.push(tokens.floorMint());
      nextMint = now + input.mintPeriodMs;
    }
    let transfersDue = 0;
    input.transfers.forEach((t, i) => {
      if (now >= (nextTransfer[i] ?? Infinity)) {
        transfersDue++;
        if (!tick) due.push(data.floorTransfer());
        nextTransfer[i] = now + t.intervalMs;
      }
    });
    if (tick && transfersDue > 0) {
      if (now + input.reserveMs > tokenExpiresAt) {
        tokenExpiresAt = now + input.tokenLifetimeMs;
        due.push(tokens.floorTick());
      } else due.push(data.floorTick());
    }
    await Promise.all(due);
    calls += due.length;
  }
}
