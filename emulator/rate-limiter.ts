/**
 * Fixed one-second windows on the injectable clock: deterministic in tests (freeze the clock, send N+1
 * requests, the last one is refused) and close enough to OTTO's "N requests per second". OTTO documents
 * no rate-limit or Retry-After headers (docs/otto-api.md §5.8), so a refusal carries none: clients must back
 * off on their own.
 */
export interface RateDecision {
  allowed: boolean;
}

export class RateLimiter {
  private readonly windows = new Map<string, { window: number; count: number }>();

  constructor(
    private readonly limitPerSecond: number,
    private readonly now: () => number,
  ) {}

  take(key: string): RateDecision {
    const window = Math.floor(this.now() / 1000);
    const current = this.windows.get(key);
    const entry = current && current.window === window ? current : { window, count: 0 };
    entry.count += 1;
    this.windows.set(key, entry);
    return { allowed: entry.count <= this.limitPerSecond };
  }

  clear(): void {
    this.windows.clear();
  }
}
