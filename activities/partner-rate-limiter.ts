/**
 * Client-side rate limit per partner id (OTTO: 20 requests/s per partner, docs/otto-api.md §5), so a worker
 * never earns a 429 by itself. A sliding one-second window; callers wait for a free slot, heartbeating
 * while they wait and giving up at once when their activity is cancelled.
 */
import { sleepUnlessCancelled, throwIfCancelled, type WaitOptions } from './activity-waits';

export class PartnerRateLimiter {
  private readonly recent = new Map<string, number[]>();
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the partner may send the next request (0 = now); reserves the slot when 0. */
  tryAcquire(partnerId: string): number {
    const t = this.now();
    const stamps = (this.recent.get(partnerId) ?? []).filter((s) => s > t - 1_000);
    if (stamps.length < this.perSecond) {
      stamps.push(t);
      this.recent.set(partnerId, stamps);
      return 0;
    }
    this.recent.set(partnerId, stamps);
    return stamps[0]! + 1_000 - t;
  }

  /** Waits for a slot; heartbeats (at most once a second) while waiting; rejects when `signal` aborts. */
  async acquire(partnerId: string, options: WaitOptions = {}): Promise<void> {
    let lastBeat = -Infinity;
    for (;;) {
      throwIfCancelled(options.signal);
      const wait = this.tryAcquire(partnerId);
      if (wait <= 0) return;
      const t = this.now();
      if (t - lastBeat >= Math.min(1_000, options.heartbeatEveryMs ?? 1_000)) {
        options.heartbeat?.();
        lastBeat = t;
      }
      await sleepUnlessCancelled(wait, options.signal);
    }
  }
}
