/**
 * Waiting inside an activity: every wait ends early when the activity is cancelled (the SDK's
 * cancellation signal) and calls `heartbeat` regularly, so an activity with a heartbeat timeout stays
 * alive while it waits (rate limiters, Retry-After, OTTO's price tasks, a shared developer token).
 */
import { CancelledFailure } from '@temporalio/common';

export interface WaitOptions {
  /** The activity's cancellation signal: the wait rejects with its reason when it aborts. */
  signal?: AbortSignal;
  /** Called when the wait starts and then at least every `heartbeatEveryMs` while it lasts. */
  heartbeat?: () => void;
  /** Default 5 s. */
  heartbeatEveryMs?: number;
}

const DEFAULT_HEARTBEAT_EVERY_MS = 5_000;

/** The error a cancelled wait rejects with: the SDK aborts with a CancelledFailure; anything else is wrapped. */
export function cancellationError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof CancelledFailure) return reason;
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled';
  return new CancelledFailure(text);
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancellationError(signal);
}

/** Sleeps `ms`, rejecting at once (and clearing the timer) when `signal` aborts. */
export function sleepUnlessCancelled(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(cancellationError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancellationError(signal!));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits `ms` in slices, heartbeating before each slice; ends early (rejects) on cancellation. */
export async function waitWithHeartbeats(ms: number, options: WaitOptions = {}): Promise<void> {
  const every = options.heartbeatEveryMs ?? DEFAULT_HEARTBEAT_EVERY_MS;
  for (let left = ms; left > 0; left -= every) {
    throwIfCancelled(options.signal);
    options.heartbeat?.();
    await sleepUnlessCancelled(Math.min(left, every), options.signal);
  }
  throwIfCancelled(options.signal);
}

/**
 * Awaits a promise this activity does not own (e.g. a developer-token fetch shared by many mints):
 * heartbeating while it is pending, and rejecting on cancellation without cancelling the promise itself.
 */
export async function awaitWithHeartbeats<T>(promise: Promise<T>, options: WaitOptions = {}): Promise<T> {
  throwIfCancelled(options.signal);
  const every = options.heartbeatEveryMs ?? DEFAULT_HEARTBEAT_EVERY_MS;
  let timer: ReturnType<typeof setInterval> | undefined;
  let onAbort: (() => void) | undefined;
  const cancelled = new Promise<never>((_, reject) => {
    if (options.heartbeat) timer = setInterval(options.heartbeat, every);
    if (options.signal) {
      const signal = options.signal;
      onAbort = () => reject(cancellationError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([promise, cancelled]);
  } finally {
    if (timer !== undefined) clearInterval(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }
}
