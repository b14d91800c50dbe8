/**
 * Fixed one-second windows on the injectable clock: deterministic in tests (freeze the clock, send N+1
 * requests, the last one is refused) and close enough to OTTO's "N requests per second".
 */
export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until the current window ends (at least 1), for the Retry-After header. */
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { window: number; count: number }>();

  constructor(
    private readonly limitPerSecond: number,
    private readonly now: () => number,
  ) {}

  take(key: string): RateDecision {
    const nowMs = this.now();
    const window = Math.floor(nowMs / 1000);
    const current = this.windows.get(key);
    const entry = current && current.window === window ? current : { window, count: 0 };
    entry.count += 1;
    this.windows.set(key, entry);
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * 1000 - nowMs) / 1000));
    return { allowed: entry.count <= this.limitPerSecond, retryAfterSeconds };
  }

  clear(): void {
    this.windows.clear();
  }
}
