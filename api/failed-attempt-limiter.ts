/**
 * Slows down key guessing: after `maxFailures` failed authentications from one IP within `windowMs`,
 * that IP gets 429 until the window has passed. In memory, per process: a brake for a single instance,
 * not a distributed limit (put one at the proxy for that). Bounded in size so a flood of IPs cannot
 * grow it without limit.
 */
export interface LimiterOptions {
  maxFailures: number;
  windowMs: number;
  maxTrackedIps?: number;
  now?: () => number;
}

export interface FailedAttemptLimiter {
  /** Seconds until the IP may try again, or 0 when it may try now. */
  retryAfterSeconds(ip: string): number;
  recordFailure(ip: string): void;
}

export function createFailedAttemptLimiter(options: LimiterOptions): FailedAttemptLimiter {
  const now = options.now ?? Date.now;
  const maxTracked = options.maxTrackedIps ?? 10_000;
  // Insertion order doubles as age order, so the oldest window is evicted first.
  const windows = new Map<string, { startedAt: number; failures: number }>();

  const current = (ip: string) => {
    const entry = windows.get(ip);
    if (entry && now() - entry.startedAt >= options.windowMs) {
      windows.delete(ip);
      return undefined;
    }
    return entry;
  };

  return {
    retryAfterSeconds(ip) {
      const entry = current(ip);
      if (!entry || entry.failures < options.maxFailures) return 0;
      return Math.max(1, Math.ceil((entry.startedAt + options.windowMs - now()) / 1000));
    },
    recordFailure(ip) {
      const entry = current(ip);
      if (entry) {
        entry.failures += 1;
        return;
      }
      if (windows.size >= maxTracked) {
        const oldest = windows.keys().next();
        if (!oldest.done) windows.delete(oldest.value);
      }
      windows.set(ip, { startedAt: now(), failures: 1 });
    },
  };
}
