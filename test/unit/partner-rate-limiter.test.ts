import { PartnerRateLimiter } from '../../activities/partner-rate-limiter';

describe('PartnerRateLimiter (sliding one-second window)', () => {
  it('lets N requests through per partner in any second and says how long the next one waits', () => {
    let now = 10_000;
    const limiter = new PartnerRateLimiter(3, () => now);
    expect([limiter.tryAcquire('p'), limiter.tryAcquire('p'), limiter.tryAcquire('p')]).toEqual([0, 0, 0]);
    now += 400;
    expect(limiter.tryAcquire('p')).toBe(600); // the first slot frees at 11,000
    expect(limiter.tryAcquire('other')).toBe(0); // partners are independent
    now += 600;
    expect(limiter.tryAcquire('p')).toBe(0);
  });

  it('never allows more than N in any window, even across window edges', () => {
    let now = 0;
    const limiter = new PartnerRateLimiter(8, () => now);
    const sent: number[] = [];
    for (let t = 0; t < 5_000; t += 37) {
      now = t;
      if (limiter.tryAcquire('token-endpoint') === 0) sent.push(t);
    }
    for (const start of sent)
      expect(sent.filter((t) => t >= start && t < start + 1_000).length).toBeLessThanOrEqual(8);
    expect(sent.length).toBeGreaterThanOrEqual(36);
  });
});
