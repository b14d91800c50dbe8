import { createServer } from 'node:net';
import { freePort, handOutRange, processSlice, PORT_SLICES } from '../../scripts/temporal-dev-server';

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

  it('gives each jest worker a slice of its own, and processes outside jest another', () => {
    const range: [number, number] = [20_768, 32_767];
    const slices = [undefined, '1', '2', '3', '4', '5', '6', '7'].map((id) =>
      processSlice(range, id === undefined ? {} : { JEST_WORKER_ID: id }),
    );
    expect(slices[0]).toEqual([20_768, 22_267]);
    expect(slices[1]).toEqual([22_268, 23_767]);
    expect(slices).toHaveLength(PORT_SLICES);
    // No two overlap, and all lie in the range.
    const sorted = [...slices].sort((a, b) => a[0] - b[0]);
    sorted.forEach(([lo, hi], i) => {
      expect(lo).toBeGreaterThanOrEqual(range[0]);
      expect(hi).toBeLessThanOrEqual(range[1]);
      expect(hi).toBeGreaterThan(lo + 1_000);
      if (i > 0) expect(lo).toBeGreaterThan(sorted[i - 1]![1]);
    });
    // Workers beyond seven wrap around the workers' slices, never onto the first; nonsense is "outside jest".
    expect(processSlice(range, { JEST_WORKER_ID: '8' })).toEqual(slices[1]);
    expect(processSlice(range, { JEST_WORKER_ID: '0' })).toEqual(slices[0]);
    expect(processSlice(range, { JEST_WORKER_ID: 'x' })).toEqual(slices[0]);
  });

  it("hands out free ports in this process's slice, never one twice, skipping ports in use", async () => {
    const [from, to] = processSlice(handOutRange());
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
