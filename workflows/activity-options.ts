/**
 * How the seller workflow calls its activities: one options set per timeout/retry group, built from the
 * run's settings, and the one reading of an activity's failure (type, message, cancellation, progress).
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
} from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES, type WorkflowSettings } from './definitions';

export const tokenOptions = (set: WorkflowSettings) =>
  ({
    taskQueue: set.tokenTaskQueue,
    startToCloseTimeout: '15s',
    heartbeatTimeout: '20s',
    // One mint keeps retrying transient failures for at most the margin; then the policy backs off.
    scheduleToCloseTimeout: set.tokenRefreshMarginMs,
    retry: {
      initialInterval: Math.min(1_000, set.refreshRetryMaxIntervalMs),
      backoffCoefficient: 2,
      maximumInterval: set.refreshRetryMaxIntervalMs,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  }) as const;
export const transferOptions = (set: WorkflowSettings) =>
  ({
    startToCloseTimeout: '5m',
    heartbeatTimeout: '30s',
    scheduleToCloseTimeout: set.transferRetryWindowMs,
    // A cancelled transfer reports its progress; wait for it so the next run resumes there.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: Math.min(1_000, set.transferRetryMaxIntervalMs),
      backoffCoefficient: 2,
      maximumInterval: set.transferRetryMaxIntervalMs,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  }) as const;
/**
 * How long a tick may go without a heartbeat before Temporal retries it elsewhere. It bounds how late a
 * tick runs when its worker is lost: killed, or shut down while the task was in transit to it (a worker's
 * poll interrupted at shutdown can take a task that it then never runs; the server waits this long).
 */
export const TICK_HEARTBEAT_TIMEOUT_MS = 30_000;
/**
 * A tick (patch jitTicks): one activity for every transfer due together. It retries a transfer's
 * transient failures itself and reports the rest, so Temporal retries it only when a worker is lost
 * (heartbeat) or the attempt overruns; a tick that must mint runs on the token queue, under its rate.
 */
export const tickOptions = (set: WorkflowSettings, mints: boolean) =>
  ({
    ...(mints ? { taskQueue: set.tokenTaskQueue } : {}),
    startToCloseTimeout: '10m',
    heartbeatTimeout: TICK_HEARTBEAT_TIMEOUT_MS,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: Math.min(1_000, set.transferRetryMaxIntervalMs),
      backoffCoefficient: 2,
      maximumInterval: set.transferRetryMaxIntervalMs,
      maximumAttempts: 5,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  }) as const;
// At least once: no attempt limit; the delivery window (scheduleToClose) bounds the retrying.
export const webhookOptions = (set: WorkflowSettings) =>
  ({
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: Math.min(1_000, set.webhookRetryMaxIntervalMs),
      backoffCoefficient: 2,
      maximumInterval: set.webhookRetryMaxIntervalMs,
    },
  }) as const;

/**
 * Runs an activity call with `input` as its one argument, then empties `input`. The SDK's handler for
 * cancelling a call closes over the call's arguments and lives as long as the cancellation scope the call
 * ran in, which in the seller workflow is the run: without this, every tick's input (its cursors and the
 * sealed token) stayed in the worker's memory until the run continued as new, ≈ 2 KB per tick
 * (docs/scaling.md §4, `bench:run-growth -- --args=fresh` against `--args=released`). The arguments are
 * serialized when the call is scheduled, so emptying the object afterwards changes no command.
 */
export async function releasingInput<I extends object, R>(
  input: I,
  call: (args: [I]) => Promise<R>,
): Promise<R> {
  try {
    return await call([input]);
  } finally {
    for (const key of Object.keys(input)) delete (input as Record<string, unknown>)[key];
  }
}

export interface Failure {
  type?: string;
  message: string;
  cancelled: boolean;
  /** The activity's progress (failure details[0]): lets the next run resume. */
  progress: unknown;
}

/** The failure type, message and progress behind an activity failure. */
export function failureOf(err: unknown): Failure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof CancelledFailure) {
    return { message: cause.message || 'cancelled', cancelled: true, progress: cause.details?.[0] };
  }
  if (cause instanceof ApplicationFailure) {
    return {
      type: cause.type ?? undefined,
      message: cause.message,
      cancelled: false,
      progress: cause.details?.[0],
    };
  }
  if (cause instanceof Error) {
    // Timeouts wrap the last attempt's failure.
    const inner = cause.cause;
    if (inner instanceof ApplicationFailure)
      return {
        type: inner.type ?? undefined,
        message: inner.message,
        cancelled: false,
        progress: inner.details?.[0],
      };
    return { type: cause.name, message: cause.message, cancelled: false, progress: undefined };
  }
  return { message: String(cause), cancelled: false, progress: undefined };
}
