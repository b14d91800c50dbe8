/**
 * The floor: a bare workflow that does what one connected seller costs Temporal — the same timers and
 * the same activity calls on the same schedule (a token mint every refresh period on a rate-limited
 * token queue, each transfer kind on its interval) — with no-op activities and no logic: no state
 * machine, no search attributes, no details, no queries, no error handling. Bundled on its own
 * (workflowsPath = this file) and run on its own task queues; see bench/floor-ratio.ts.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { FloorActivities } from './support/floor-activities';

export interface FloorInput {
  tokenTaskQueue: string;
  /** Time between two mints (our workflow: token lifetime − refresh margin). */
  mintPeriodMs: number;
  /** Epoch ms the phases count from (the start of the measured window). */
  originAt: number;
  /** First mint this long after originAt, so a fleet's refreshes are spread like real sellers'. */
  mintPhaseMs: number;
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
  let nextMint = input.originAt + input.mintPhaseMs;
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
    input.transfers.forEach((t, i) => {
      if (now >= (nextTransfer[i] ?? Infinity)) {
        due.push(data.floorTransfer());
        nextTransfer[i] = now + t.intervalMs;
      }
    });
    await Promise.all(due);
    calls += due.length;
  }
}
