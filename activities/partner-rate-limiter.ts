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
 *
 * With `urgentHeadroom` H (the token endpoint: TOKEN_EXCHANGE_HEADROOM) an urgent caller may also use H
 * slots the others may not: N + H requests in any URGENT_WINDOW_MS (slightly over a second, so that
 * however the network shifts the requests, OTTO never counts more than N + H in one of its seconds).
 * Ordinary callers stay at N in any second, so the headroom is free whenever a code exchange comes.
 * Only a caller urgent from the start uses it; an ordinary caller turned urgent by waiting does not.
 *
 * With headroom, a code exchange also holds ordinary callers back for one URGENT_WINDOW_MS after it was
 * granted: consents come in waves (a shop announces the connector, 20 sellers click within a second),
 * and without this the background mints of the sellers the wave has just connected take slots between
 * its exchanges. 20 exchanges fill two windows exactly, so each such mint pushed the last consent of
 * the wave into a third window (callback → active 2.1 s instead of 1.1 s). The hold lasts at most
 * WAVE_HOLD_MS for each caller: long enough for a wave of 20 to be sent, short enough that a lasting
 * stream of consents (a mass onboarding, exchanges every few hundred ms) does not leave the window's
 * free slots unused while mints wait; after it an ordinary caller takes free slots again (still behind
 * urgent callers that wait). A tick that must mint starts MINT_LEAD_MS (10 s) before its transfers are
 * due, so the hold costs no lateness.
 */
import { sleepUnlessCancelled, throwIfCancelled, type WaitOptions } from './activity-waits';

/** How long an ordinary caller stands back when a free slot is kept for an urgent one. */
export const URGENT_YIELD_MS = 20;
/** After this long waiting, an ordinary caller competes as an urgent one. */
export const URGENT_AFTER_MS = 30_000;
/**
 * The window of the urgent headroom: a slot an urgent caller took frees this long after, not after 1 s,
 * so network jitter up to 100 ms cannot put N + H + 1 requests into one second at OTTO.
 */
export const URGENT_WINDOW_MS = 1_100;
/** The longest a code exchange's window holds one ordinary caller back: two windows, a wave of 20. */
export const WAVE_HOLD_MS = 2 * URGENT_WINDOW_MS;

export interface PartnerRateLimiterOptions {
  /** Ordinary callers at least 1/N s apart. */
  paceOrdinary?: boolean;
  /** Slots only callers urgent from the start may use (default 0). */
  urgentHeadroom?: number;
}

export interface AcquireOptions extends WaitOptions {
  /** Goes ahead of every ordinary waiter for the same key. */
  urgent?: boolean;
}

export class PartnerRateLimiter {
  private readonly recent = new Map<string, number[]>();
  /** Grants to callers urgent from the start (urgentHeadroom only), in the last URGENT_WINDOW_MS. */
  private readonly urgentRecent = new Map<string, number[]>();
  /** Urgent callers waiting per key. */
  private readonly urgentWaiting = new Map<string, number>();
  /** When each key last granted an ordinary caller a slot (paceOrdinary), and the grant before it. */
  private readonly lastOrdinary = new Map<string, { at: number; before: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly options: PartnerRateLimiterOptions = {},
  ) {}

  /**
   * Milliseconds until the partner may send the next request (0 = now); reserves the slot when 0. An
   * ordinary caller gets no free slot while an urgent caller waits for the same key; `headroom` (an
   * urgent caller from the start) may use the urgent headroom. `waitedMs`: how long the caller has
   * waited so far (an ordinary caller is held back for a code exchange's window at most WAVE_HOLD_MS).
   */
  tryAcquire(partnerId: string, urgent = false, headroom = urgent, waitedMs = 0): number {
    const t = this.now();
    const extra = this.options.urgentHeadroom ?? 0;
    const window = extra > 0 ? URGENT_WINDOW_MS : 1_000;
    const stamps = (this.recent.get(partnerId) ?? []).filter((s) => s > t - window);
    this.recent.set(partnerId, stamps);
    // Every request counts against N + H in the urgent window (when there is headroom) …
    const cap = this.perSecond + extra;
    const windowWait = extra > 0 && stamps.length >= cap ? stamps[stamps.length - cap]! + window - t : 0;
    const urgentStamps =
      extra > 0 ? (this.urgentRecent.get(partnerId) ?? []).filter((s) => s > t - URGENT_WINDOW_MS) : [];
    if (extra > 0) this.urgentRecent.set(partnerId, urgentStamps);
    if (headroom && extra > 0) {
      if (windowWait > 0) return windowWait;
      stamps.push(t);
      urgentStamps.push(t);
      return 0;
    }
    // A code exchange in the window (perhaps the first of a wave): ordinary callers wait until it left,
    // each at most WAVE_HOLD_MS.
    const waveWait =
      !urgent && urgentStamps.length > 0 && waitedMs < WAVE_HOLD_MS
        ? Math.min(urgentStamps[urgentStamps.length - 1]! + URGENT_WINDOW_MS - t, WAVE_HOLD_MS - waitedMs)
        : 0;
    // … and everyone else's against N in any second.
    const inSecond = extra > 0 ? stamps.filter((s) => s > t - 1_000) : stamps;
    const secondWait =
      inSecond.length >= this.perSecond ? inSecond[inSecond.length - this.perSecond]! + 1_000 - t : 0;
    if (secondWait > 0 || windowWait > 0 || waveWait > 0) return Math.max(secondWait, windowWait, waveWait);
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

  /** Gives back a slot `acquire` granted and the caller did not use (its request was never sent). */
  release(partnerId: string): void {
    const stamps = this.recent.get(partnerId);
    if (!stamps || stamps.length === 0) return;
    const freed = stamps.pop();
    const urgentStamps = this.urgentRecent.get(partnerId);
    if (urgentStamps !== undefined && urgentStamps[urgentStamps.length - 1] === freed) urgentStamps.pop();
    // An unused ordinary grant does not hold the next ordinary caller back either.
    const last = this.lastOrdinary.get(partnerId);
    if (last !== undefined && last.at === freed)
      this.lastOrdinary.set(partnerId, { at: last.before, before: -Infinity });
  }

  /** Waits for a slot; heartbeats (at most once a second) while waiting; rejects when `signal` aborts. */
  async acquire(partnerId: string, options: AcquireOptions = {}): Promise<void> {
    // Only a caller urgent from the start may use the headroom; one that turns urgent by waiting may not.
    const headroom = options.urgent === true;
    let urgent = headroom;
    throwIfCancelled(options.signal);
    if (this.tryAcquire(partnerId, urgent, headroom) <= 0) return;
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
        const wait = this.tryAcquire(partnerId, urgent, headroom, this.now() - since);
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
