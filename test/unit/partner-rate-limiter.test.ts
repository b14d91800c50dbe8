import { PartnerRateLimiter, URGENT_AFTER_MS, URGENT_YIELD_MS } from '../../activities/partner-rate-limiter';

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

  it('keeps a free slot for an urgent caller: ordinary callers stand back while one waits', async () => {
    jest.useFakeTimers({ now: 50_000 });
    try {
      const limiter = new PartnerRateLimiter(2, Date.now);
      expect([limiter.tryAcquire('t'), limiter.tryAcquire('t')]).toEqual([0, 0]);
      const order: string[] = [];
      // Two background mints wait first, then a code exchange arrives: the exchange goes first.
      const mints = [1, 2].map((i) => limiter.acquire('t').then(() => order.push(`mint ${i}`)));
      await jest.advanceTimersByTimeAsync(300);
      const exchange = limiter.acquire('t', { urgent: true }).then(() => order.push('exchange'));
      await jest.advanceTimersByTimeAsync(700); // the window's first two slots free at 51,000
      await exchange;
      expect(order[0]).toBe('exchange');
      await jest.advanceTimersByTimeAsync(1_000);
      await Promise.all(mints);
      expect(order).toEqual(['exchange', 'mint 1', 'mint 2']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('an ordinary caller is told to stand back briefly, not refused, when only an urgent one waits', async () => {
    let now = 0;
    const limiter = new PartnerRateLimiter(1, () => now);
    expect(limiter.tryAcquire('t')).toBe(0);
    const controller = new AbortController();
    const urgent = limiter.acquire('t', { urgent: true, signal: controller.signal }).catch(() => 'cancelled');
    now = 1_000; // the slot is free again, but the urgent caller (asleep) has not taken it yet
    expect(limiter.tryAcquire('t')).toBe(URGENT_YIELD_MS);
    expect(limiter.tryAcquire('t', true)).toBe(0); // another urgent caller may take it
    controller.abort();
    expect(await urgent).toBe('cancelled');
    now = 2_000;
    expect(limiter.tryAcquire('t')).toBe(0); // a cancelled urgent caller keeps nothing back
  });

  it('never starves an ordinary caller: after URGENT_AFTER_MS it competes as urgent', async () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const limiter = new PartnerRateLimiter(1, Date.now);
      expect(limiter.tryAcquire('t')).toBe(0);
      let mintAt: number | undefined;
      const mint = limiter.acquire('t').then(() => (mintAt = Date.now()));
      // A stream of code exchanges, one new urgent caller every 500 ms, more than the limit can serve.
      const exchanges: Promise<void>[] = [];
      for (let i = 0; i < 200 && mintAt === undefined; i++) {
        exchanges.push(limiter.acquire('t', { urgent: true }));
        await jest.advanceTimersByTimeAsync(500);
      }
      await mint;
      expect(mintAt).toBeGreaterThanOrEqual(URGENT_AFTER_MS);
      expect(mintAt).toBeLessThan(URGENT_AFTER_MS * 3);
      await jest.advanceTimersByTimeAsync(exchanges.length * 1_000 + 5_000);
      await Promise.all(exchanges);
    } finally {
      jest.useRealTimers();
    }
  });

  describe('paceOrdinary (the token endpoint)', () => {
    it('spaces ordinary callers 1/N s apart, still N in any second', () => {
      let now = 0;
      const limiter = new PartnerRateLimiter(8, () => now, { paceOrdinary: true });
      expect(limiter.tryAcquire('t')).toBe(0);
      expect(limiter.tryAcquire('t')).toBe(125); // a clump: the second waits its turn
      now = 125;
      expect(limiter.tryAcquire('t')).toBe(0);
      // Every 125 ms for 3 s: 8 per second, never more.
      const sent = [0, 125];
      for (let t = 126; t < 3_000; t++) {
        now = t;
        if (limiter.tryAcquire('t') === 0) sent.push(t);
      }
      for (const start of sent)
        expect(sent.filter((t) => t >= start && t < start + 1_000).length).toBeLessThanOrEqual(8);
      expect(sent.length).toBe(24);
    });

    it('lets an urgent caller past the pacing: behind a clump of mints it waits at most 1/N s', () => {
      let now = 0;
      const paced = new PartnerRateLimiter(8, () => now, { paceOrdinary: true });
      const unpaced = new PartnerRateLimiter(8, () => now);
      // Background mints as fast as each limiter grants them, for 1.5 s (the token queue's clumps).
      for (let t = 0; t <= 1_500; t++) {
        now = t;
        paced.tryAcquire('t');
        unpaced.tryAcquire('t');
      }
      // A code exchange now: the paced window's oldest mint frees its slot within 125 ms.
      const waits = { paced: paced.tryAcquire('t', true), unpaced: unpaced.tryAcquire('t', true) };
      expect(waits.paced).toBeLessThanOrEqual(125);
      expect(waits.unpaced).toBe(500); // without pacing: 8 in the second's first ms, then a wait
      // Urgent callers are not paced among themselves (a burst of consents goes as fast as the window allows).
      now += waits.paced;
      expect(paced.tryAcquire('t', true)).toBe(0);
    });

    it('release gives back an unused grant: its slot and its place in the pacing', () => {
      let now = 0;
      const limiter = new PartnerRateLimiter(2, () => now, { paceOrdinary: true });
      expect(limiter.tryAcquire('t')).toBe(0);
      now = 500;
      expect(limiter.tryAcquire('t')).toBe(0); // the window is full now
      expect(limiter.tryAcquire('t', true)).toBe(500);
      limiter.release('t'); // the grant at 500 was never sent
      expect(limiter.tryAcquire('t', true)).toBe(0); // its slot is free again…
      limiter.release('t');
      expect(limiter.tryAcquire('t')).toBe(0); // …and an ordinary caller need not wait out its pacing
    });
  });
});
