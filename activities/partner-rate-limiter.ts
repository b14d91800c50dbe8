/**
 * Client-side rate limit per partner id (OTTO: 20 requests/s per partner, docs/otto-api.md §5), so a worker
 * never earns a 429 by itself. A sliding one-second window; callers wait for a free slot, heartbeating
 * while they wait and giving up at once when their activity is cancelled.
 *
 * An `urgent` caller (a seller's code exchange, with a person waiting in the browser) takes the next free
 * slot before any ordinary waiter (the mints of background ticks): while an urgent caller waits, ordinary
 * callers stand back even when a slot is free. An ordinary caller that has waited `URGENT_AFTER_MS` counts
 * as urgent from then on, so a long stream of urgent callers (an onboarding wave) delays the others by
 * seconds, never starves them.
 *
 * With `paceOrdinary` (the token endpoint) ordinary callers are also spaced at least 1/N s apart: a
 * clump of background mints (the token queue hands out several at once) would otherwise fill the window
 * in a few milliseconds and leave an urgent caller that arrives just after waiting for most of a second;
 * paced, the window's oldest ordinary request frees a slot within 1/N s. The rate stays N per second.
 */
import { sleepUnlessCancelled, throwIfCancelled, type WaitOptions } from './activity-waits';

/** How long an ordinary caller stands back when a free slot is kept for an urgent one. */
export const URGENT_YIELD_MS = 20;
/** After this long waiting, an ordinary caller competes as an urgent one. */
export const URGENT_AFTER_MS = 30_000;

export interface AcquireOptions extends WaitOptions {
  /** Goes ahead of every ordinary waiter for the same key. */
  urgent?: boolean;
}

export class PartnerRateLimiter {
  private readonly recent = new Map<string, number[]>();
  /** Urgent callers waiting per key. */
  private readonly urgentWaiting = new Map<string, number>();
  /** When each key last granted an ordinary caller a slot (paceOrdinary), and the grant before it. */
  private readonly lastOrdinary = new Map<string, { at: number; before: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly options: { paceOrdinary?: boolean } = {},
  ) {}

  /**
   * Milliseconds until the partner may send the next request (0 = now); reserves the slot when 0. An
   * ordinary caller gets no free slot while an urgent caller waits for the same key.
   */
  tryAcquire(partnerId: string, urgent = false): number {
    const t = this.now();
    const stamps = (this.recent.get(partnerId) ?? []).filter((s) => s > t - 1_000);
    this.recent.set(partnerId, stamps);
    if (stamps.length < this.perSecond) {
      if (!urgent) {
        if ((this.urgentWaiting.get(partnerId) ?? 0) > 0) return URGENT_YIELD_MS;
        if (this.options.paceOrdinary === true) {
          const last = this.lastOrdinary.get(partnerId)?.at ?? -Infinity;
          const next = last + 1_000 / this.perSecond;
          if (t < next) return Math.ceil(next - t);
          this.lastOrdinary.set(partnerId, { at: t, before: last });
        }
      }
      stamps.push(t);
      return 0;
    }
    return stamps[0]! + 1_000 - t;
  }

  /** Gives back a slot `acquire` granted and the caller did not use (its request was never sent). */
  release(partnerId: string): void {
    const stamps = this.recent.get(partnerId);
    if (!stamps || stamps.length === 0) return;
    const freed = stamps.pop();
    // An unused ordinary grant does not hold the next ordinary caller back either.
    const last = this.lastOrdinary.get(partnerId);
    if (last !== undefined && last.at === freed)
      this.lastOrdinary.set(partnerId, { at: last.before, before: -Infinity });
  }

  /** Waits for a slot; heartbeats (at most once a second) while waiting; rejects when `signal` aborts. */
  async acquire(partnerId: string, options: AcquireOptions = {}): Promise<void> {
    let urgent = options.urgent === true;
    throwIfCancelled(options.signal);
    if (this.tryAcquire(partnerId, urgent) <= 0) return;
    const since = this.now();
    const register = () => this.urgentWaiting.set(partnerId, (this.urgentWaiting.get(partnerId) ?? 0) + 1);
    if (urgent) register();
    try {
      let lastBeat = -Infinity;
      for (;;) {
        throwIfCancelled(options.signal);
        if (!urgent && this.now() - since >= URGENT_AFTER_MS) {
          urgent = true;
          register();
        }
        const wait = this.tryAcquire(partnerId, urgent);
        if (wait <= 0) return;
        const t = this.now();
        if (t - lastBeat >= Math.min(1_000, options.heartbeatEveryMs ?? 1_000)) {
          options.heartbeat?.();
          lastBeat = t;
        }
        await sleepUnlessCancelled(
          urgent ? wait : Math.min(wait, since + URGENT_AFTER_MS - t),
          options.signal,
        );
      }
    } finally {
      if (urgent) {
        const left = (this.urgentWaiting.get(partnerId) ?? 1) - 1;
        if (left > 0) this.urgentWaiting.set(partnerId, left);
        else this.urgentWaiting.delete(partnerId);
      }
    }
  }
}
