/**
 * The status rows (issue 15) in both seller stores: one row per seller, replaced only by a write with a
 * greater (run start, history length, update number), so a late or repeated write from a worker that
 * lost the workflow task, or from an older run, never overwrites a newer one; two handles (a worker
 * and the API) see each other's rows.
 */
import type { ConnectionStatusRow, SellerStore } from '../../store/seller-store';
import { storeBackends, type Backing } from '../support/store-backends';

type Put = Omit<ConnectionStatusRow, 'updatedAt'>;

const T0 = Date.parse('2026-12-01T10:00:00Z');

function row(change: Partial<Put> = {}): Put {
  return {
    sellerId: 'seller-1',
    runId: 'run-a',
    runStartedAt: T0,
    historyLength: 10,
    seq: 3,
    summary: JSON.stringify({ sellerId: 'seller-1', state: 'active' }),
    validUntil: T0 + 3_600_000,
    ...change,
  };
}

const backends = storeBackends('status_rows');

describe.each(backends)('%s store: connection status rows', (_name, makeBacking) => {
  let backing: Backing;
  let store: SellerStore;
  const others: SellerStore[] = [];
  beforeEach(async () => {
    backing = await makeBacking();
    store = await backing.open();
  });
  afterEach(async () => {
    for (const s of others.splice(0)) await s.close();
    await store.close();
    await backing.destroy();
  });

  it('has no row for a seller nobody wrote, and reads back what was written', async () => {
    expect(await store.getConnectionStatus('seller-1')).toBeNull();
    const before = Date.now();
    expect(await store.putConnectionStatus(row())).toBe(true);
    const read = await store.getConnectionStatus('seller-1');
    expect(read).toEqual({ ...row(), updatedAt: expect.any(Number) });
    expect(read!.updatedAt).toBeGreaterThanOrEqual(before);
    expect(read!.updatedAt).toBeLessThanOrEqual(Date.now());
    // Numbers come back as numbers (pg reads bigint as text).
    expect(typeof read!.runStartedAt).toBe('number');
    expect(typeof read!.validUntil).toBe('number');
    expect(await store.getConnectionStatus('seller-2')).toBeNull();
  });

  it('replaces a row only with a strictly newer one: later task, later update of one task, later run', async () => {
    await store.putConnectionStatus(row());
    const state = async () =>
      (JSON.parse((await store.getConnectionStatus('seller-1'))!.summary) as { state: string }).state;
    const summary = (s: string) => JSON.stringify({ sellerId: 'seller-1', state: s });

    // The same key again (a retried write): kept as is.
    expect(await store.putConnectionStatus(row({ summary: summary('same-key') }))).toBe(false);
    expect(await state()).toBe('active');
    // Older: an earlier task of this run, an earlier update of this task, an older run.
    expect(await store.putConnectionStatus(row({ historyLength: 9, seq: 99, summary: summary('x') }))).toBe(
      false,
    );
    expect(await store.putConnectionStatus(row({ seq: 2, summary: summary('x') }))).toBe(false);
    expect(
      await store.putConnectionStatus(
        row({
          runId: 'run-old',
          runStartedAt: T0 - 1,
          historyLength: 5_000,
          seq: 500,
          summary: summary('x'),
        }),
      ),
    ).toBe(false);
    expect(await state()).toBe('active');

    // Newer: a later update of the same task, then a later task.
    expect(await store.putConnectionStatus(row({ seq: 4, summary: summary('paused') }))).toBe(true);
    expect(await state()).toBe('paused');
    expect(
      await store.putConnectionStatus(row({ historyLength: 11, seq: 1, summary: summary('active') })),
    ).toBe(true);
    expect(await state()).toBe('active');

    // A new run (continued as new: a short history again) replaces the old run's row.
    expect(
      await store.putConnectionStatus(
        row({ runId: 'run-b', runStartedAt: T0 + 1, historyLength: 3, seq: 1, validUntil: T0 + 7_200_000 }),
      ),
    ).toBe(true);
    const read = await store.getConnectionStatus('seller-1');
    expect(read).toMatchObject({ runId: 'run-b', historyLength: 3, seq: 1, validUntil: T0 + 7_200_000 });
    // … and the old run writing late changes nothing.
    expect(await store.putConnectionStatus(row({ historyLength: 400, summary: summary('late') }))).toBe(
      false,
    );
    expect((await store.getConnectionStatus('seller-1'))!.runId).toBe('run-b');
  });

  it('keeps sellers apart, and another handle (the API) reads what a worker wrote', async () => {
    const api = await backing.open();
    others.push(api);
    await store.putConnectionStatus(row());
    await store.putConnectionStatus(row({ sellerId: 'seller-2', runId: 'run-z', historyLength: 1, seq: 1 }));
    expect((await api.getConnectionStatus('seller-1'))!.runId).toBe('run-a');
    expect((await api.getConnectionStatus('seller-2'))!.runId).toBe('run-z');
  });

  it('two writers racing on one seller end with the newest row', async () => {
    const other = await backing.open();
    others.push(other);
    const writes = Array.from({ length: 40 }, (_, i) =>
      row({ historyLength: 10 + Math.floor(i / 4), seq: (i % 4) + 1, summary: `{"n":${i}}` }),
    );
    // Shuffled, half through each handle.
    const shuffled = writes.map((w, i) => ({ w, k: (i * 7919) % 41 })).sort((a, b) => a.k - b.k);
    await Promise.all(shuffled.map(({ w }, i) => (i % 2 === 0 ? store : other).putConnectionStatus(w)));
    const read = await store.getConnectionStatus('seller-1');
    expect(read).toMatchObject({ historyLength: 19, seq: 4, summary: '{"n":39}' });
  });
});
