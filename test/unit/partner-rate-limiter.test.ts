import {
  PartnerRateLimiter,
  URGENT_AFTER_MS,
  URGENT_WINDOW_MS,
  URGENT_YIELD_MS,
  WAVE_HOLD_MS,
} from '../../activities/partner-rate-limiter';

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

  describe("urgentHeadroom (the token endpoint: code exchanges up to OTTO's 10/s)", () => {
    /** Every request sent, at 1 ms steps, by whoever asks each millisecond; returns the send times. */
    function drive(
      limiter: PartnerRateLimiter,
      until: number,
      setNow: (t: number) => void,
      ask: (t: number) => boolean[],
    ) {
      const sent: { t: number; urgent: boolean }[] = [];
      for (let t = 0; t < until; t++) {
        setNow(t);
        for (const urgent of ask(t)) if (limiter.tryAcquire('t', urgent) === 0) sent.push({ t, urgent });
      }
      return sent;
    }
    const most = (times: number[], span: number) =>
      Math.max(0, ...times.map((start) => times.filter((t) => t >= start && t < start + span).length));

    it('lets urgent callers use N + H slots while ordinary callers keep to N, never more than N + H in a window', () => {
      let now = 0;
      const limiter = new PartnerRateLimiter(8, () => now, { paceOrdinary: true, urgentHeadroom: 2 });
      // Ordinary callers ask all the time; urgent ones in a burst of 20 from 1.5 s.
      let urgentLeft = 20;
      const sent = drive(
        limiter,
        6_000,
        (t) => (now = t),
        (t) => {
          const asks = [false];
          if (t >= 1_500 && urgentLeft > 0) asks.push(true);
          return asks;
        },
      );
      const urgent = sent.filter((s) => s.urgent);
      urgentLeft -= urgent.length;
      const all = sent.map((s) => s.t);
      // OTTO's 10 in any second, even 100 ms of jitter apart: never more than N + H in the urgent window.
      expect(most(all, URGENT_WINDOW_MS)).toBeLessThanOrEqual(10);
      // Ordinary callers alone never exceed N in a second.
      expect(
        most(
          sent.filter((s) => !s.urgent).map((s) => s.t),
          1_000,
        ),
      ).toBeLessThanOrEqual(8);
      expect(urgent.length).toBeGreaterThan(0);
    });

    it('20 code exchanges at once all go out within two windows (8 + 2 per 1.1 s), not three seconds', () => {
      let now = 0;
      const limiter = new PartnerRateLimiter(8, () => now, { paceOrdinary: true, urgentHeadroom: 2 });
      const times: number[] = [];
      let left = 20;
      for (let t = 0; left > 0 && t < 5_000; t++) {
        now = t;
        while (left > 0 && limiter.tryAcquire('t', true) === 0) {
          times.push(t);
          left--;
        }
      }
      expect(times).toHaveLength(20);
      expect(Math.max(...times)).toBe(URGENT_WINDOW_MS); // 10 at once, the next 10 when the window frees
      // Without headroom, the same 20 at 8 per second: the last goes out after 2 s.
      const plain = new PartnerRateLimiter(8, () => now, { paceOrdinary: true });
      const plainTimes: number[] = [];
      left = 20;
      for (let t = 0; left > 0 && t < 5_000; t++) {
        now = t;
        while (left > 0 && plain.tryAcquire('t', true) === 0) {
          plainTimes.push(t);
          left--;
        }
      }
      expect(Math.max(...plainTimes)).toBe(2_000);
    });

    it('holds ordinary callers back for one urgent window after a code exchange, then lets them go', () => {
      let now = 0;
      const limiter = new PartnerRateLimiter(8, () => now, { paceOrdinary: true, urgentHeadroom: 2 });
      expect(limiter.tryAcquire('t', true)).toBe(0); // a code exchange at 0
      now = 300;
      expect(limiter.tryAcquire('t')).toBe(URGENT_WINDOW_MS - 300); // a mint waits until it left the window
      expect(limiter.tryAcquire('other')).toBe(0); // other keys are not held back
      now = URGENT_WINDOW_MS;
      expect(limiter.tryAcquire('t')).toBe(0);
      // Without headroom (the per-partner data limit) an urgent caller holds no one back.
      const plain = new PartnerRateLimiter(8, () => now);
      expect(plain.tryAcquire('t', true)).toBe(0);
      expect(plain.tryAcquire('t')).toBe(0);
    });

    it('a wave of 20 consents: the mints of the sellers it connects wait, so the last exchange is sent within two windows', () => {
      let now = 0;
      const limiter = new PartnerRateLimiter(8, () => now, { paceOrdinary: true, urgentHeadroom: 2 });
      // Callbacks arrive 25 ms apart; each seller, once its exchange is sent, asks for its first mint 25
      // ms later (its workflow's first tick) and keeps asking until it gets a slot.
      const exchanges: number[] = [];
      const mintsWanted: number[] = [];
      const mints: number[] = [];
      for (let t = 0; t < 10_000 && mints.length < 20; t++) {
        now = t;
        const arrived = Math.min(20, Math.floor(t / 25) + 1);
        while (exchanges.length < arrived && limiter.tryAcquire('t', true) === 0) {
          exchanges.push(t);
          mintsWanted.push(t + 25);
        }
        while (mints.length < mintsWanted.length && mintsWanted[mints.length]! <= t) {
          if (limiter.tryAcquire('t', false, false, t - mintsWanted[mints.length]!) !== 0) break;
          mints.push(t);
        }
      }
      expect(exchanges).toHaveLength(20);
      // 10 in the first window as they arrive, the other 10 as its slots free: none went to a mint.
      expect(Math.max(...exchanges)).toBeLessThanOrEqual(URGENT_WINDOW_MS + 9 * 25);
      expect(Math.min(...mints)).toBeGreaterThan(Math.max(...exchanges));
      expect(mints).toHaveLength(20);
    });

    it('holds an ordinary caller back at most WAVE_HOLD_MS: a lasting stream of consents leaves it free slots', () => {
      let now = 0;
      const limiter = new PartnerRateLimiter(8, () => now, { paceOrdinary: true, urgentHeadroom: 2 });
      // A code exchange every 250 ms (4 per second: the window is never full), a mint asking from 100 ms.
      const mintAt: number[] = [];
      for (let t = 0; t < 5_000 && mintAt.length === 0; t++) {
        now = t;
        if (t % 250 === 0) expect(limiter.tryAcquire('t', true)).toBe(0);
        if (t >= 100 && limiter.tryAcquire('t', false, false, t - 100) === 0) mintAt.push(t);
      }
      expect(mintAt).toEqual([100 + WAVE_HOLD_MS]);
    });

    it('keeps the headroom from an ordinary caller turned urgent by waiting', () => {
      let now = 0;
      const limiter = new PartnerRateLimiter(2, () => now, { urgentHeadroom: 1 });
      expect([limiter.tryAcquire('t'), limiter.tryAcquire('t')]).toEqual([0, 0]);
      now = 10;
      expect(limiter.tryAcquire('t', true, false)).toBe(990); // priority, but no headroom
      expect(limiter.tryAcquire('t', true)).toBe(0); // a code exchange takes the headroom
      expect(limiter.tryAcquire('t', true)).toBe(URGENT_WINDOW_MS - 10); // N + H used in the window
    });
  });
});
