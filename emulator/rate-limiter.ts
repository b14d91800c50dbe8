/**
 * "N requests per second" as a sliding window on the injectable clock: a request is refused when N
 * requests were let through in the second before it (any 1,000 ms, not calendar seconds). OTTO does not say
 * how it counts (docs/otto-api.md §5.8); fixed calendar-second windows would let 2 N through within a few
 * milliseconds across a second's boundary, which a sliding or token-bucket limiter at OTTO would refuse, so
 * the emulator takes the stricter reading. Deterministic in tests: freeze the clock, send N + 1 requests,
 * the last is refused; 1,000 ms after the first, one more goes through. A refused request does not use up
 * a slot (it was not served). OTTO documents no rate-limit or Retry-After headers, so a refusal carries
 * none: clients must back off on their own.
 */
export interface RateDecision {
  allowed: boolean;
}

const WINDOW_MS = 1_000;

export class RateLimiter {
  /** Per key, when each request let through in the current window arrived (oldest first). */
  private readonly served = new Map<string, number[]>();

  constructor(
    private readonly limitPerSecond: number,
    private readonly now: () => number,
  ) {}

  take(key: string): RateDecision {
    const now = this.now();
    let times = this.served.get(key);
    if (times === undefined) this.served.set(key, (times = []));
    let expired = 0;
    while (expired < times.length && times[expired]! <= now - WINDOW_MS) expired++;
    times.splice(0, expired);
    if (times.length >= this.limitPerSecond) return { allowed: false };
    times.push(now);
    return { allowed: true };
  }

  clear(): void {
    this.served.clear();
  }
}
