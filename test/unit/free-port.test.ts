import { createServer } from 'node:net';
import { freePort, handOutRange } from '../../scripts/temporal-dev-server';

describe('freePort (ports handed to child processes)', () => {
  it('draws from just below the OS ephemeral range, which OS-chosen ports never come from', () => {
    expect(handOutRange(() => '32768\t60999\n')).toEqual([20_768, 32_767]);
    expect(handOutRange(() => '40000 65000')).toEqual([28_000, 39_999]);
    // Unreadable (not Linux) or nonsense: below Linux's default, which is below the IANA range too.
    expect(
      handOutRange(() => {
        throw new Error('ENOENT');
      }),
    ).toEqual([20_768, 32_767]);
    expect(handOutRange(() => 'garbage')).toEqual([20_768, 32_767]);
  });

  it('hands out free ports in that range, never one twice, skipping ports in use', async () => {
    const [from, to] = handOutRange();
    const ports = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(from);
      expect(port).toBeLessThanOrEqual(to);
    }
    // A port in use is skipped: the first draw lands on it, the second elsewhere.
    // (One this process never handed out, so only the check that it is bindable can skip it.)
    const busy = createServer();
    let taken = to - 50;
    for (; ; taken--) {
      if (ports.includes(taken)) continue;
      const listening = await new Promise<boolean>((resolve) => {
        busy.once('error', () => resolve(false));
        busy.listen(taken, '127.0.0.1', () => resolve(true));
      });
      if (listening) break;
    }
    try {
      const draws = [(taken - from + 0.5) / (to - from + 1), 0.5];
      const port = await freePort('127.0.0.1', () => draws.shift() ?? Math.random());
      expect(port).not.toBe(taken);
      expect(draws).toEqual([]); // it did draw the busy port first
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
